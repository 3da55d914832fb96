"""The All Interactions report as a workbook: the on-screen columns, rows from the report's own
statements (reports/interactions.py), streamed batch by batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

from member360.db import Database
from member360.exports.xlsx import Column, WorkbookInfo
from member360.orgs.service import OrgInfo
from member360.reports.interactions import ReportFilter, ReportRow, iter_rows

Cell = Callable[[ReportRow], Any]

# The seed list, in order, plus Custom ID; (title, kind, value, shown when).
BASE_COLUMNS: list[tuple[str, str, Cell, str | None]] = [
    ("Date", "date", lambda r: r.date, None),
    ("Name", "text", lambda r: r.name, None),
    ("User ID", "text", lambda r: r.user_id, None),
    ("Email", "text", lambda r: r.email, None),
    ("Actions ID", "int", lambda r: r.action_id, None),
    ("Actions", "text", lambda r: r.action_name, None),
    ("Order ID", "text", lambda r: r.order_id, None),
    # Part of a row's key (contract: one row per member, day, action, order and custom id), and
    # on screen, so the workbook shows it too or two rows would look like duplicates.
    ("Custom ID", "text", lambda r: r.custom_id, None),
    ("Coupon", "text", lambda r: r.coupon, None),
    ("Points", "int", lambda r: r.points, None),
    ("Group Points", "int", lambda r: r.group_points, "hierarchy"),
    ("Points Expiration Date", "date", lambda r: r.points_expiration_date, None),
    ("Reason", "text", lambda r: r.reason, None),
    ("Source", "text", lambda r: r.source, None),
    ("Opt-In Status", "bool", lambda r: r.opt_in_status, None),
    ("Section ID", "text", lambda r: r.section_id, "surveys"),
    ("Section Name", "text", lambda r: r.section_name, "surveys"),
    ("Survey ID", "text", lambda r: r.survey_id, "surveys"),
    ("Survey Name", "text", lambda r: r.survey_name, "surveys"),
]
EXTENDED_COLUMNS: dict[str, tuple[str, str, Cell]] = {
    "SENDER_ID": ("Sender ID", "text", lambda r: r.sender_id),
    "RECEIVER_ID": ("Receiver ID", "text", lambda r: r.receiver_id),
    "PHONE_NUMBER": ("Phone Number", "text", lambda r: r.phone_number),
    "USER_ROLE": ("User Role", "text", lambda r: r.user_role),
    "STORE_ID": ("Store ID", "text", lambda r: r.store_id),
    "STORE_NAME": ("Store Name", "text", lambda r: r.store_name),
    "STORE_REGION": ("Store Region", "text", lambda r: r.store_region),
    "STORE_TYPE": ("Store Type", "text", lambda r: r.store_type),
}


def report_columns(org: OrgInfo) -> list[tuple[str, str, Cell]]:
    """Group Points only with hierarchy, survey columns only with surveys, extended attributes
    as the organization configured them (in the contract's order)."""
    features = {"hierarchy": org.hierarchy, "surveys": org.surveys}
    columns = [(t, k, v) for t, k, v, needs in BASE_COLUMNS if needs is None or features[needs]]
    columns += [EXTENDED_COLUMNS[a] for a in EXTENDED_COLUMNS if a in org.extended_attributes]
    return columns


async def report_workbook(
    db: Database, org: OrgInfo, params: dict[str, Any], generated: dt.datetime
) -> tuple[list[Column], AsyncIterator[list[list[Any]]], WorkbookInfo]:
    report_filter = ReportFilter.from_params(params["filter"]).checked()
    columns = report_columns(org)
    pii = bool(params.get("pii"))

    async def batches() -> AsyncIterator[list[list[Any]]]:
        async for rows in iter_rows(db, org, report_filter, pii=pii):
            yield [[value(row) for _, _, value in columns] for row in rows]

    described = ", ".join(f"{k}={v}" for k, v in report_filter.as_params().items())
    info = WorkbookInfo(
        title="All Interactions",
        notes=[
            ("Organization", org.name),
            ("Filters", described),
            ("Time zone", org.time_zone),
            ("Generated at", generated.isoformat(timespec="seconds")),
        ],
        time_zone=org.time_zone,
    )
    return [Column(t, k) for t, k, _ in columns], batches(), info  # type: ignore[arg-type]
