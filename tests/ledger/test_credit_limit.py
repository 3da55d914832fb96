"""A member's lifetime points (every credit: earned, restored, transferred in, spent or not) and
lifetime group points may not pass GraphQL's Int (2,147,483,647). Debits never take more than the
credits gave, so every sum of a member's activities the API shows fits an Int: the balance, the
running balance (summed in occurredAt order, whatever order the events came in) and each row of
the All Interactions report. A credit past the cap is refused naming its field; nothing of it
applies."""

from __future__ import annotations

import uuid

import pytest_asyncio
from sqlalchemy import update

from member360.db import Database, table
from member360.ingest.limits import INT_MAX
from member360.orgs.service import OrgInfo, create_org
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
from tests.ingest.api import IngestCall, QueryCall
from tests.ingest.rows import changed_tables, org_rows
from tests.ledger.credits import (
    assert_lifetime_sums_kept,
    lifetime_sums,
    member_view,
    report_rows,
)

HALF = INT_MAX // 2 + 1  # two of them are one past the limit


def beyond(customer_id: str, total: int, what: str = "points") -> str:
    return (
        f"would take the lifetime {what} of customer {customer_id!r} to {total}, beyond the "
        f"largest GraphQL Int ({INT_MAX}); every credit counts, spent or not"
    )


@pytest_asyncio.fixture(loop_scope="session")
async def org(db: Database) -> OrgInfo:
    """An organization with a hierarchy: only there does the report show group points."""
    return await create_org(
        db, f"org-{uuid.uuid4().hex[:10]}", name="Acme Groups", time_zone="Asia/Kolkata",
        hierarchy=True,
    )  # fmt: skip


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
    assert (await member_view(graphql, "c1"))["balance"] == 0


async def test_credits_summing_beyond_the_limit_are_refused_and_spending_makes_no_room(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX - 10, when=at(1)),
        earn("c1", 10, when=at(2)),  # exactly the limit is fine
    )
    assert await refused(db, org, earn("c1", 1, when=at(3)), "points") == beyond("c1", INT_MAX + 1)
    bought = purchase("c1", "O1", 10.0, 5, when=at(3))
    assert await refused(db, org, bought, "pointsEarned") == beyond("c1", INT_MAX + 5)
    view = await member_view(graphql, "c1")
    assert view["balance"] == INT_MAX
    newest = view["activities"][0]
    assert (newest["points"], newest["runningBalance"]) == (10, INT_MAX)
    # Redeeming lowers the balance, not what the member was credited.
    await ingest_ok(db, org, redeem("c1", 5, when=at(4)))
    assert await refused(db, org, earn("c1", 5, when=at(5)), "points") == beyond("c1", INT_MAX + 5)
    assert await balance(db, org, "c1") == INT_MAX - 5
    await assert_lifetime_sums_kept(db, org)


async def test_earning_again_what_was_redeemed_the_same_day_is_refused(
    db: Database, org: OrgInfo, graphql: QueryCall, ingest_events: IngestCall
) -> None:
    """Earned, redeemed, earned again under one action on one day: the report's row for that
    action and day would sum the two credits. Refused at the second credit, through the API."""
    await ingest_ok(db, org, make_customer("c1", when=at(0)))
    body = await ingest_events(
        [
            earn("c1", INT_MAX, when=at(1)),
            redeem("c1", INT_MAX, when=at(1, hours=1)),
            earn("c1", INT_MAX, when=at(1, hours=2)),
        ]
    )
    assert "errors" not in body, body
    answer = body["data"]["ingestEvents"]
    assert answer["applied"] == 2
    assert [(e["index"], e["field"], e["message"]) for e in answer["errors"]] == [
        (2, "points", beyond("c1", 2 * INT_MAX))
    ]
    rows = {(r["actionId"], r["points"]) for r in await report_rows(graphql)}
    assert rows == {(100, INT_MAX), (102, -INT_MAX)}
    view = await member_view(graphql, "c1")
    assert [a["runningBalance"] for a in view["activities"]] == [0, INT_MAX]


