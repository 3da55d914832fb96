"""Import behaviour: idempotency, ordering, stopping at the first invalid event."""

from __future__ import annotations

import pytest

from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.factories import (
    activities,
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


async def test_importing_the_same_events_twice_changes_nothing(db: Database, org: OrgInfo) -> None:
    events = [make_customer("c1"), earn("c1", 10, when=at(400)), redeem("c1", 3, when=at(401))]
    first = await ingest_ok(db, org, *events)
    second = await ingest_ok(db, org, *events)
    assert (first.applied, first.duplicates) == (3, 0)
    assert (second.applied, second.duplicates) == (0, 3)
    assert len(await activities(db, org, "c1")) == 2


async def test_stops_at_first_invalid_event_keeping_what_came_before(
    db: Database, org: OrgInfo
) -> None:
    events = [
        make_customer("c1"),
        earn("c1", 10, when=at(400)),
        earn("c1", 5, when=at(401), actionId=999),
        earn("c1", 7, when=at(402)),
    ]
    outcome = await ingest(db, org, *events)
    assert outcome.applied == 2
    assert outcome.error is not None
    assert (outcome.error.position, outcome.error.field) == (3, "actionId")
    assert "999" in outcome.error.message
    assert await balance(db, org, "c1") == 10
    # Fixing the line and re-running the whole file resumes where it stopped.
    events[2] = {**events[2], "actionId": 100}
    resumed = await ingest_ok(db, org, *events)
    assert (resumed.applied, resumed.duplicates) == (2, 2)
    assert await balance(db, org, "c1") == 22


@pytest.mark.parametrize(
    ("bad", "field", "words"),
    [
        (earn("nobody", 5), "customerId", "unknown customer"),
        (earn("c1", 5, actionId=4242), "actionId", "not defined"),
        (earn("c1", 0), "points", "greater than 0"),
        (earn("c1", -3), "points", "greater than 0"),
        (purchase("c1", "O9", -10.0, 1), "amount", "positive"),
        (redeem("c1", 11), "points", "exceeds the balance"),
        (return_("c1", "NOPE", 5.0), "orderId", "unknown order"),
        (transfer("c1", "c1", 1), "receiverId", "differ"),
        (event("points.earned", customerId="c1", points=5), "actionId", "required"),
        (event("points.banked", customerId="c1"), "type", "unknown event type"),
        ({**earn("c1", 5), "occurredAt": "2025-01-01T10:00:00"}, "occurredAt", "offset"),
        (earn("c1", 5, actionId=1008), "campaignId", "required"),
        (
            event("communication.statusChanged", messageId="m-x", status="DELIVERED"),
            "messageId",
            "unknown message",
        ),
        (event("coupon.redeemed", couponId="nope"), "couponId", "unknown coupon"),
        (
            event("lead.updated", leadId="L1", customerId="c1", status="OPEN"),
            "leadId",
            "unknown lead",
        ),
    ],
)
async def test_invalid_events_name_field_and_reason_and_apply_nothing(
    db: Database, org: OrgInfo, bad: dict, field: str, words: str
) -> None:
    now_ish = at(0)  # recent enough that nothing expires between events
    base = [make_customer("c1", when=now_ish), earn("c1", 10, when=now_ish)]
    outcome = await ingest(
        db,
        org,
        *base,
        {
            **bad,
            "occurredAt": bad["occurredAt"]
            if bad.get("occurredAt", "").endswith("00")
            and "+" not in bad["occurredAt"]
            and "Z" not in bad["occurredAt"]
            else now_ish,
        },
    )
    assert outcome.error is not None, "the event should have been refused"
    assert outcome.error.position == 3
    assert outcome.error.field == field
    assert words in outcome.error.message
    assert outcome.applied == 2
    assert await balance(db, org, "c1") == 10
    assert len(await activities(db, org, "c1")) == 1


async def test_merge_moves_history_and_resolves_merged_ids(db: Database, org: OrgInfo) -> None:
    when = at(0)
    await ingest_ok(
        db,
        org,
        make_customer("keep", when=when),
        make_customer("gone", when=when),
        make_customer("friend", when=when),
        earn("keep", 10, when=when),
        earn("gone", 15, when=when),
        earn("friend", 4, when=when),
        transfer("friend", "gone", 4, when=when),
        event(
            "customer.merged",
            when=when,
            survivorId="keep",
            mergedId="gone",
            source="CRM",
            account="ops",
        ),
        earn("gone", 1, when=when),  # the merged id now resolves to the survivor
    )
    assert await balance(db, org, "keep") == 30
    assert await balance(db, org, "gone") == 0
    moved = [a for a in await activities(db, org, "keep") if a["original_customer_id"] is not None]
    assert sorted(a["points"] for a in moved) == [4, 15]
    # The friend's side of the transfer now names the survivor as its counterparty.
    sent = [a for a in await activities(db, org, "friend") if a["kind"] == "TRANSFER_OUT"]
    keep_pk = [a for a in await activities(db, org, "keep")][0]["customer_id"]
    assert [a["counterparty_id"] for a in sent] == [keep_pk]


async def test_concurrent_imports_of_one_org_are_serialised(db: Database, org: OrgInfo) -> None:
    import asyncio

    from tests.factories import ledger_totals

    first = [make_customer(f"a{i}", when=at(0)) for i in range(30)] + [
        earn(f"a{i}", 5, when=at(1)) for i in range(30)
    ]
    second = [make_customer(f"b{i}", when=at(0)) for i in range(30)] + [
        earn(f"b{i}", 7, when=at(1)) for i in range(30)
    ]
    outcomes = await asyncio.gather(ingest(db, org, *first), ingest(db, org, *second))
    assert [o.error for o in outcomes] == [None, None]
    assert [o.applied for o in outcomes] == [60, 60]
    totals = await ledger_totals(db, org)
    assert len(totals) == 60
    assert all(bal == act == lots for _, bal, act, lots in totals)


async def test_blank_ids_and_sources_mean_none(db: Database, org: OrgInfo) -> None:
    when = at(0)
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=when),
        earn("c1", 5, when=when, orderId="", storeId=" ", source="", customId=""),
    )
    (activity,) = await activities(db, org, "c1")
    # An empty order id is no order: one report key, not a second one spelled "".
    assert (activity["order_id"], activity["store_id"], activity["source"]) == (None, None, None)
    assert activity["custom_id"] is None
