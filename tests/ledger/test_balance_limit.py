"""No event may take a balance beyond GraphQL's Int (2,147,483,647): one big credit is refused by
the range check, many credits summing beyond it by the balance check, naming the field; a
balance of exactly the limit is stored and shown."""

from __future__ import annotations

import datetime as dt

from member360.db import Database
from member360.ingest.limits import INT_MAX
from member360.orgs.service import OrgInfo
from tests.factories import (
    at,
    balance,
    earn,
    event,
    ingest,
    ingest_ok,
    make_customer,
    purchase,
    redeem,
    return_,
    transfer,
)
from tests.ingest.api import QueryCall
from tests.ingest.rows import changed_tables, org_rows

HALF = INT_MAX // 2 + 1  # two of them are one past the limit

MEMBER = """query($id: String!) { customer(customerId: $id) {
  pointsBalance points { activity(first: 5) { edges { node { points runningBalance } } } } } }"""


async def refused(db: Database, org: OrgInfo, bad: dict, field: str) -> str:
    before = await org_rows(db, org)
    outcome = await ingest(db, org, bad)
    assert outcome.error is not None, bad
    assert (outcome.error.field, outcome.applied) == (field, 0)
    assert changed_tables(before, await org_rows(db, org)) == []
    return outcome.error.message


async def test_a_credit_of_three_billion_is_refused_and_the_member_stays_readable(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    await ingest_ok(db, org, make_customer("c1", when=at(0)))
    message = await refused(db, org, earn("c1", 3_000_000_000, when=at(1)), "points")
    assert "at most 2147483647" in message
    body = await graphql(MEMBER, id="c1")
    assert "errors" not in body and body["data"]["customer"]["pointsBalance"] == 0


async def test_credits_summing_beyond_the_limit_are_refused(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX - 10, when=at(1)),
        earn("c1", 10, when=at(2)),  # exactly the limit is fine
    )
    message = await refused(db, org, earn("c1", 1, when=at(3)), "points")
    assert message == (
        "would take the balance of customer 'c1' to 2147483648, "
        "beyond the largest balance 2147483647 (a GraphQL Int)"
    )
    bought = purchase("c1", "O1", 10.0, 5, when=at(3))
    assert "2147483652" in await refused(db, org, bought, "pointsEarned")
    body = await graphql(MEMBER, id="c1")
    assert "errors" not in body, body
    customer = body["data"]["customer"]
    assert customer["pointsBalance"] == INT_MAX
    assert customer["points"]["activity"]["edges"][0]["node"] == {
        "points": 10,
        "runningBalance": INT_MAX,
    }
    # Spending makes room again.
    await ingest_ok(db, org, redeem("c1", 5, when=at(4)), earn("c1", 5, when=at(5)))
    assert await balance(db, org, "c1") == INT_MAX


async def test_transfers_and_merges_cannot_overflow_the_receiver(
    db: Database, org: OrgInfo
) -> None:
    await ingest_ok(
        db,
        org,
        *(make_customer(c, when=at(0)) for c in ("a", "b")),
        earn("a", HALF, when=at(1)),
        earn("b", HALF, when=at(1)),
    )
    assert "to 2147483648" in await refused(db, org, transfer("a", "b", HALF, when=at(2)), "points")
    merge = event("customer.merged", when=at(2), survivorId="a", mergedId="b")
    assert "to 2147483648" in await refused(db, org, merge, "mergedId")
    assert (await balance(db, org, "a"), await balance(db, org, "b")) == (HALF, HALF)


async def test_the_check_counts_the_expiry_that_runs_first(db: Database, org: OrgInfo) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX - 100, when=at(1), expiresAt=soon.isoformat()),
        earn("c1", 100, when=at(1)),
    )
    # At this date the big lot has expired: the balance is 100, and 1,000 more fit.
    later = (soon + dt.timedelta(days=1)).isoformat()
    await ingest_ok(db, org, earn("c1", 1_000, when=later))
    assert await balance(db, org, "c1") == 1_100


async def test_returns_cannot_overflow_what_they_restore_or_record(
    db: Database, org: OrgInfo
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX, when=at(1)),
        redeem("c1", 10, when=at(2), orderId="R1"),
        earn("c1", 10, when=at(3)),
    )
    # Returning R1 gives the 10 redeemed points back: one past the limit.
    assert "to 2147483657" in await refused(db, org, return_("c1", "R1", 1.0, when=at(4)), "amount")
    # An order whose credits sum beyond an Int: the points it would not recover do too.
    await ingest_ok(
        db,
        org,
        redeem("c1", INT_MAX, when=at(5)),
        earn("c1", INT_MAX, when=at(6), orderId="O2"),
        redeem("c1", INT_MAX, when=at(7)),
        earn("c1", INT_MAX, when=at(8), orderId="O2"),
        redeem("c1", INT_MAX, when=at(9)),
    )
    message = await refused(db, org, return_("c1", "O2", 1.0, when=at(10)), "orderId")
    assert "exceed 2147483647" in message
