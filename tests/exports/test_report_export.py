"""The All Interactions report as an Excel export: its columns follow the org's configuration."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import openpyxl

from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.exports.jobs import JobRunner
from member360.orgs.service import OrgInfo, create_org
from tests.exports.conftest import Api
from tests.exports.test_jobs import drain
from tests.factories import earn, event, ingest_ok, make_customer

REQUEST = "mutation($input: RequestExportInput!) { requestExport(input: $input) { id status } }"
JOB = "query($id: ID!) { exportJob(id: $id) { status rowCount downloadUrl error } }"


async def test_report_export_columns_values_and_sheets(
    db: Database, api: Api, export_settings: Settings
) -> None:
    org = await create_org(
        db,
        f"rep-{uuid.uuid4().hex[:8]}",
        name="Report Org",
        time_zone="Asia/Kolkata",
        hierarchy=True,
        surveys=False,
        extended_attributes=["STORE_NAME", "SENDER_ID"],
    )
    key = await create_api_key(db, org, list(SCOPES))
    day = dt.datetime.now(dt.UTC).replace(hour=6, minute=0, second=0, microsecond=0) - dt.timedelta(
        days=3
    )
    w = lambda h: (day + dt.timedelta(hours=h)).isoformat()  # noqa: E731
    await ingest_ok(
        db,
        org,
        event(
            "store.upserted",
            when=w(0),
            storeId="S1",
            name='=HYPERLINK("http://x","y")',
            region="South",
            storeType="Mall",
        ),
        make_customer("c1", when=w(0), name="+1 Asha", email="asha@example.com"),
        make_customer("c2", when=w(0), name="@SUM(1)"),
        earn("c1", 10, when=w(1), orderId="O1", storeId="S1", groupPoints=3),
        earn("c1", 5, when=w(2), orderId="O1", storeId="S1", groupPoints=1),
        earn("c2", 7, when=w(1)),
        earn("c2", 8, when=w(-30)),
    )
    small = export_settings.model_copy(update={"export_sheet_rows": 2})
    api_small = Api(api.client, key)
    start = (day - dt.timedelta(days=2)).date().isoformat()
    end = (day + dt.timedelta(days=1)).date().isoformat()
    job = (
        await api_small(
            REQUEST, input={"interactionReport": {"from": start, "to": end}, "delivery": "DOWNLOAD"}
        )
    )["data"]["requestExport"]
    await drain(JobRunner(db, small))
    state = (await api_small(JOB, id=job["id"]))["data"]["exportJob"]
    assert state["status"] == "SUCCEEDED", state
    assert state["rowCount"] == 3
    book = openpyxl.load_workbook(io.BytesIO((await api.client.get(state["downloadUrl"])).content))
    data_sheets = [name for name in book.sheetnames if name.startswith("Data")]
    assert len(data_sheets) == 2  # 3 rows, 2 per sheet
    header = [c.value for c in book[data_sheets[0]][1]]
    assert header == [
        "Date",
        "Name",
        "User ID",
        "Email",
        "Actions ID",
        "Actions",
        "Order ID",
        "Custom ID",
        "Coupon",
        "Points",
        "Group Points",
        "Points Expiration Date",
        "Reason",
        "Source",
        "Opt-In Status",
        "Sender ID",
        "Store Name",
    ]
    rows = [r for name in data_sheets for r in book[name].iter_rows(min_row=2, values_only=True)]
    by_user = {}
    for r in rows:
        by_user.setdefault(r[2], []).append(r)
    asha = by_user["c1"][0]
    assert asha[1] == "+1 Asha" and asha[9] == 15 and asha[10] == 4  # one order, one day: summed
    assert asha[16] == '=HYPERLINK("http://x","y")'
    assert isinstance(asha[0], dt.datetime | dt.date)
    assert {r[1] for r in by_user["c2"]} == {"@SUM(1)"}
    for name in data_sheets:
        for row in book[name].iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"


async def test_report_export_needs_reports_scope_and_a_valid_range(
    db: Database, org: OrgInfo, api: Api
) -> None:
    key = await create_api_key(db, org, ["exports:write", "customers:read"])
    denied = await api(
        REQUEST, key=key, input={"interactionReport": {"from": "2026-01-01", "to": "2026-01-31"}}
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reversed_ = await api(
        REQUEST, input={"interactionReport": {"from": "2026-02-01", "to": "2026-01-01"}}
    )
    assert reversed_["errors"][0]["message"].startswith("input.interactionReport.to:")
    both = await api(
        REQUEST,
        input={
            "interactionReport": {"from": "2026-01-01", "to": "2026-01-02"},
            "customerTab": {"customerId": "x", "tab": "LEADS"},
        },
    )
    assert "exactly one" in both["errors"][0]["message"]
    no_pii = await create_api_key(db, org, ["exports:write", "reports:read"])
    email = await api(
        REQUEST,
        key=no_pii,
        input={"interactionReport": {"from": "2026-01-01", "to": "2026-01-02", "email": "asha"}},
    )
    assert email["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "pii:read" in email["errors"][0]["message"]
