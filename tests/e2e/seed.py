"""The e2e program: a small demo org, two members whose every history type is known, two users.

Zara Fernandes (E2E-ZARA) has one row in every tab of the member page, so the browser test can
check each of them by a value it knows; Omar Qureshi (E2E-OMAR) receives her transfer. The
browser signs in as the ADMIN for the full walk and as the AGENT for the role checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from member360.config import Settings
from member360.db import Database
from member360.demo_events import generate_demo_events
from member360.orgs.service import get_org

ZARA = "E2E-ZARA"
OMAR = "E2E-OMAR"
ZARA_EMAIL = "zara.fernandes@e2e.example"
ACTIVE_COUPON = "ZARA-ACTIVE-10"
TRACKING_ID = "E2E-TRK-1"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))

ADMIN_EMAIL = "admin@e2e.example"
ADMIN_PASSWORD = "e2e-Admin-walks-2026"
AGENT_EMAIL = "agent@e2e.example"
AGENT_PASSWORD = "e2e-Agent-helps-2026"


def known_events(now: dt.datetime) -> list[dict[str, Any]]:
    """Zara's life over the last 100 days, oldest first; her balance ends at 440."""
    events: list[dict[str, Any]] = []

    def at(days_ago: float) -> str:
        return (now - dt.timedelta(days=days_ago)).astimezone(IST).isoformat()

    def add(days_ago: float, kind: str, **fields: Any) -> None:
        events.append(
            {"type": kind, "id": f"e2e-{len(events) + 1:04d}", "occurredAt": at(days_ago), **fields}
        )

    add(
        100,
        "customer.enrolled",
        customerId=ZARA,
        name="Zara Fernandes",
        email=ZARA_EMAIL,
        mobile="9990001111",
        optedIn=True,
        tier="Silver",
        userRole="Member",
    )
    add(
        100,
        "customer.enrolled",
        customerId=OMAR,
        name="Omar Qureshi",
        email="omar.qureshi@e2e.example",
        mobile="9990002222",
        optedIn=True,
        tier="Silver",
    )
    add(
        99,
        "customer.identifierChanged",
        customerId=ZARA,
        identifierType="EXTERNAL_ID",
        value="EXT-ZARA-77",
        source="CRM",
        account="main",
    )
    add(
        98,
        "points.earned",
        customerId=ZARA,
        points=200,
        actionId=1008,
        campaignId="CMP-WELCOME",
        category="PROMOTION",
        reason="Welcome Bonus",
        source="APP",
    )
    add(
        97,
        "transaction.purchased",
        customerId=ZARA,
        orderId="E2E-ORD-1",
        amount=2500.0,
        storeId="ST-MUM-01",
        source="POS",
        pointsEarned=250,
    )
    add(
        96,
        "points.earned",
        customerId=ZARA,
        points=40,
        actionId=203,
        category="TRACKER",
        trackerValue=3,
        reason="Third visit",
        source="POS",
        storeId="ST-MUM-01",
    )
    add(
        90,
        "transaction.purchased",
        customerId=ZARA,
        orderId="E2E-ORD-2",
        amount=3000.0,
        storeId="ST-MUM-01",
        source="POS",
        pointsEarned=0,
    )
    add(
        90,
        "points.redeemed",
        customerId=ZARA,
        points=300,
        actionId=102,
        orderId="E2E-ORD-2",
        storeId="ST-MUM-01",
        source="POS",
    )
    add(
        80,
        "transaction.purchased",
        customerId=ZARA,
        orderId="E2E-ORD-3",
        amount=1000.0,
        storeId="ST-DEL-01",
        source="WEB",
        pointsEarned=100,
    )
    add(
        79,
        "transaction.returned",
        customerId=ZARA,
        orderId="E2E-ORD-3",
        amount=1000.0,
        storeId="ST-DEL-01",
        source="WEB",
    )
    add(
        78,
        "points.transferred",
        transferId="E2E-TR-1",
        senderId=ZARA,
        receiverId=OMAR,
        points=50,
        program="Family",
    )
    add(
        75,
        "points.earned",
        customerId=ZARA,
        points=100,
        actionId=204,
        reason="Short-lived bonus",
        expiresAt=at(50),
    )
    add(
        70,
        "tier.changed",
        customerId=ZARA,
        fromTier="Silver",
        toTier="Gold",
        reason="Spend threshold",
    )
    add(
        40,
        "coupon.issued",
        couponId="E2E-CPN-1",
        code=ACTIVE_COUPON,
        customerId=ZARA,
        series="WELCOME10",
        expiresAt=(now + dt.timedelta(days=200)).astimezone(IST).isoformat(),
    )
    add(
        39,
        "coupon.issued",
        couponId="E2E-CPN-2",
        code="ZARA-USED-20",
        customerId=ZARA,
        series="FEST20",
        expiresAt=(now + dt.timedelta(days=100)).astimezone(IST).isoformat(),
    )
    add(38, "coupon.redeemed", couponId="E2E-CPN-2", orderId="E2E-ORD-4", storeId="ST-MUM-01")
    for n, channel in enumerate(("SMS", "EMAIL", "WECHAT", "WEBENGAGE", "SURVEY")):
        add(
            30 - n,
            "communication.sent",
            messageId=f"E2E-MSG-{channel}",
            customerId=ZARA,
            channel=channel,
            subject=f"Zara {channel.title()} hello",
            preview=f"Hello Zara, this is your {channel.lower()} message",
            status="SENT",
            account="main",
        )
    add(24, "communication.statusChanged", messageId="E2E-MSG-EMAIL", status="OPENED")
    add(
        22,
        "event.tracked",
        customerId=ZARA,
        trackingId=TRACKING_ID,
        event="app.opened",
        source="iOS",
        accountId="ACC-1",
        tillCode="T-1",
        attributes={"screen": "home", "build": 42},
    )
    add(
        21,
        "lead.created",
        leadId="E2E-LEAD-1",
        customerId=ZARA,
        leadType="Upgrade",
        leadFor="Gold card",
        status="OPEN",
        subStatus="Contacted",
        lastFollowUpAt=at(21),
        nextFollowUpAt=at(-7),
        extendedFields={"channel": "phone"},
    )
    add(
        20,
        "segment.changed",
        customerId=ZARA,
        segment="High value",
        fromPartition="P2",
        toPartition="P1",
    )
    # The redeemed order comes back: its 300 points return (the redemption's pointsReversed).
    add(
        10,
        "transaction.returned",
        customerId=ZARA,
        orderId="E2E-ORD-2",
        amount=3000.0,
        storeId="ST-MUM-01",
        source="POS",
    )
    return events


def e2e_events(now: dt.datetime) -> Iterator[dict[str, Any]]:
    yield from generate_demo_events(members=50, days=120, end=now)
    yield from known_events(now)


async def seed_users(database_url: str, slug: str) -> None:
    """The ADMIN and the AGENT the browser signs in as, in the already migrated database."""
    from member360.auth.users import create_user

    db = Database(Settings(database_url=database_url).database_url)
    try:
        org = await get_org(db, slug=slug)
        await create_user(db, org, email=ADMIN_EMAIL, role="ADMIN", password=ADMIN_PASSWORD)
        await create_user(db, org, email=AGENT_EMAIL, role="AGENT", password=AGENT_PASSWORD)
    finally:
        await db.dispose()