async def test_group_points_have_a_lifetime_limit_of_their_own(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("g1", when=at(0)),
        earn("g1", 1, when=at(1), groupPoints=INT_MAX),
        redeem("g1", 1, when=at(1, hours=1)),
    )
    again = earn("g1", 1, when=at(1, hours=2), groupPoints=1)
    assert await refused(db, org, again, "groupPoints") == beyond("g1", INT_MAX + 1, "group points")
    bought = purchase("g1", "O1", 10.0, 1, when=at(1, hours=3), groupPoints=7)
    assert "group points of customer 'g1' to 2147483654" in await refused(
        db, org, bought, "groupPoints"
    )
    # Credits without group points still apply (the points' own sum is far from the cap).
    await ingest_ok(db, org, earn("g1", 1, when=at(1, hours=4)))
    rows = await report_rows(graphql)
    assert {(r["actionId"], r["points"], r["groupPoints"]) for r in rows} == {
        (100, 2, INT_MAX),
        (102, -1, None),
    }
    await assert_lifetime_sums_kept(db, org)


async def test_backdated_events_cannot_take_the_running_balance_beyond_an_int(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    """Events apply in file order; the running balance sums in occurredAt order."""
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        make_customer("c2", when=at(0)),
        earn("c1", INT_MAX, when=at(5)),
        redeem("c1", INT_MAX, when=at(6)),
        earn("c2", INT_MAX, when=at(5)),
        # Dated before the credit it spends: the running balance dips below zero first.
        redeem("c2", INT_MAX, when=at(1)),
    )
    # A backdated credit would have run c1 to 2 * INT_MAX on day 5, before the redemption.
    assert await refused(db, org, earn("c1", INT_MAX, when=at(2)), "points") == beyond(
        "c1", 2 * INT_MAX
    )
    # And c2 from -INT_MAX to 0 and on to INT_MAX: fine as a balance, not as lifetime points.
    assert "to 4294967294" in await refused(db, org, earn("c2", INT_MAX, when=at(0)), "points")
    assert [a["runningBalance"] for a in (await member_view(graphql, "c1"))["activities"]] == [
        0,
        INT_MAX,
    ]
    assert [a["runningBalance"] for a in (await member_view(graphql, "c2"))["activities"]] == [
        0,
        -INT_MAX,
    ]
    await report_rows(graphql)


async def test_transfers_count_for_the_receiver(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        *(make_customer(c, when=at(0)) for c in ("a", "b")),
        earn("a", HALF, when=at(1)),
        earn("b", HALF, when=at(1)),
        redeem("b", HALF, when=at(2)),  # b's balance is 0, its lifetime points HALF
    )
    sent = transfer("a", "b", HALF, when=at(3))
    assert await refused(db, org, sent, "points") == beyond("b", 2 * HALF)
    await ingest_ok(db, org, transfer("a", "b", HALF - 1, when=at(3)))
    sums = await lifetime_sums(db, org)
    assert (sums["a"][0], sums["b"][0]) == (HALF, INT_MAX)
    await assert_lifetime_sums_kept(db, org)


async def test_a_merge_adds_the_lifetime_sums_and_is_refused_past_the_cap(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    await ingest_ok(
        db,
        org,
        *(make_customer(c, when=at(0)) for c in ("a", "b", "c", "g1", "g2")),
        earn("a", HALF, when=at(1), groupPoints=5),
        redeem("a", HALF, when=at(1, hours=1)),
        earn("b", HALF, when=at(1)),
        earn("c", 10, when=at(1), groupPoints=3),
        earn("g1", 1, when=at(1), groupPoints=INT_MAX - 1),
        earn("g2", 1, when=at(1), groupPoints=2),
    )
    # a's balance is 0 and b's HALF, but their histories together credited 2 * HALF.
    merge = event("customer.merged", when=at(2), survivorId="a", mergedId="b")
    assert await refused(db, org, merge, "mergedId") == beyond("a", 2 * HALF)
    merge = event("customer.merged", when=at(2), survivorId="g1", mergedId="g2")
    assert await refused(db, org, merge, "mergedId") == beyond("g1", INT_MAX + 1, "group points")

    await ingest_ok(db, org, event("customer.merged", when=at(2), survivorId="a", mergedId="c"))
    sums = await lifetime_sums(db, org)
    assert sums["a"][:2] == (HALF + 10, 8)
    assert sums["c"][:2] == (0, 0)  # its history is the survivor's now
    await assert_lifetime_sums_kept(db, org)
    # The survivor's cap counts the merged member's credits.
    room = INT_MAX - HALF - 10
    assert await refused(db, org, earn("a", room + 1, when=at(3)), "points") == beyond(
        "a", INT_MAX + 1
    )
    await ingest_ok(db, org, earn("a", room, when=at(3)))
    survivor = await member_view(graphql, "c")
    assert (survivor["customerId"], survivor["balance"]) == ("a", room + 10)
    await report_rows(graphql)


async def test_expired_points_still_count(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX, when=at(1), expiresAt=at(2)),
    )
    assert await balance(db, org, "c1") == 0  # expired at the end of that import
    assert await refused(db, org, earn("c1", 1, when=at(3)), "points") == beyond("c1", INT_MAX + 1)


