"""The ledger rules of the contract, each driven through the importer on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from member360.db import Database, table
from member360.orgs.service import OrgInfo
from tests.factories import (
    activities,
    at,
    balance,
    earn,
    event,
    ingest,
    ingest_ok,
    ledger_totals,
    make_customer,
    purchase,
    redeem,
    return_,
    transfer,
)


async def breakup_of(db: Database, org: OrgInfo, activity_id: int) -> list[tuple[int, int]]:
    lc, lots = table("lot_consumptions"), table("lots")
    async with db.session(org.id) as s:
        rows = await s.execute(
            select(lots.c.points, lc.c.points)
            .join(lots, lots.c.id == lc.c.lot_id)
            .where(lc.c.org_id == org.id, lc.c.activity_id == activity_id)
            .order_by(lc.c.id)
        )
        return [(int(r[0]), int(r[1])) for r in rows]


async def test_credit_creates_lot_with_default_validity(db: Database, org: OrgInfo) -> None:
    await ingest_ok(db, org, make_customer("c1"), earn("c1", 40, when=at(1)))
    lots = table("lots")
    async with db.session(org.id) as s:
        lot = (await s.execute(select(lots).where(lots.c.org_id == org.id))).mappings().one()
    assert lot["points"] == lot["remaining"] == 40
    assert lot["expires_at"] - lot["earned_at"] == dt.timedelta(days=365)


async def test_redemption_consumes_earliest_expiry_first_with_breakup(
    db: Database, org: OrgInfo
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1"),
        earn("c1", 100, when=at(1), expiresAt=at(300)),
        earn("c1", 50, when=at(2), expiresAt=at(30)),  # earned later, expires first
        earn("c1", 70, when=at(3), expiresAt=at(300)),  # same expiry as the first: earned later
        redeem("c1", 130, when=at(4)),
    )
    redemption = [a for a in await activities(db, org, "c1") if a["kind"] == "REDEEM"][0]
    assert redemption["points"] == -130
    assert await breakup_of(db, org, redemption["id"]) == [(50, 50), (100, 80)]
    assert await balance(db, org, "c1") == 90


async def test_lots_expire_before_the_next_event_dated_at_expiry(
    db: Database, org: OrgInfo
) -> None:
    outcome = await ingest(
        db,
        org,
        make_customer("c1"),
        earn("c1", 100, when=at(1), expiresAt=at(10)),
        earn("c1", 20, when=at(2)),
        redeem("c1", 50, when=at(11)),  # only the 20 points are left by then
    )
    assert outcome.error is not None
    assert (outcome.error.position, outcome.error.field) == (4, "points")
    assert "balance of 20" in outcome.error.message
    expiry = [a for a in await activities(db, org, "c1") if a["action_id"] == 103]
    assert [(a["points"], a["occurred_at"].isoformat()) for a in expiry] == [(-100, at(10))]


async def test_import_end_expires_up_to_now(db: Database, org: OrgInfo) -> None:
    outcome = await ingest_ok(
        db, org, make_customer("c1", when=at(-500)), earn("c1", 25, when=at(-400))
    )
    # Earned 500 days ago with a 365-day validity: the import's closing sweep expires it.
    assert outcome.expired_points == 25
    assert await balance(db, org, "c1") == 0


async def test_purchase_earning_zero_records_the_transaction_only(
    db: Database, org: OrgInfo
) -> None:
    await ingest_ok(db, org, make_customer("c1"), purchase("c1", "O1", 99.0, 0))
    assert await activities(db, org, "c1") == []
    tx = table("transactions")
    async with db.session(org.id) as s:
        rows = (
            await s.execute(select(tx.c.order_id, tx.c.points_earned).where(tx.c.org_id == org.id))
        ).all()
    assert [tuple(r) for r in rows] == [("O1", 0)]


async def test_partial_return_reverses_in_proportion_rounded_down(
    db: Database, org: OrgInfo
) -> None:
    now = dt.datetime.now(dt.UTC)
    w = lambda d: (now - dt.timedelta(days=30 - d)).isoformat()  # noqa: E731  recent: nothing expires
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=w(0)),
        event("campaign.defined", when=w(0), campaignId="DIWALI", name="Diwali Double"),
        purchase("c1", "O1", 300.0, 101, when=w(1)),
        earn("c1", 33, when=w(1), actionId=1008, campaignId="DIWALI", orderId="O1"),
        return_("c1", "O1", 100.0, when=w(2), storeId="S9", source="ECOM"),
    )
    reversals = [a for a in await activities(db, org, "c1") if a["kind"] == "REVERSAL"]
    assert [
        (a["action_id"], a["points"], a["reason"], a["store_id"], a["source"]) for a in reversals
    ] == [
        (101, -33, None, "S9", "ECOM"),  # floor(101 / 3)
        (1008, -11, "Diwali Double - Returned", "S9", "ECOM"),
    ]
    # Returning the rest reverses exactly what is left: the whole order adds up.
    await ingest_ok(db, org, return_("c1", "O1", 200.0, when=w(3)))
    acts = await activities(db, org, "c1")
    assert (
        sum(a["points"] for a in acts if a["kind"] == "REVERSAL" and a["action_id"] == 101) == -101
    )
    assert (
        sum(a["points"] for a in acts if a["kind"] == "REVERSAL" and a["action_id"] == 1008) == -33
    )
    assert await balance(db, org, "c1") == 0


async def test_return_reverses_the_group_points_earned_on_the_order(
    db: Database, org: OrgInfo
) -> None:
    now = dt.datetime.now(dt.UTC)
    w = lambda d: (now - dt.timedelta(days=30 - d)).isoformat()  # noqa: E731  recent: nothing expires
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=w(0)),
        purchase("c1", "O1", 300.0, 90, when=w(1), groupPoints=31),
        return_("c1", "O1", 100.0, when=w(2)),
    )
    reversal = [a for a in await activities(db, org, "c1") if a["kind"] == "REVERSAL"]
    # A third of the order: floor(90 / 3) points and floor(31 / 3) of the group's points.
    assert [(a["points"], a["group_points"]) for a in reversal] == [(-30, -10)]
    await ingest_ok(db, org, return_("c1", "O1", 200.0, when=w(3)))
    acts = await activities(db, org, "c1")
    # The whole order, returned in parts, takes back exactly what the group earned.
    assert sum(a["group_points"] or 0 for a in acts) == 0
    tx = table("transactions")
    async with db.session(org.id) as s:
        returns = (
            await s.execute(
                select(tx.c.group_points)
                .where(tx.c.org_id == org.id, tx.c.type == "RETURN")
                .order_by(tx.c.id)
            )
        ).scalars()
        assert list(returns) == [-10, -21]


async def test_return_restores_redeemed_points_onto_their_lots(db: Database, org: OrgInfo) -> None:
    now = dt.datetime.now(dt.UTC)
    w = lambda d: (now - dt.timedelta(days=30 - d)).isoformat()  # noqa: E731
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=w(0)),
        earn("c1", 40, when=w(0), expiresAt=(now + dt.timedelta(days=100)).isoformat()),
        earn("c1", 60, when=w(0), expiresAt=(now + dt.timedelta(days=200)).isoformat()),
        purchase("c1", "O1", 500.0, 0, when=w(1)),
        redeem("c1", 70, when=w(1), orderId="O1"),
        return_("c1", "O1", 500.0, when=w(2)),
    )
    acts = await activities(db, org, "c1")
    restore = [a for a in acts if a["kind"] == "RESTORE"]
    redemption = [a for a in acts if a["kind"] == "REDEEM"][0]
    assert [(a["action_id"], a["points"], a["redemption_id"]) for a in restore] == [
        (101, 70, redemption["id"])
    ]
    assert redemption["points_reversed"] == 70
    # The credit shows when its points next expire: the sooner of the two lots it refilled
    # (the report's pointsExpirationDate reads it).
    soonest = (now + dt.timedelta(days=100)).replace(microsecond=0)
    assert restore[0]["expires_at"].replace(microsecond=0) == soonest
    lots = table("lots")
    async with db.session(org.id) as s:
        rows = (
            await s.execute(
                select(lots.c.points, lots.c.remaining)
                .where(lots.c.org_id == org.id)
                .order_by(lots.c.expires_at)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(40, 40), (60, 60)]
    assert await balance(db, org, "c1") == 100


async def test_restored_part_of_an_expired_lot_expires_at_once(db: Database, org: OrgInfo) -> None:
    now = dt.datetime.now(dt.UTC)
    w = lambda d: (now - dt.timedelta(days=30 - d)).isoformat()  # noqa: E731
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=w(0)),
        earn("c1", 50, when=w(0), expiresAt=w(5)),
        earn("c1", 50, when=w(0)),
        redeem("c1", 60, when=w(1), orderId="O1"),  # 50 from the short lot, 10 from the other
        return_("c1", "O1", 1.0, when=w(10)),
    )
    acts = await activities(db, org, "c1")
    last = [(a["kind"], a["points"], a["occurred_at"].isoformat()) for a in acts[-2:]]
    assert last == [("RESTORE", 60, w(10)), ("EXPIRY", -50, w(10))]
    assert await balance(db, org, "c1") == 50


async def test_unrecoverable_reversal_stops_at_zero(db: Database, org: OrgInfo) -> None:
    now = dt.datetime.now(dt.UTC)
    w = lambda d: (now - dt.timedelta(days=30 - d)).isoformat()  # noqa: E731
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=w(0)),
        purchase("c1", "O1", 100.0, 80, when=w(1)),
        redeem("c1", 50, when=w(2)),  # not against the order
        return_("c1", "O1", 100.0, when=w(3)),
    )
    reversal = [a for a in await activities(db, org, "c1") if a["kind"] == "REVERSAL"]
    assert [(a["points"], a["points_unrecovered"]) for a in reversal] == [(-30, 50)]
    assert await balance(db, org, "c1") == 0
    tx = table("transactions")
    async with db.session(org.id) as s:
        row = (
            await s.execute(
                select(tx.c.points_earned, tx.c.points_unrecovered).where(
                    tx.c.org_id == org.id, tx.c.type == "RETURN"
                )
            )
        ).one()
    assert tuple(row) == (-30, 50)


async def test_transfer_moves_points_between_opted_in_members(db: Database, org: OrgInfo) -> None:
    now = dt.datetime.now(dt.UTC)
    when = (now - dt.timedelta(days=1)).isoformat()
    await ingest_ok(
        db,
        org,
        make_customer("a", when=when),
        make_customer("b", when=when),
        earn("a", 100, when=when),
        transfer("a", "b", 30, when=when),
    )
    out = [a for a in await activities(db, org, "a") if a["action_id"] == 176]
    into = [a for a in await activities(db, org, "b") if a["action_id"] == 176]
    assert [(a["kind"], a["points"]) for a in out] == [("TRANSFER_OUT", -30)]
    assert [(a["kind"], a["points"]) for a in into] == [("TRANSFER_IN", 30)]
    assert out[0]["transfer_id"] == into[0]["transfer_id"]
    assert into[0]["expires_at"] - into[0]["occurred_at"] == dt.timedelta(days=365)
    assert (await balance(db, org, "a"), await balance(db, org, "b")) == (70, 30)


async def test_transfer_needs_both_members_opted_in(db: Database, org: OrgInfo) -> None:
    outcome = await ingest(
        db,
        org,
        make_customer("a"),
        make_customer("b", optedIn=False),
        earn("a", 10),
        transfer("a", "b", 5),
    )
    assert outcome.error is not None
    assert (outcome.error.position, outcome.error.field) == (4, "receiverId")
    assert "opted in" in outcome.error.message
    assert outcome.applied == 3


async def test_members_not_opted_in_still_earn_and_redeem(db: Database, org: OrgInfo) -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    await ingest_ok(
        db,
        org,
        make_customer("c1", optedIn=False, when=now),
        earn("c1", 10, when=now),
        redeem("c1", 4, when=now),
    )
    assert await balance(db, org, "c1") == 6


async def test_invariants_hold_after_a_mixed_history(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("a"),
        make_customer("b"),
        purchase("a", "O1", 1000.0, 100, when=at(1)),
        redeem("a", 40, when=at(2), orderId="O1"),
        transfer("a", "b", 30, when=at(3)),
        return_("a", "O1", 400.0, when=at(4)),
        earn("b", 5, when=at(400)),
    )
    for customer_id, bal, act_sum, lot_sum in await ledger_totals(db, org):
        assert bal == act_sum == lot_sum >= 0, customer_id
