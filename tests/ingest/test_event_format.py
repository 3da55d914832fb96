"""The import format's types and limits: integers fit a GraphQL Int, numbers are JSON numbers,
texts hold no control characters (free texts: tab, CR, LF) and stay within their lengths, JSON
objects within their size and depth, timestamps are ISO 8601 strings with an offset. Each
refusal names the field and changes nothing; values at the limits are stored as sent."""

from __future__ import annotations

from typing import Any

import pytest_asyncio
from sqlalchemy import select

from member360.db import Database, table
from member360.ingest import limits
from member360.orgs.service import OrgInfo
from tests.factories import ingest, ingest_ok
from tests.ingest.hostile import seed, template
from tests.ingest.rows import changed_tables, org_rows

BIG = 2**31  # one past GraphQL Int
# The attributes object is level 1; each object or list inside it one more.
NESTED_11 = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": ["deep"]}}}}}}}}}}

# (event type, fields to change, field the error names, words of the reason)
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    # integers: GraphQL Int, JSON integers only (not strings, booleans or 5.0)
    ("points.earned", {"points": BIG}, "points", "at most 2147483647"),
    ("points.earned", {"points": 9223372036854775808}, "points", "at most 2147483647"),
    ("points.earned", {"points": 10**30}, "points", "at most"),
    ("points.earned", {"points": True}, "points", "integer"),
    ("points.earned", {"points": "5"}, "points", "integer"),
    ("points.earned", {"points": 5.0}, "points", "integer"),
    ("points.earned", {"points": 0}, "points", "greater than 0"),
    ("points.earned", {"actionId": BIG}, "actionId", "at most 2147483647"),
    ("points.earned", {"actionId": True}, "actionId", "integer"),
    ("points.earned", {"actionId": "100"}, "actionId", "integer"),
    ("points.earned", {"groupPoints": BIG}, "groupPoints", "at most 2147483647"),
    ("points.earned", {"groupPoints": -1}, "groupPoints", "at least 0"),
    ("points.earned", {"groupPoints": "2"}, "groupPoints", "integer"),
    ("points.earned", {"trackerValue": float(BIG)}, "trackerValue", "at most 2147483647"),
    ("points.earned", {"trackerValue": -(2.0**40)}, "trackerValue", "at least -2147483648"),
    ("points.earned", {"trackerValue": "1.5"}, "trackerValue", "JSON number"),
    ("points.earned", {"trackerValue": True}, "trackerValue", "JSON number"),
    ("points.earned", {"trackerValue": float("nan")}, "trackerValue", "finite"),
    ("points.earned", {"trackerValue": float("inf")}, "trackerValue", "finite"),
    ("transaction.purchased", {"amount": "250"}, "amount", "JSON number"),
    ("transaction.purchased", {"amount": True}, "amount", "JSON number"),
    ("transaction.purchased", {"amount": float(BIG)}, "amount", "at most 2147483647"),
    ("transaction.purchased", {"amount": float("nan")}, "amount", "finite"),
    ("transaction.purchased", {"amount": 0}, "amount", "positive"),
    ("transaction.purchased", {"pointsEarned": BIG}, "pointsEarned", "at most 2147483647"),
    ("transaction.purchased", {"pointsEarned": "25"}, "pointsEarned", "integer"),
    ("transaction.purchased", {"pointsEarned": -1}, "pointsEarned", "at least 0"),
    ("transaction.purchased", {"actionId": 2**40}, "actionId", "at most 2147483647"),
    ("transaction.purchased", {"groupPoints": BIG}, "groupPoints", "at most 2147483647"),
    ("transaction.returned", {"amount": "100"}, "amount", "JSON number"),
    ("points.redeemed", {"points": BIG}, "points", "at most 2147483647"),
    ("points.redeemed", {"actionId": "102"}, "actionId", "integer"),
    ("points.transferred", {"points": BIG}, "points", "at most 2147483647"),
    ("action.defined", {"actionId": BIG}, "actionId", "at most 2147483647"),
    ("action.defined", {"actionId": False}, "actionId", "integer"),
    ("customer.enrolled", {"optedIn": 1}, "optedIn", "true or false"),
    ("customer.enrolled", {"optedIn": "true"}, "optedIn", "true or false"),
    # control characters: none in ids and labels; free texts allow tab, CR and LF only
    ("points.earned", {"reason": "a\x00b"}, "reason", "U+0000 at character 2"),
    ("points.earned", {"reason": "bell\x07"}, "reason", "U+0007"),
    ("points.earned", {"reason": "\ud800"}, "reason", "Unicode"),
    ("points.earned", {"customerId": "c1\x00"}, "customerId", "U+0000"),
    ("points.earned", {"orderId": "O\t1"}, "orderId", "U+0009"),
    ("points.earned", {"source": "POS\n"}, "source", "U+000A"),
    ("customer.enrolled", {"name": "Asha\x00"}, "name", "U+0000"),
    ("customer.enrolled", {"customerId": "\x1b[31m"}, "customerId", "U+001B"),
    ("customer.enrolled", {"tier": "GOLD\r"}, "tier", "U+000D"),
    ("communication.sent", {"subject": "\x1b[31mred"}, "subject", "U+001B"),
    ("communication.sent", {"preview": "a\x0cb"}, "preview", "U+000C"),
    ("store.upserted", {"region": "\x00"}, "region", "U+0000"),
    ("segment.changed", {"segment": "a\nb"}, "segment", "U+000A"),
    ("lead.created", {"status": "OPEN\x00"}, "status", "U+0000"),
    ("event.tracked", {"attributes": {"foo": "a\x00"}}, "attributes.foo", "U+0000"),
    ("event.tracked", {"attributes": {"foo": ["ok", "\x01"]}}, "attributes.foo.1", "U+0001"),
    ("event.tracked", {"attributes": {"fo\x00o": 1}}, 'attributes."fo\\u0000o"', "key"),
    ("event.tracked", {"attributes": {"line\nkey": 1}}, 'attributes."line\\nkey"', "key"),
    ("event.tracked", {"attributes": {"n": float("nan")}}, "attributes.n", "finite"),
    ("lead.created", {"extendedFields": {"a": {"b": "\x00"}}}, "extendedFields.a.b", "U+0000"),
    # lengths
    ("points.earned", {"reason": "x" * 1_001}, "reason", "at most 1,000 characters"),
    ("points.earned", {"reason": "x" * 1_000_000}, "reason", "at most 1,000 characters"),
    ("points.earned", {"rewardName": "x" * 501}, "rewardName", "at most 500 characters"),
    ("points.earned", {"customerId": "c" * 201}, "customerId", "at most 200 characters"),
    ("points.earned", {"source": "s" * 501}, "source", "at most 500 characters"),
    ("store.upserted", {"name": "n" * 501}, "name", "at most 500 characters"),
    ("store.upserted", {"region": "r" * 201}, "region", "at most 200 characters"),
    ("store.upserted", {"storeType": "t" * 201}, "storeType", "at most 200 characters"),
    ("customer.enrolled", {"email": "a@" + "b" * 319}, "email", "at most 320 characters"),
    ("customer.enrolled", {"mobile": "9" * 321}, "mobile", "at most 320 characters"),
    ("customer.enrolled", {"tier": "g" * 201}, "tier", "at most 200 characters"),
    ("customer.enrolled", {"userRole": "u" * 201}, "userRole", "at most 200 characters"),
    ("customer.identifierChanged", {"value": "v" * 321}, "value", "at most 320"),
    ("customer.identifierChanged", {"account": "a" * 501}, "account", "at most 500"),
    ("tier.changed", {"toTier": "t" * 201}, "toTier", "at most 200 characters"),
    ("tier.changed", {"reason": "r" * 1_001}, "reason", "at most 1,000 characters"),
    ("coupon.issued", {"series": "s" * 201}, "series", "at most 200 characters"),
    ("coupon.issued", {"code": "c" * 201}, "code", "at most 200 characters"),
    ("communication.sent", {"subject": "s" * 1_001}, "subject", "at most 1,000 characters"),
    ("communication.sent", {"preview": "p" * 4_001}, "preview", "at most 4,000 characters"),
    ("points.transferred", {"program": "p" * 201}, "program", "at most 200 characters"),
    ("event.tracked", {"event": "e" * 201}, "event", "at most 200 characters"),
    ("lead.created", {"leadType": "t" * 201}, "leadType", "at most 200 characters"),
    ("lead.created", {"leadFor": "f" * 201}, "leadFor", "at most 200 characters"),
    ("lead.updated", {"status": "s" * 201}, "status", "at most 200 characters"),
    ("lead.updated", {"subStatus": "s" * 201}, "subStatus", "at most 200 characters"),
    ("segment.changed", {"toPartition": "p" * 201}, "toPartition", "at most 200 characters"),
    (
        "survey.defined",
        {"sections": [{"sectionId": f"s{i}", "name": "x"} for i in range(1_001)]},
        "sections",
        "at most 1,000 entries",
    ),
    ("event.tracked", {"attributes": {"k": "v" * 10_000}}, "attributes", "10,000 characters"),
    (
        "event.tracked",
        {"attributes": NESTED_11},
        "attributes.a.b.c.d.e.f.g.h.i.j",
        "deeper than 10",
    ),
    (
        "lead.created",
        {"extendedFields": {"k": ["x" * 5_000, "y" * 5_000]}},
        "extendedFields",
        "10,000 characters",
    ),
    # timestamps: ISO 8601 strings with an offset, inside the calendar the API can show
    ("points.earned", {"occurredAt": 1767225600}, "occurredAt", "ISO 8601"),
    ("points.earned", {"occurredAt": "1767225600"}, "occurredAt", "ISO 8601"),
    ("points.earned", {"occurredAt": "2026-01-01"}, "occurredAt", "ISO 8601"),
    ("points.earned", {"occurredAt": "2026-01-01T10:00:00"}, "occurredAt", "ISO 8601"),
    (
        "points.earned",
        {"occurredAt": "0001-01-01T00:00:00+01:00"},
        "occurredAt",
        "between 1970-01-01 and 9000-01-01",
    ),
    ("points.earned", {"occurredAt": "9999-12-31T23:00:00-10:00"}, "occurredAt", "between"),
    ("points.earned", {"expiresAt": 1767225600}, "expiresAt", "ISO 8601"),
    ("coupon.issued", {"expiresAt": "next week"}, "expiresAt", "ISO 8601"),
    ("lead.created", {"lastFollowUpAt": 1767225600}, "lastFollowUpAt", "ISO 8601"),
    ("lead.updated", {"nextFollowUpAt": True}, "nextFollowUpAt", "ISO 8601"),
    # a member always has a name and an opt-in (the columns are NOT NULL)
    ("customer.updated", {"name": None}, "name", "cannot be cleared"),
    ("customer.updated", {"optedIn": None}, "optedIn", "cannot be cleared"),
    # what is no event field at all is quoted and cut, not echoed
    ("points.earned", {"x\x00" + "y" * 500: 1}, '"x\\u0000yyyy', "not a field"),
]


