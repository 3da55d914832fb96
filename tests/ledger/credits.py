"""Reading back a member's lifetime sums, and what the API shows of them, for the credit-cap tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select

from member360.db import Database, table
from member360.ingest.limits import INT_MAX, INT_MIN
from member360.orgs.service import OrgInfo
from tests.factories import BASE
from tests.ingest.api import QueryCall

MEMBER = """query($id: String!) { customer(customerId: $id) {
  customerId pointsBalance
  points { activity(first: 100) { edges { node { occurredAt points runningBalance } } } } } }"""

REPORT = """query($f: InteractionReportFilter!) { interactionReport(filter: $f, first: 500) {
  edges { node { date userId actionId orderId points groupPoints } } } }"""


async def lifetime_sums(db: Database, org: OrgInfo) -> dict[str, tuple[int, int, int, int]]:
    """customerId -> (points_credited, group_points_credited, and both summed from activities)."""
    c, pa = table("customers"), table("points_activities")
    credit = pa.c.points > 0
    async with db.session(org.id) as s:
        sums = (
            select(
                pa.c.customer_id,
                func.sum(case((credit, pa.c.points), else_=0)).label("points"),
                func.sum(case((credit, func.coalesce(pa.c.group_points, 0)), else_=0)).label(
                    "group_points"
                ),
            )
            .where(pa.c.org_id == org.id)
            .group_by(pa.c.customer_id)
            .subquery()
        )
        rows = await s.execute(
            select(
                c.c.customer_id,
                c.c.points_credited,
                c.c.group_points_credited,
                func.coalesce(sums.c.points, 0),
                func.coalesce(sums.c.group_points, 0),
            )
            .outerjoin(sums, sums.c.customer_id == c.c.id)
            .where(c.c.org_id == org.id)
        )
        return {r[0]: (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


async def assert_lifetime_sums_kept(db: Database, org: OrgInfo) -> None:
    """The stored lifetime sums are those of the member's activities, and within the cap."""
    for customer_id, (points, group, summed, group_summed) in (
        await lifetime_sums(db, org)
    ).items():
        assert (points, group) == (summed, group_summed), customer_id
        assert 0 <= points <= INT_MAX and 0 <= group <= INT_MAX, customer_id


async def member_view(graphql: QueryCall, customer_id: str) -> dict[str, Any]:
    """The member (the survivor, for a merged one): its id, balance and activities (newest
    first) as the API answers them, error-free."""
    body = await graphql(MEMBER, id=customer_id)
    assert "errors" not in body, body
    customer = body["data"]["customer"]
    activities = [e["node"] for e in customer["points"]["activity"]["edges"]]
    return {
        "customerId": customer["customerId"],
        "balance": customer["pointsBalance"],
        "activities": activities,
    }


async def report_rows(graphql: QueryCall, days: int = 120) -> list[dict[str, Any]]:
    """Every All Interactions row from a day before BASE on, as the API answers them."""
    start = (BASE - dt.timedelta(days=1)).date()
    body = await graphql(
        REPORT, f={"from": start.isoformat(), "to": (start + dt.timedelta(days=days)).isoformat()}
    )
    assert "errors" not in body, body
    rows = [e["node"] for e in body["data"]["interactionReport"]["edges"]]
    for row in rows:
        for value in (row["points"], row["groupPoints"]):
            assert value is None or INT_MIN <= value <= INT_MAX, row
    return rows
