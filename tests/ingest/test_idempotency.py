"""An event id is an idempotency key: the same event again is a no-op (counted as already
applied); a different event under a used id is an invalid event naming the line."""

from __future__ import annotations

from sqlalchemy import update

from member360.db import Database, table
from member360.orgs.service import OrgInfo
from tests.factories import at, balance, earn, event, ingest, ingest_ok, make_customer, purchase
from tests.ingest.api import IngestCall
from tests.ingest.rows import changed_tables, org_rows

USED = "id already used by a different event"


async def test_the_same_event_again_is_skipped_however_it_is_written(
    db: Database, org: OrgInfo
) -> None:
    enrolled = make_customer("c1", when="2026-05-01T10:00:00Z")
    earned = earn("c1", 10, when="2026-05-01T10:00:00Z", orderId="", reason="Quiz")
    bought = purchase("c1", "O1", 250, 25, when="2026-05-01T11:00:00Z")
    await ingest_ok(db, org, enrolled, earned, bought)
    again = [
        # keys in another order, the default optedIn written out
        {**dict(reversed(list(enrolled.items()))), "optedIn": True},
        # the same instant in another offset; "" and no orderId are both no order
        {
            **{k: v for k, v in earned.items() if k != "orderId"},
            "occurredAt": "2026-05-01T15:30:00+05:30",
        },
        {**bought, "amount": 250.0},  # 250 and 250.0 are one number
    ]
    outcome = await ingest_ok(db, org, *again)
    assert (outcome.applied, outcome.duplicates) == (0, 3)
    assert await balance(db, org, "c1") == 35


async def test_a_different_event_under_a_used_id_is_refused_naming_the_line(
    db: Database, org: OrgInfo
) -> None:
    first = earn("c1", 10, when=at(1))
    await ingest_ok(db, org, make_customer("c1", when=at(0)), first)
    before = await org_rows(db, org)
    variants = [
        {**first, "points": 11},
        {**first, "reason": "now with a reason"},
        {**first, "occurredAt": at(2)},
        {**first, "type": "points.redeemed", "actionId": 102},
    ]
    for variant in variants:
        outcome = await ingest(db, org, variant)
        assert outcome.error is not None, variant
        assert (outcome.error.position, outcome.error.field) == (1, "id")
        assert outcome.error.message.startswith(USED)
        assert outcome.error.event_id == first["id"]
        assert (outcome.applied, outcome.duplicates) == (0, 0)
    assert changed_tables(before, await org_rows(db, org)) == []
    # What comes before it in the file still applies.
    outcome = await ingest(db, org, earn("c1", 1, when=at(3)), variants[0])
    assert (outcome.applied, outcome.error and outcome.error.position) == (1, 2)
    assert await balance(db, org, "c1") == 11


async def test_ids_used_twice_within_one_import(db: Database, org: OrgInfo) -> None:
    enrolled = make_customer("c1", when=at(0))
    earned = earn("c1", 10, when=at(1))
    outcome = await ingest(db, org, enrolled, earned, dict(earned), {**earned, "points": 99})
    assert outcome.applied == 2 and outcome.duplicates == 1
    assert outcome.error is not None
    assert (outcome.error.position, outcome.error.field) == (4, "id")
    assert USED in outcome.error.message
    assert await balance(db, org, "c1") == 10


async def test_partial_updates_tell_a_cleared_field_from_a_left_out_one(
    db: Database, org: OrgInfo
) -> None:
    """customer.updated with "mobile": null clears the mobile; without it, keeps it."""
    await ingest_ok(db, org, make_customer("c1", when=at(0)))
    cleared = event("customer.updated", when=at(1), customerId="c1", mobile=None)
    await ingest_ok(db, org, cleared)
    kept = {k: v for k, v in cleared.items() if k != "mobile"}
    outcome = await ingest(db, org, kept)
    assert outcome.error is not None and outcome.error.field == "id"


async def test_events_applied_before_fingerprints_were_kept(db: Database, org: OrgInfo) -> None:
    """Rows from before migration 0006 have no fingerprint: the same type counts as the same
    event (as it always did), another type is refused."""
    earned = earn("c1", 10, when=at(1))
    await ingest_ok(db, org, make_customer("c1", when=at(0)), earned)
    t = table("ingested_events")
    async with db.session(org.id) as s, s.begin():
        await s.execute(update(t).where(t.c.org_id == org.id).values(fingerprint=None))
    outcome = await ingest_ok(db, org, {**earned, "points": 99})
    assert (outcome.applied, outcome.duplicates) == (0, 1)
    outcome = await ingest(db, org, {**earned, "type": "points.redeemed", "actionId": 102})
    assert outcome.error is not None
    assert (outcome.error.field, outcome.error.position) == ("id", 1)
    assert await balance(db, org, "c1") == 10


async def test_ingest_events_names_the_index_of_a_reused_id(
    db: Database, org: OrgInfo, ingest_events: IngestCall
) -> None:
    first = earn("c1", 10, when=at(1))
    body = await ingest_events([make_customer("c1", when=at(0)), first])
    assert body["data"]["ingestEvents"]["applied"] == 2
    body = await ingest_events([earn("c1", 1, when=at(2)), {**first, "points": 12}])
    result = body["data"]["ingestEvents"]
    assert result["applied"] == 1
    assert result["errors"] == [
        {
            "index": 1,
            "field": "id",
            "message": "id already used by a different event (a new event needs a new id)",
            "eventId": first["id"],
        }
    ]
    assert await balance(db, org, "c1") == 11
