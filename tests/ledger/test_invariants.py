"""Property-based: over random event sequences the ledger invariants always hold.

balance = sum of signed activities = sum of lots' remaining >= 0 for every member; the stored
lifetime sums are the member's credits (and the group points on them); every redemption's
breakup sums to the redemption; no activity has zero points; and an event that is refused
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from member360.db import Database, table
from member360.orgs.service import OrgInfo, create_org
from tests.factories import event, ingest, ledger_totals
from tests.ingest.rows import changed_tables, org_rows
from tests.ledger.credits import assert_lifetime_sums_kept

MEMBERS = ["m1", "m2", "m3"]

step = st.fixed_dictionaries
operation = st.one_of(
    step(
        {
            "op": st.just("earn"),
            "m": st.sampled_from(MEMBERS),
            "points": st.integers(1, 500),
            "validity": st.one_of(st.none(), st.integers(1, 200)),
            "campaign": st.booleans(),
            "order": st.one_of(st.none(), st.integers(1, 4)),
        }
    ),
    step(
        {
            "op": st.just("redeem"),
            "m": st.sampled_from(MEMBERS),
            "points": st.integers(1, 600),
            "order": st.one_of(st.none(), st.integers(1, 4)),
        }
    ),
    step(
        {
            "op": st.just("purchase"),
            "m": st.sampled_from(MEMBERS),
            "order": st.integers(1, 4),
            "amount": st.integers(1, 1000),
            "points": st.integers(0, 300),
        }
    ),
    step(
        {
            "op": st.just("return"),
            "m": st.sampled_from(MEMBERS),
            "order": st.integers(1, 4),
            "amount": st.integers(1, 1000),
        }
    ),
    step(
        {
            "op": st.just("transfer"),
            "m": st.sampled_from(MEMBERS),
            "to": st.sampled_from(MEMBERS),
            "points": st.integers(1, 400),
        }
    ),
    step({"op": st.just("merge"), "m": st.sampled_from(MEMBERS), "to": st.sampled_from(MEMBERS)}),
)
timeline = st.lists(st.tuples(st.integers(0, 60), operation), min_size=1, max_size=25)


def to_event(op: dict[str, Any], when: dt.datetime) -> dict[str, Any]:
    iso = when.isoformat()
    order = f"O{op['m']}-{op['order']}" if op.get("order") else None
    kind = op["op"]
    if kind == "earn":
        extra: dict[str, Any] = (
            {"actionId": 1008, "campaignId": "C1"} if op["campaign"] else {"actionId": 100}
        )
        if op["validity"]:
            extra["expiresAt"] = (when + dt.timedelta(days=op["validity"])).isoformat()
        if order:
            extra["orderId"] = order
        return event("points.earned", when=iso, customerId=op["m"], points=op["points"], **extra)
    if kind == "redeem":
        return event(
            "points.redeemed",
            when=iso,
            customerId=op["m"],
            points=op["points"],
            actionId=102,
            **({"orderId": order} if order else {}),
        )
    if kind == "purchase":
        return event(
            "transaction.purchased",
            when=iso,
            customerId=op["m"],
            orderId=order,
            amount=float(op["amount"]),
            pointsEarned=op["points"],
        )
    if kind == "return":
        return event(
            "transaction.returned",
            when=iso,
            customerId=op["m"],
            orderId=order,
            amount=float(op["amount"]),
        )
    if kind == "transfer":
        return event(
            "points.transferred",
            when=iso,
            transferId=f"T-{uuid.uuid4().hex[:8]}",
            senderId=op["m"],
            receiverId=op["to"],
            points=op["points"],
            program="P",
        )
    return event("customer.merged", when=iso, survivorId=op["to"], mergedId=op["m"])


async def check_invariants(db: Database, org: OrgInfo) -> None:
    for customer_id, balance, activity_sum, lot_sum in await ledger_totals(db, org):
        assert balance == activity_sum == lot_sum, (customer_id, balance, activity_sum, lot_sum)
        assert balance >= 0, customer_id
    await assert_lifetime_sums_kept(db, org)
    pa, lc = table("points_activities"), table("lot_consumptions")
    async with db.session(org.id) as s:
        zero = await s.scalar(
            select(func.count()).select_from(pa).where(pa.c.org_id == org.id, pa.c.points == 0)
        )
        assert zero == 0
        breakup = (
            select(lc.c.activity_id, func.sum(lc.c.points).label("taken"))
            .where(lc.c.org_id == org.id)
            .group_by(lc.c.activity_id)
            .subquery()
        )
        rows = (
            await s.execute(
                select(pa.c.id, pa.c.points, breakup.c.taken)
                .outerjoin(breakup, breakup.c.activity_id == pa.c.id)
                .where(pa.c.org_id == org.id, pa.c.kind == "REDEEM")
            )
        ).all()
        for activity_id, points, taken in rows:
            assert -points == taken, (activity_id, points, taken)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=timeline)
async def test_random_histories_keep_the_invariants(
    db: Database, steps: list[tuple[int, dict[str, Any]]]
) -> None:
    org = await create_org(
        db, f"prop-{uuid.uuid4().hex[:10]}", name="Prop", time_zone="Asia/Kolkata"
    )
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    setup = [event("campaign.defined", when=start.isoformat(), campaignId="C1", name="Camp")]
    setup += [
        event("customer.enrolled", when=start.isoformat(), customerId=m, name=m, optedIn=True)
        for m in MEMBERS
    ]
    outcome = await ingest(db, org, *setup)
    assert outcome.error is None
    when = start
    for gap_days, op in steps:
        when += dt.timedelta(days=gap_days, minutes=1)
        before = await org_rows(db, org)
        outcome = await ingest(db, org, to_event(op, when))
        if outcome.error is not None:
            # A refused event applies nothing, not even the expiry it would have run first.
            assert changed_tables(before, await org_rows(db, org)) == [], (op, outcome.error)
        await check_invariants(db, org)