@pytest_asyncio.fixture(loop_scope="session")
async def seeded(db: Database, org: OrgInfo) -> OrgInfo:
    await ingest_ok(db, org, *seed())
    return org


async def test_refused_values_name_the_field_and_change_nothing(
    db: Database, seeded: OrgInfo
) -> None:
    org = seeded
    cases = []
    for kind, changes, field, words in REFUSED:
        prerequisites, valid = template(kind)
        if prerequisites:
            await ingest_ok(db, org, *prerequisites)
        cases.append(({**valid, **changes}, field, words))
    before = await org_rows(db, org)
    wrong = []
    for bad, field, words in cases:
        outcome = await ingest(db, org, bad)
        error = outcome.error
        if error is None or outcome.applied or not error.field.startswith(field):
            wrong.append((bad["type"], field, error))
        elif words not in error.message:
            wrong.append((bad["type"], field, error.message))
    assert wrong == []
    assert changed_tables(before, await org_rows(db, org)) == []


async def test_two_transfers_with_one_id_in_one_import(db: Database, seeded: OrgInfo) -> None:
    _, first = template("points.transferred")
    _, second = template("points.transferred")
    second["transferId"] = first["transferId"]
    outcome = await ingest(db, seeded, first, second)
    assert outcome.applied == 1
    assert outcome.error is not None
    assert (outcome.error.position, outcome.error.field) == (2, "transferId")
    assert "already recorded" in outcome.error.message


