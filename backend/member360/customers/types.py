"""The Customer type and its history tabs: each tab is one `history_connection(TAB)` line of its
declaration (history/registry.py), resolved through the request's dataloaders."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import strawberry

from member360.graphql.access import personal
from member360.graphql.info import Info
from member360.graphql.relay import (
    decode_base64,
    row_id_of,
)
from member360.history.behavioral_events.tab import BEHAVIORAL_EVENTS
from member360.history.communications.tab import INTERACTIONS
from member360.history.coupons.tab import COUPON_REDEMPTIONS, COUPONS_ISSUED
from member360.history.fields import history_connection
from member360.history.identifiers.tab import IDENTIFIER_HISTORY
from member360.history.leads.tab import LEADS
from member360.history.segments.tab import SEGMENT_HISTORY
from member360.history.tiers.tab import POINTS_TIER_HISTORY
from member360.history.transactions.tab import TRANSACTIONS
from member360.ledger.activity.tab import (
    POINTS_ACTIVITY,
    POINTS_LOYALTY_TRACKER,
    POINTS_PROMOTIONS,
)
from member360.ledger.expired.tab import POINTS_EXPIRED
from member360.ledger.expiry_schedule.tab import OPEN_LOTS, ExpiryBucket, schedule
from member360.ledger.redemptions.tab import POINTS_REDEMPTIONS
from member360.ledger.transfers.tab import POINTS_TRANSFERS


def global_id(pk: int) -> str:
    return base64.urlsafe_b64encode(f"Customer:{pk}".encode()).decode()


def parse_global_id(value: str) -> int | None:
    """The member's row id of a global id; None unless `value` is one global_id makes."""
    try:
        kind, pk = decode_base64(value).decode().split(":", 1)
        return row_id_of(pk) if kind == "Customer" else None
    except ValueError:  # not base64, not UTF-8, no ':', not a row id
        return None


@strawberry.type
class PointsHistory:
    pk: strawberry.Private[int]  # the member's row id, as on Customer

    redemptions = history_connection(POINTS_REDEMPTIONS)

    @strawberry.field
    async def expiry_schedule(self, info: Info) -> list[ExpiryBucket]:
        open_lots = await info.context.loaders.keyed(OPEN_LOTS).load(self.pk)
        return schedule(open_lots, info.context.tz)

    expired = history_connection(POINTS_EXPIRED)

    tier_history = history_connection(POINTS_TIER_HISTORY)
    promotions = history_connection(POINTS_PROMOTIONS)
    loyalty_tracker = history_connection(POINTS_LOYALTY_TRACKER)
    transfers = history_connection(POINTS_TRANSFERS)
    activity = history_connection(POINTS_ACTIVITY)


@strawberry.type
class CouponHistory:
    pk: strawberry.Private[int]  # the member's row id, as on Customer

    issued = history_connection(COUPONS_ISSUED)
    redemptions = history_connection(COUPON_REDEMPTIONS)


@strawberry.type
class Customer:
    pk: strawberry.Private[int]
    id: strawberry.ID
    customer_id: str = strawberry.field(
        description="The organization's own id of the member (the report's userId)."
    )
    name: str
    email: str | None = personal()
    mobile: str | None = personal()
    external_id: str | None
    opted_in: bool
    tier: str | None
    user_role: str | None
    group_id: str | None
    points_balance: int
    enrolled_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any, info: Info) -> Customer:
        ctx = info.context
        pii = ctx.pii
        return cls(
            pk=row.id,
            id=strawberry.ID(global_id(row.id)),
            customer_id=row.customer_id,
            name=row.name,
            # Withheld here too: without pii:read the value never enters the response objects.
            email=row.email if pii else None,
            mobile=row.mobile if pii else None,
            external_id=row.external_id,
            opted_in=row.opted_in,
            tier=row.tier,
            user_role=row.user_role,
            group_id=row.group_id,
            points_balance=row.points_balance,
            enrolled_at=row.enrolled_at.astimezone(ctx.tz),
        )

    @strawberry.field(description="The Points tab.")
    def points(self) -> PointsHistory:
        return PointsHistory(pk=self.pk)

    @strawberry.field(description="The Coupons tab.")
    def coupons(self) -> CouponHistory:
        return CouponHistory(pk=self.pk)

    # Declared tabs (history/registry.py) are one line each, in the schema's field order.
    transactions = history_connection(TRANSACTIONS)

    interactions = history_connection(INTERACTIONS)
    behavioral_events = history_connection(BEHAVIORAL_EVENTS)
    leads = history_connection(LEADS)
    segment_history = history_connection(SEGMENT_HISTORY)

    identifier_history = history_connection(IDENTIFIER_HISTORY)
