"""The Customer type and its history tabs, each resolved through the request's dataloaders.

A declared tab (history/registry.py) is one `history_connection(TAB)` line; the others still
have their resolver here.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import strawberry

from member360.graphql.access import personal
from member360.graphql.info import Info
from member360.graphql.paging import Page, PageKey
from member360.graphql.relay import (
    Connection,
    connection,
    decode_base64,
    decode_time_cursor,
    encode_cursor,
    page_size,
    row_id_of,
)
from member360.history.behavioral_events.tab import BEHAVIORAL_EVENTS
from member360.history.fields import history_connection
from member360.history.leads.tab import LEADS
from member360.history.segments.tab import SEGMENT_HISTORY
from member360.history.transactions.tab import TRANSACTIONS
from member360.history.types import (
    Channel,
    Communication,
    Coupon,
    IdentifierChange,
)
from member360.ledger.activity.tab import (
    POINTS_ACTIVITY,
    POINTS_LOYALTY_TRACKER,
    POINTS_PROMOTIONS,
)
from member360.ledger.expired.tab import POINTS_EXPIRED
from member360.ledger.expiry_schedule.tab import OPEN_LOTS, ExpiryBucket, schedule
from member360.ledger.redemptions.tab import POINTS_REDEMPTIONS
from member360.ledger.transfers.tab import POINTS_TRANSFERS
from member360.ledger.types import TierChange


def global_id(pk: int) -> str:
    return base64.urlsafe_b64encode(f"Customer:{pk}".encode()).decode()


def parse_global_id(value: str) -> int | None:
    """The member's row id of a global id; None unless `value` is one global_id makes."""
    try:
        kind, pk = decode_base64(value).decode().split(":", 1)
        return row_id_of(pk) if kind == "Customer" else None
    except ValueError:  # not base64, not UTF-8, no ':', not a row id
        return None


def _key(pk: int, first: int | None, after: str | None, variant: str | None = None) -> PageKey:
    return PageKey(pk, page_size(first), decode_time_cursor(after), variant)


def _cursor(time_column: str) -> Any:
    return lambda row: encode_cursor(getattr(row, time_column), row.id)


async def _page(info: Info, loader_name: str, key: PageKey) -> Page:
    page: Page = await getattr(info.context.loaders, loader_name).load(key)
    return page


@strawberry.type
class PointsHistory:
    pk: strawberry.Private[int]  # the member's row id, as on Customer

    redemptions = history_connection(POINTS_REDEMPTIONS)

    @strawberry.field
    async def expiry_schedule(self, info: Info) -> list[ExpiryBucket]:
        open_lots = await info.context.loaders.keyed(OPEN_LOTS).load(self.pk)
        return schedule(open_lots, info.context.tz)

    expired = history_connection(POINTS_EXPIRED)

    @strawberry.field(description='Tier ("slab") history.')
    async def tier_history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[TierChange]:
        page = await _page(info, "tier_changes_by_customer", _key(self.pk, first, after))
        tz = info.context.tz
        return connection(
            page.rows,
            page.has_next,
            lambda r: TierChange.from_row(r, tz),
            _cursor("changed_at"),
            page.has_previous,
        )

    promotions = history_connection(POINTS_PROMOTIONS)
    loyalty_tracker = history_connection(POINTS_LOYALTY_TRACKER)
    transfers = history_connection(POINTS_TRANSFERS)
    activity = history_connection(POINTS_ACTIVITY)


@strawberry.type
class CouponHistory:
    customer_pk: strawberry.Private[int]

    @strawberry.field
    async def issued(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Coupon]:
        page = await _page(info, "coupons_by_customer", _key(self.customer_pk, first, after))
        tz, now = info.context.tz, info.context.now
        return connection(
            page.rows,
            page.has_next,
            lambda r: Coupon.from_row(r, tz, now),
            _cursor("issued_at"),
            page.has_previous,
        )

    @strawberry.field
    async def redemptions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Coupon]:
        page = await _page(
            info, "coupon_redemptions_by_customer", _key(self.customer_pk, first, after)
        )
        tz, now = info.context.tz, info.context.now
        return connection(
            page.rows,
            page.has_next,
            lambda r: Coupon.from_row(r, tz, now),
            _cursor("redeemed_at"),
            page.has_previous,
        )


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
        return CouponHistory(customer_pk=self.pk)

    # Declared tabs (history/registry.py) are one line each, in the schema's field order.
    transactions = history_connection(TRANSACTIONS)

    @strawberry.field
    async def interactions(
        self,
        info: Info,
        channel: Channel | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Communication]:
        key = _key(self.pk, first, after, channel.value if channel else None)
        page = await _page(info, "communications_by_customer", key)
        tz = info.context.tz
        return connection(
            page.rows,
            page.has_next,
            lambda r: Communication.from_row(r, tz),
            _cursor("sent_at"),
            page.has_previous,
        )

    behavioral_events = history_connection(BEHAVIORAL_EVENTS)
    leads = history_connection(LEADS)
    segment_history = history_connection(SEGMENT_HISTORY)

    @strawberry.field
    async def identifier_history(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[IdentifierChange]:
        page = await _page(info, "identifier_changes_by_customer", _key(self.pk, first, after))
        tz, pii = info.context.tz, info.context.pii
        return connection(
            page.rows,
            page.has_next,
            lambda r: IdentifierChange.from_row(r, tz, pii),
            _cursor("changed_at"),
            page.has_previous,
        )