async def _stored(db: Database, org: OrgInfo, name: str, column: str, **where: Any) -> Any:
    t = table(name)
    async with db.session(org.id) as s:
        return await s.scalar(
            select(t.c[column]).where(
                t.c.org_id == org.id, *(t.c[k] == v for k, v in where.items())
            )
        )


async def test_values_at_the_limits_are_stored_as_sent(db: Database, seeded: OrgInfo) -> None:
    org = seeded
    _, earned = template("points.earned")
    prefix = "tab\there, CR\r and LF\n"
    reason = prefix + "r" * (limits.REASON_LENGTH - len(prefix))
    earned.update(
        reason=reason,
        customId="k" * limits.ID_LENGTH,
        actionSeriesId=None,  # the series would name the credit instead of the reason
        trackerValue=float(limits.INT_MIN),
        groupPoints=limits.INT_MAX,
        expiresAt="8999-12-31T00:00:00+05:30",
    )
    _, tracked = template("event.tracked")
    nested: Any = "deep"
    for level in range(limits.JSON_OBJECT_DEPTH - 1):
        nested = {f"l{level}": nested}
    tracked["attributes"] = {"nest": nested, "tab": "a\tb", "big": 10**30}
    _, big = template("event.tracked")
    filler = limits.JSON_OBJECT_CHARS - len('{"k":""}')
    big["attributes"] = {"k": "é" * filler}  # characters, not bytes
    _, rich = template("customer.enrolled")
    rich["name"] = "Asha\nRao"
    rich["customerId"] = "m" * limits.ID_LENGTH
    await ingest_ok(db, org, earned, tracked, big, rich)
    assert len(reason) == limits.REASON_LENGTH
    assert await _stored(db, org, "points_activities", "reason", event_id=earned["id"]) == reason
    assert await _stored(db, org, "points_activities", "group_points", event_id=earned["id"]) == (
        limits.INT_MAX
    )
    attributes = await _stored(
        db, org, "behavioral_events", "attributes", tracking_id=tracked["trackingId"]
    )
    assert attributes == tracked["attributes"]
    assert (
        await _stored(db, org, "behavioral_events", "attributes", tracking_id=big["trackingId"])
        == big["attributes"]
    )
    assert await _stored(db, org, "customers", "name", customer_id="m" * 200) == "Asha\nRao"


async def test_timestamps_are_instants_whatever_their_offset(db: Database, seeded: OrgInfo) -> None:
    """ "Z", "+00:00" and "+05:30" name instants; all are stored in UTC."""
    org = seeded
    _, a = template("segment.changed")
    _, b = template("segment.changed")
    a.update(occurredAt="2026-03-01T10:00:00Z", segment="TZ-A")
    b.update(occurredAt="2026-03-01T15:30:00.250+05:30", segment="TZ-B")
    await ingest_ok(db, org, a, b)
    t = table("segment_changes")
    async with db.session(org.id) as s:
        rows = await s.execute(
            select(t.c.segment, t.c.changed_at).where(
                t.c.org_id == org.id, t.c.segment.in_(["TZ-A", "TZ-B"])
            )
        )
        stored = {r.segment: r.changed_at.isoformat() for r in rows}
    assert stored == {
        "TZ-A": "2026-03-01T10:00:00+00:00",
        "TZ-B": "2026-03-01T10:00:00.250000+00:00",
    }
