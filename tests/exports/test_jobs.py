"""Export jobs end to end: request through GraphQL, run, deliver by link or by email."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json
import re
import uuid
from typing import Any

import openpyxl
from sqlalchemy import select, update

from member360.audit.models import AuditEvent
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.exports.jobs import JobRunner
from member360.exports.links import make_token
from member360.exports.models import ExportJob
from member360.orgs.service import OrgInfo, create_org
from tests.exports.conftest import Api, Mailbox, free_port
from tests.factories import at, earn, event, ingest_ok, make_customer, redeem

REQUEST = """mutation($input: RequestExportInput!) { requestExport(input: $input) {
  id status rowCount downloadUrl error } }"""
JOB = "query($id: ID!) { exportJob(id: $id) { id status rowCount downloadUrl expiresAt error attempts } }"


async def seed(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0), name="Asha Rao", email="asha@example.com"),
        earn("c1", 40, when=at(1), reason='=HYPERLINK("http://x","y")'),
        earn("c1", 25, when=at(2), reason="+1"),
        redeem("c1", 30, when=at(3), orderId="-1"),
        event(
            "coupon.issued",
            when=at(4),
            couponId="CP1",
            code="SAVE-1",
            customerId="c1",
            expiresAt=at(200),
        ),
    )


async def drain(runner: JobRunner) -> int:
    """Runs every runnable job (of any org: other tests leave theirs) until none is left."""
    ran = 0
    while await runner.run_once():
        ran += 1
    return ran


def tab_input(tab: str = "POINTS_ACTIVITY", **extra: Any) -> dict[str, Any]:
    return {"customerTab": {"customerId": "c1", "tab": tab}, **extra}


async def test_tab_export_download(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings
) -> None:
    await seed(db, org)
    job = (await api(REQUEST, input=tab_input()))["data"]["requestExport"]
    assert job["status"] == "QUEUED" and job["downloadUrl"] is None
    assert await drain(JobRunner(db, export_settings))
    done = (await api(JOB, id=job["id"]))["data"]["exportJob"]
    assert (done["status"], done["rowCount"]) == ("SUCCEEDED", 3)
    url = done["downloadUrl"]
    assert url.startswith("http://member360.test/exports/")
    # The link names nothing personal: its signed payload holds the job's random id and the
    # org, nothing else (checked decoded: random characters can spell "c1" by chance).
    encoded = url.removeprefix("http://member360.test/exports/").split(".", 1)[0]
    decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    payload = json.loads(decoded)
    assert set(payload) == {"j", "o"} and payload["o"] == org.id
    assert re.fullmatch(r"[0-9a-f]{32}", payload["j"])  # random hex can spell "c1": no
    assert "asha" not in decoded.lower()
    response = await api.client.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"].startswith("attachment;")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    data = book[book.sheetnames[-1]]
    rows = list(data.iter_rows(values_only=True))
    assert rows[0][:5] == ("Date", "Action ID", "Action", "Points", "Running Balance")
    assert [r[3] for r in rows[1:]] == [-30, 25, 40]
    assert [r[4] for r in rows[1:]] == [35, 65, 40]
    assert isinstance(rows[1][0], dt.datetime)
    reasons = {r[6] for r in rows[1:]}
    assert '=HYPERLINK("http://x","y")' in reasons and "+1" in reasons
    for row in data.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s", cell.value


async def test_email_delivery_sends_the_link(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    await seed(db, org)
    job = (
        await api(
            REQUEST, input=tab_input("COUPONS_ISSUED", delivery="EMAIL", email="admin@example.com")
        )
    )["data"]["requestExport"]
    assert await drain(JobRunner(db, export_settings))
    box, _ = mailbox
    assert len(box.messages) == 1
    message = box.messages[0]
    assert message["Subject"] == "Your Member360 export is ready"
    assert message["To"] == "admin@example.com"
    body = message.get_payload(decode=True).decode()
    link = next(
        line for line in body.splitlines() if line.startswith("http://member360.test/exports/")
    )
    assert (await api.client.get(link)).status_code == 200
    # The notification is not sent twice.
    await drain(JobRunner(db, export_settings))
    assert len(box.messages) == 1
    assert (await api(JOB, id=job["id"]))["data"]["exportJob"]["status"] == "SUCCEEDED"


async def test_mail_server_down_the_link_waits_and_the_job_says_so(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings, mailbox: tuple[Mailbox, int]
) -> None:
    await seed(db, org)
    to = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    job_id = (await api(REQUEST, input=tab_input(delivery="EMAIL", email=to)))["data"][
        "requestExport"
    ]["id"]
    # Nothing listens on this port: the export is made, its mail cannot go out.
    down = export_settings.model_copy(update={"smtp_port": free_port(), "job_backoff_seconds": 600})
    await drain(JobRunner(db, down))
    query = "query($id: ID!) { exportJob(id: $id) { status downloadUrl emailedAt } }"
    pending = (await api(query, id=job_id))["data"]["exportJob"]
    assert pending["status"] == "SUCCEEDED" and pending["downloadUrl"]
    assert pending["emailedAt"] is None
    box, _ = mailbox
    assert not [m for m in box.messages if m["To"] == to]
    # The mail server is back and the retry is due: one mail, and the job records it.
    async with db.session(org.id) as session, session.begin():
        await session.execute(
            update(ExportJob)
            .where(ExportJob.public_id == job_id)  # type: ignore[arg-type]
            .values(run_after=dt.datetime.now(dt.UTC))
        )
    await drain(JobRunner(db, export_settings))
    assert len([m for m in box.messages if m["To"] == to]) == 1
    sent = (await api(query, id=job_id))["data"]["exportJob"]["emailedAt"]
    assert sent is not None and sent.endswith("+05:30")  # the org's zone


async def test_bad_addresses_are_refused(db: Database, org: OrgInfo, api: Api) -> None:
    await seed(db, org)
    for email, words in (
        (None, "email: is required"),
        # Refused with every other control character before the resolver runs.
        (
            "admin@example.com\r\nBcc: spy@example.com",
            "requestExport.input.email: control characters are not allowed",
        ),
        ("not-an-address", "is not an email address"),
    ):
        result = await api(REQUEST, input=tab_input(delivery="EMAIL", email=email))
        assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert words in result["errors"][0]["message"]
    unknown = await api(REQUEST, input={"customerTab": {"customerId": "nobody", "tab": "LEADS"}})
    assert "customerTab.customerId: unknown customer" in unknown["errors"][0]["message"]


async def test_tampered_link_403_and_expired_link_410(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings
) -> None:
    await seed(db, org)
    job = (await api(REQUEST, input=tab_input()))["data"]["requestExport"]
    await drain(JobRunner(db, export_settings))
    url = (await api(JOB, id=job["id"]))["data"]["exportJob"]["downloadUrl"]
    token = url.rsplit("/", 1)[1]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert (await api.client.get(f"/exports/{flipped}")).status_code == 403
    assert (await api.client.get("/exports/garbage")).status_code == 403
    async with db.session(org.id) as session, session.begin():
        await session.execute(
            update(ExportJob)
            .where(ExportJob.public_id == job["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert (await api.client.get(url)).status_code == 410
    assert (await api(JOB, id=job["id"]))["data"]["exportJob"]["downloadUrl"] is None


async def test_signature_age_limits_the_link(
    db: Database, org: OrgInfo, export_settings: Settings
) -> None:
    from member360.exports.links import LinkExpired, make_token, read_token

    token = make_token(export_settings, "abc", org.id)
    short = export_settings.model_copy(update={"export_link_days": 1 / 86400})
    await asyncio.sleep(2.1)
    try:
        read_token(short, token)
    except LinkExpired:
        pass
    else:
        raise AssertionError("an old token must be refused as expired")
    assert read_token(export_settings, token).job_public_id == "abc"


async def test_failing_job_retries_then_fails_and_tells_the_requester(
    db: Database,
    org: OrgInfo,
    api: Api,
    export_settings: Settings,
    mailbox: tuple[Mailbox, int],
    tmp_path: Any,
) -> None:
    await seed(db, org)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    broken = export_settings.model_copy(update={"export_dir": blocker})
    job = (await api(REQUEST, input=tab_input(delivery="EMAIL", email="admin@example.com")))[
        "data"
    ]["requestExport"]
    runner = JobRunner(db, broken)
    for _ in range(40):
        await runner.run_once()
        state = (await api(JOB, id=job["id"]))["data"]["exportJob"]
        if state["status"] == "FAILED":
            break
        await asyncio.sleep(0.06)
    assert state["status"] == "FAILED" and state["attempts"] == 3
    assert state["error"]
    box, _ = mailbox
    await runner.run_once()
    assert [m["Subject"] for m in box.messages] == ["Your Member360 export failed"]


async def test_expired_lease_is_taken_over_and_the_job_completes_once(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings
) -> None:
    await seed(db, org)
    job = (await api(REQUEST, input=tab_input()))["data"]["requestExport"]
    crashed = JobRunner(db, export_settings, worker_id="crashed")
    claimed = await crashed.claim()
    assert claimed is not None and claimed.public_id == job["id"]
    other = JobRunner(db, export_settings, worker_id="other")
    assert await other.claim() is None  # the lease is still held
    async with db.session(org.id) as session, session.begin():
        await session.execute(
            update(ExportJob)
            .where(ExportJob.public_id == job["id"])
            .values(lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert await drain(other)
    state = (await api(JOB, id=job["id"]))["data"]["exportJob"]
    assert (state["status"], state["attempts"]) == ("SUCCEEDED", 2)
    # The crashed runner coming back late cannot overwrite the other's result.
    await crashed.execute(claimed)
    async with db.session(org.id) as session:
        row = (
            await session.execute(select(ExportJob).where(ExportJob.public_id == job["id"]))
        ).scalar_one()
    assert row.worker_id == "other" and row.status == "SUCCEEDED"


async def test_jobs_are_invisible_to_other_orgs(db: Database, org: OrgInfo, api: Api) -> None:
    await seed(db, org)
    job = (await api(REQUEST, input=tab_input()))["data"]["requestExport"]
    other = await create_org(db, f"other-{uuid.uuid4().hex[:8]}", name="Other", time_zone="UTC")
    key = await create_api_key(db, other, list(SCOPES))
    assert (await api(JOB, key=key, id=job["id"]))["data"]["exportJob"] is None
    listed = await api("{ exportJobs(first: 10) { edges { node { id } } } }", key=key)
    assert listed["data"]["exportJobs"]["edges"] == []
    mine = await api("{ exportJobs(first: 10) { edges { node { id status } } } }")
    assert [e["node"]["id"] for e in mine["data"]["exportJobs"]["edges"]] == [job["id"]]


async def test_other_orgs_cannot_reach_a_job_its_data_or_its_link(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings
) -> None:
    await seed(db, org)
    job = (await api(REQUEST, input=tab_input()))["data"]["requestExport"]
    await drain(JobRunner(db, export_settings))
    url = (await api(JOB, id=job["id"]))["data"]["exportJob"]["downloadUrl"]
    assert (await api.client.get(url)).status_code == 200
    other = await create_org(db, f"other-{uuid.uuid4().hex[:8]}", name="Other", time_zone="UTC")
    key = await create_api_key(db, other, list(SCOPES))
    # The job by its id, from the other org: as if it did not exist.
    assert await api(JOB, key=key, id=job["id"]) == {"data": {"exportJob": None}}
    # This org's member through the other org's export: unknown there, no job made.
    refused = await api(REQUEST, key=key, input=tab_input())
    assert refused["data"] is None
    assert "customerTab.customerId: unknown customer 'c1'" in refused["errors"][0]["message"]
    # The other org's report export holds only its own (no) rows.
    theirs = await api(
        REQUEST,
        key=key,
        input={"interactionReport": {"from": at(0)[:10], "to": at(10)[:10], "name": "Asha"}},
    )
    await drain(JobRunner(db, export_settings))
    done = (await api(JOB, key=key, id=theirs["data"]["requestExport"]["id"]))["data"]
    assert (done["exportJob"]["status"], done["exportJob"]["rowCount"]) == ("SUCCEEDED", 0)
    # A link signed for the other org naming this org's job serves nothing: the link's org
    # scopes the lookup, so even a correctly signed token cannot cross organizations.
    crossed = make_token(export_settings, job["id"], other.id)
    assert (await api.client.get(f"/exports/{crossed}")).status_code == 404
    # Editing the org inside a real link breaks its signature.
    token = url.rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["o"] = other.id
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    forged_token = forged.decode().rstrip("=") + "." + rest
    assert (await api.client.get(f"/exports/{forged_token}")).status_code == 403


async def test_requests_and_downloads_are_audited(
    db: Database, org: OrgInfo, api: Api, export_settings: Settings
) -> None:
    await seed(db, org)
    job = (await api(REQUEST, input=tab_input()))["data"]["requestExport"]
    await drain(JobRunner(db, export_settings))
    url = (await api(JOB, id=job["id"]))["data"]["exportJob"]["downloadUrl"]
    await api.client.get(url)
    async with db.session(org.id) as session:
        actions = [
            r.action
            for r in (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.org_id == org.id).order_by(AuditEvent.id)
                )
            ).scalars()
        ]
    # The key's first use this hour is audited too (member360.auth.keyuse).
    assert actions == ["api_key.used", "export.requested", "export.downloaded"]