async def test_a_return_counts_the_redeemed_points_it_gives_back(
    db: Database, org: OrgInfo
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX - 10, when=at(1)),
        redeem("c1", 10, when=at(2), orderId="R1"),
        earn("c1", 10, when=at(3)),
    )
    # Returning R1 restores the 10 redeemed points: a credit, 10 past the limit.
    back = return_("c1", "R1", 1.0, when=at(4))
    assert await refused(db, org, back, "amount") == beyond("c1", INT_MAX + 10)
    # With room for it, the restore applies and counts.
    await ingest_ok(db, org, make_customer("c2", when=at(0)), earn("c2", 100, when=at(1)))
    await ingest_ok(
        db, org, redeem("c2", 40, when=at(2), orderId="R2"), return_("c2", "R2", 1.0, when=at(3))
    )
    assert (await lifetime_sums(db, org))["c2"][0] == 140
    await assert_lifetime_sums_kept(db, org)


async def test_a_history_from_before_the_cap_takes_no_credit_and_keeps_returns_in_an_int(
    db: Database, org: OrgInfo, graphql: QueryCall
) -> None:
    """A database imported before migration 0008 may hold a member credited past the cap:
    0008 counts it all, and from then on that member takes no credit, and a return on an order
    whose credits sum past an Int is refused rather than recording a sum the API cannot show."""
    customers = table("customers")

    async def forget_credits() -> None:  # what an import before the cap left behind
        async with db.session(org.id) as s, s.begin():
            await s.execute(
                update(customers)
                .where(customers.c.org_id == org.id, customers.c.customer_id == "c1")
                .values(points_credited=0)
            )

    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        earn("c1", INT_MAX, when=at(6), orderId="O2"),
        redeem("c1", INT_MAX, when=at(7)),
    )
    await forget_credits()
    await ingest_ok(
        db,
        org,
        earn("c1", INT_MAX, when=at(8), orderId="O2"),
        redeem("c1", INT_MAX, when=at(9)),
    )
    async with db.session(org.id) as s, s.begin():  # what 0008's backfill finds
        await s.execute(
            update(customers)
            .where(customers.c.org_id == org.id, customers.c.customer_id == "c1")
            .values(points_credited=2 * INT_MAX)
        )
    stored, _, summed, _ = (await lifetime_sums(db, org))["c1"]
    assert stored == summed == 2 * INT_MAX
    assert await refused(db, org, earn("c1", 1, when=at(10)), "points") == beyond(
        "c1", 2 * INT_MAX + 1
    )
    message = await refused(db, org, return_("c1", "O2", 1.0, when=at(10)), "orderId")
    assert message == "the points to reverse on order 'O2' exceed 2147483647 (a GraphQL Int)"
    # Each of its days is still one credit and one debit: the report shows them.
    assert len(await report_rows(graphql)) == 4


async def test_the_lifetime_sums_follow_every_kind_of_credit(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        *(make_customer(c, when=at(0)) for c in ("a", "b", "c")),
        earn("a", 100, when=at(1), groupPoints=10),
        purchase("a", "O1", 100.0, 50, when=at(2), groupPoints=6),
        redeem("a", 30, when=at(3), orderId="O1"),
        return_("a", "O1", 50.0, when=at(4)),  # restores 15, reverses 25 and 3 group points
        transfer("a", "b", 20, when=at(5)),
        earn("c", 7, when=at(5), groupPoints=1),
        event("customer.merged", when=at(6), survivorId="b", mergedId="c"),
    )
    sums = await lifetime_sums(db, org)
    assert {c: s[:2] for c, s in sums.items()} == {
        "a": (100 + 50 + 15, 16),
        "b": (20 + 7, 1),
        "c": (0, 0),
    }
    await assert_lifetime_sums_kept(db, org)
