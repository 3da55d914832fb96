"""A refused event changes nothing at all: not even the expiry that applying it ran first
(issue: earn 70 expiring on day E, earn 5, redeem 75 dated E+1 -> refused, but the 70 had
expired anyway). Through the importer and through ingestEvents alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.factories import activities, balance, earn, event, ingest, ingest_ok, make_customer
from tests.factories import transfer as transfer_event
from tests.ingest.api import IngestCall
from tests.ingest.rows import changed_tables, org_rows

# In the future, so that no expiry "up to now" at the end of an import touches these lots.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
EXPIRES = NOW + dt.timedelta(days=40)


def day(offset: float) -> str:
    return (NOW + dt.timedelta(days=offset)).isoformat()


def members(*ids: str) -> list[dict[str, Any]]:
    return [make_customer(c, when=day(0)) for c in ids]


async def test_a_refused_redemption_leaves_the_lots_it_would_have_expired(
    db: Database, org: OrgInfo
) -> None:
    await ingest_ok(
        db,
        org,
        *members("c1"),
        earn("c1", 70, when=day(1), expiresAt=EXPIRES.isoformat()),
        earn("c1", 5, when=day(1)),
    )
    before = await org_rows(db, org)
    redeem = event("points.redeemed", when=day(41), customerId="c1", points=75, actionId=102)
    outcome = await ingest(db, org, redeem)
    assert outcome.error is not None
    assert outcome.error.field == "points"
    assert "75 exceeds the balance of 5" in outcome.error.message
    assert changed_tables(before, await org_rows(db, org)) == []
    assert await balance(db, org, "c1") == 75
    assert [a["kind"] for a in await activities(db, org, "c1")] == ["EARN", "EARN"]


async def test_a_refused_transfer_expires_neither_side(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        *members("s", "r"),
        earn("s", 70, when=day(1), expiresAt=EXPIRES.isoformat()),
        earn("s", 5, when=day(1)),
        earn("r", 9, when=day(1), expiresAt=EXPIRES.isoformat()),
    )
    before = await org_rows(db, org)
    outcome = await ingest(db, org, transfer_event("s", "r", 60, when=day(41)))
    assert outcome.error is not None
    assert (outcome.error.field, outcome.error.message) == (
        "points",
        "60 exceeds the sender's balance of 5",
    )
    assert changed_tables(before, await org_rows(db, org)) == []


async def test_a_refusal_after_the_expiry_ran_changes_nothing(db: Database, org: OrgInfo) -> None:
    """identifierChanged checks the email after the member's expiry ran."""
    await ingest_ok(
        db, org, *members("c1"), earn("c1", 70, when=day(1), expiresAt=EXPIRES.isoformat())
    )
    before = await org_rows(db, org)
    bad = event(
        "customer.identifierChanged",
        when=day(41),
        customerId="c1",
        identifierType="EMAIL",
        value="not-an-email",
    )
    outcome = await ingest(db, org, bad)
    assert outcome.error is not None and outcome.error.field == "value"
    assert changed_tables(before, await org_rows(db, org)) == []


async def test_events_before_the_refused_one_keep_their_own_expiry(
    db: Database, org: OrgInfo
) -> None:
    """In one batch: the first redemption's expiry stays, the refused one's expiry does not."""
    await ingest_ok(
        db,
        org,
        *members("c1"),
        earn("c1", 70, when=day(1), expiresAt=EXPIRES.isoformat()),
        earn("c1", 30, when=day(1), expiresAt=(EXPIRES + dt.timedelta(days=10)).isoformat()),
        earn("c1", 5, when=day(1)),
    )
    outcome = await ingest(
        db,
        org,
        event("points.redeemed", when=day(41), customerId="c1", points=1, actionId=102),
        event("points.redeemed", when=day(51), customerId="c1", points=10, actionId=102),
    )
    assert outcome.applied == 1
    assert outcome.error is not None and outcome.error.position == 2
    assert "10 exceeds the balance of 5" in outcome.error.message  # once the 29 expired
    kinds = [(a["kind"], a["points"]) for a in await activities(db, org, "c1")]
    # The 70 expired before the first redemption; the 30 (due before the refused one) did not.
    assert kinds == [("EARN", 70), ("EARN", 30), ("EARN", 5), ("EXPIRY", -70), ("REDEEM", -1)]
    assert await balance(db, org, "c1") == 34


async def test_ingest_events_applies_nothing_of_a_refused_event(
    db: Database, org: OrgInfo, ingest_events: IngestCall
) -> None:
    body = await ingest_events(
        [
            *members("c1"),
            earn("c1", 70, when=day(1), expiresAt=EXPIRES.isoformat()),
            earn("c1", 5, when=day(1)),
        ]
    )
    assert body["data"]["ingestEvents"]["errors"] == []
    before = await org_rows(db, org)
    redeem = event("points.redeemed", when=day(41), customerId="c1", points=75, actionId=102)
    body = await ingest_events([redeem])
    assert body["data"]["ingestEvents"] == {
        "applied": 0,
        "duplicates": 0,
        "errors": [
            {
                "index": 0,
                "field": "points",
                "message": "75 exceeds the balance of 5",
                "eventId": redeem["id"],
            }
        ],
    }
    assert changed_tables(before, await org_rows(db, org)) == []
