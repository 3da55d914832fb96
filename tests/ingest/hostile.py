"""A seeded organization and one valid event of every import type, with every field given.

Tests take a template, spoil one field and check the importer refuses it (naming that field)
and changes nothing. Templates use fresh ids for what they create, so a template that is
applied leaves the next one valid; `prerequisites` are the events a template needs first.
"""

from __future__ import annotations

import itertools
from typing import Any

from member360.ingest.schemas import EVENT_TYPES
from tests.factories import at, event

_serial = itertools.count(1)


def fresh(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


WHEN = at(10)
LATER = at(11)
EXPIRY = at(300)


def seed() -> list[dict[str, Any]]:
    """The organization's state every template refers to."""
    return [
        event("store.upserted", when=at(0), storeId="S1", name="Main St", region="North"),
        event("campaign.defined", when=at(0), campaignId="C1", name="Diwali"),
        event("actionSeries.defined", when=at(0), actionSeriesId="AS1", name="Streak"),
        event(
            "survey.defined",
            when=at(0),
            surveyId="SV1",
            name="NPS",
            sections=[{"sectionId": "SEC1", "name": "Intro"}],
        ),
        *(
            event(
                "customer.enrolled",
                when=at(0),
                customerId=c,
                name=f"Member {c}",
                email=f"{c}@example.com",
                optedIn=True,
            )
            for c in ("c1", "c2")
        ),
        event("points.earned", when=at(1), customerId="c1", points=5000, actionId=100),
        event("points.earned", when=at(1), customerId="c2", points=5000, actionId=100),
    ]


def _store() -> dict[str, Any]:
    return event(
        "store.upserted",
        when=WHEN,
        storeId=fresh("S"),
        name="Mall Road",
        region="West",
        storeType="MALL",
    )


def _enrolled() -> dict[str, Any]:
    return event(
        "customer.enrolled",
        when=WHEN,
        customerId=fresh("m"),
        name="Asha Rao",
        email="asha@example.com",
        mobile="+919000000001",
        optedIn=True,
        tier="GOLD",
        userRole="MEMBER",
        groupId="G1",
    )


def _purchase(order_id: str | None = None) -> dict[str, Any]:
    return event(
        "transaction.purchased",
        when=WHEN,
        customerId="c1",
        orderId=order_id or fresh("O"),
        amount=250.0,
        storeId="S1",
        source="POS",
        pointsEarned=25,
        actionId=100,
        campaignId="C1",
        groupPoints=3,
    )


def _coupon(coupon_id: str | None = None) -> dict[str, Any]:
    return event(
        "coupon.issued",
        when=WHEN,
        couponId=coupon_id or fresh("CP"),
        code=fresh("CODE"),
        customerId="c1",
        series="WELCOME",
        expiresAt=EXPIRY,
    )


def _message(message_id: str | None = None) -> dict[str, Any]:
    return event(
        "communication.sent",
        when=WHEN,
        messageId=message_id or fresh("MSG"),
        customerId="c1",
        channel="EMAIL",
        subject="Your points\tthis month",
        preview="Dear Asha,\r\nyou have points.",
        status="SENT",
        account="crm",
    )


def _lead(kind: str, lead_id: str | None = None) -> dict[str, Any]:
    return event(
        kind,
        when=WHEN,
        leadId=lead_id or fresh("L"),
        customerId="c1",
        leadType="UPSELL",
        leadFor="CARD",
        status="OPEN",
        subStatus="NEW",
        lastFollowUpAt=WHEN,
        nextFollowUpAt=EXPIRY,
        extendedFields={"score": 7, "tags": ["a", "b"], "owner": {"name": "Ravi"}},
    )


def template(kind: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(prerequisites, a valid event of `kind` with every field of its type)."""
    if kind == "store.upserted":
        return [], _store()
    if kind == "action.defined":
        return [], event("action.defined", when=WHEN, actionId=next(_serial) + 5000, name="Quiz")
    if kind == "campaign.defined":
        return [], event("campaign.defined", when=WHEN, campaignId=fresh("C"), name="Holi")
    if kind == "actionSeries.defined":
        return [], event(
            "actionSeries.defined", when=WHEN, actionSeriesId=fresh("AS"), name="Weekly"
        )
    if kind == "survey.defined":
        return [], event(
            "survey.defined",
            when=WHEN,
            surveyId=fresh("SV"),
            name="Feedback",
            sections=[{"sectionId": "A", "name": "Store"}, {"sectionId": "B", "name": "Staff"}],
        )
    if kind == "customer.enrolled":
        return [], _enrolled()
    if kind == "customer.updated":
        return [], event(
            "customer.updated",
            when=WHEN,
            customerId="c1",
            name="Member c1",
            email="c1@example.com",
            mobile="+919000000002",
            optedIn=True,
            tier="SILVER",
            userRole="MEMBER",
            groupId="G1",
        )
    if kind == "customer.identifierChanged":
        return [], event(
            "customer.identifierChanged",
            when=WHEN,
            customerId="c1",
            identifierType="EXTERNAL_ID",
            value=fresh("EXT"),
            source="CRM",
            account="ops",
        )
    if kind == "customer.merged":
        merged = _enrolled()
        return [merged], event(
            "customer.merged",
            when=LATER,
            survivorId="c1",
            mergedId=merged["customerId"],
            source="CRM",
            account="ops",
        )
    if kind == "points.earned":
        return [], event(
            "points.earned",
            when=WHEN,
            customerId="c1",
            points=5,
            actionId=100,
            orderId=fresh("O"),
            customId="K1",
            storeId="S1",
            source="APP",
            reason="Bonus\tfor the\nquiz",
            campaignId="C1",
            actionSeriesId="AS1",
            rewardName="Free coffee",
            surveyId="SV1",
            sectionId="SEC1",
            expiresAt=EXPIRY,
            category="PROMOTION",
            trackerValue=1.5,
            groupPoints=2,
        )
    if kind == "transaction.purchased":
        return [], _purchase()
    if kind == "transaction.returned":
        bought = _purchase()
        return [bought], event(
            "transaction.returned",
            when=LATER,
            customerId="c1",
            orderId=bought["orderId"],
            amount=100.0,
            storeId="S1",
            source="POS",
        )
    if kind == "points.redeemed":
        return [], event(
            "points.redeemed",
            when=WHEN,
            customerId="c1",
            points=5,
            actionId=102,
            orderId=fresh("O"),
            storeId="S1",
            source="POS",
        )
    if kind == "points.transferred":
        return [], event(
            "points.transferred",
            when=WHEN,
            transferId=fresh("T"),
            senderId="c1",
            receiverId="c2",
            points=5,
            program="Family",
        )
    if kind == "tier.changed":
        return [], event(
            "tier.changed",
            when=WHEN,
            customerId="c1",
            fromTier="SILVER",
            toTier="GOLD",
            reason="Spent 10,000",
        )
    if kind == "coupon.issued":
        return [], _coupon()
    if kind == "coupon.redeemed":
        issued = _coupon()
        return [issued], event(
            "coupon.redeemed",
            when=LATER,
            couponId=issued["couponId"],
            orderId=fresh("O"),
            storeId="S1",
        )
    if kind == "communication.sent":
        return [], _message()
    if kind == "communication.statusChanged":
        sent = _message()
        return [sent], event(
            "communication.statusChanged", when=LATER, messageId=sent["messageId"], status="OPENED"
        )
    if kind == "event.tracked":
        return [], event(
            "event.tracked",
            when=WHEN,
            customerId="c1",
            trackingId=fresh("TR"),
            event="app_open",
            source="APP",
            accountId="A1",
            tillCode="T-9",
            attributes={"screen": "home", "ms": 120, "ok": True, "path": ["a", None]},
        )
    if kind == "lead.created":
        return [], _lead("lead.created")
    if kind == "lead.updated":
        created = _lead("lead.created")
        return [created], _lead("lead.updated", created["leadId"])
    if kind == "segment.changed":
        return [], event(
            "segment.changed",
            when=WHEN,
            customerId="c1",
            segment="RFM",
            fromPartition="LOW",
            toPartition="HIGH",
        )
    raise AssertionError(f"no template for {kind}")


KINDS = sorted(EVENT_TYPES)


def fields_of(kind: str) -> list[tuple[str, bool]]:
    """(camelCase field, required) for every field of an event type."""
    model = EVENT_TYPES[kind]
    return [(f.alias or name, f.is_required()) for name, f in model.model_fields.items()]
