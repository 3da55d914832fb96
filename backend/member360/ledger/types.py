"""GraphQL types of the Points tab; rows become types only through `from_row`."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import strawberry

from member360.graphql.info import Info


def local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(tz)


@strawberry.enum
class TransferType(Enum):
    DEDUCTION = "DEDUCTION"
    ADDITION = "ADDITION"


@strawberry.type
class RedemptionBreakup:
    lot_earned_at: dt.datetime
    points: int
    expires_at: dt.datetime
    reason: str | None

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> RedemptionBreakup:
        return cls(
            lot_earned_at=row.earned_at.astimezone(tz),
            points=row.points,
            expires_at=row.expires_at.astimezone(tz),
            reason=row.reason,
        )


@strawberry.type
class Redemption:
    id: strawberry.Private[int]
    redeemed_at: dt.datetime
    points_redeemed: int
    points_reversed: int
    order_id: str | None
    store_id: str | None
    source: str | None
    action_id: int
    action_name: str

    @strawberry.field
    async def breakup(self, info: Info) -> list[RedemptionBreakup]:
        rows = await info.context.loaders.breakup_by_activity.load(self.id)
        tz = info.context.tz
        return [RedemptionBreakup.from_row(r, tz) for r in rows]

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> Redemption:
        return cls(
            id=row.id,
            redeemed_at=row.occurred_at.astimezone(tz),
            points_redeemed=-row.points,
            points_reversed=row.points_reversed,
            order_id=row.order_id,
            store_id=row.store_id,
            source=row.source,
            action_id=row.action_id,
            action_name=row.action_name or str(row.action_id),
        )


@strawberry.type
class ExpiryBucket:
    expires_on: dt.date
    points: int


@strawberry.type
class ExpiredPoints:
    expired_at: dt.datetime
    points: int

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> ExpiredPoints:
        return cls(expired_at=row.occurred_at.astimezone(tz), points=-row.points)


@strawberry.type
class PointsActivity:
    occurred_at: dt.datetime
    action_id: int
    action_name: str
    points: int
    running_balance: int
    order_id: str | None
    custom_id: str | None
    reason: str | None
    source: str | None
    store_id: str | None
    category: str
    campaign_id: str | None
    tracker_value: float | None
    expires_at: dt.datetime | None
    points_unrecovered: int
    transfer_id: str | None

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> PointsActivity:
        return cls(
            occurred_at=row.occurred_at.astimezone(tz),
            action_id=row.action_id,
            action_name=row.action_name or str(row.action_id),
            points=row.points,
            running_balance=int(row.running_balance),
            order_id=row.order_id,
            custom_id=row.custom_id,
            reason=row.reason,
            source=row.source,
            store_id=row.store_id,
            category=row.category,
            campaign_id=row.campaign_id,
            tracker_value=row.tracker_value,
            expires_at=local(row.expires_at, tz),
            points_unrecovered=row.points_unrecovered,
            transfer_id=row.transfer_id,
        )


@strawberry.type
class PointsTransfer:
    transferred_at: dt.datetime
    transfer_type: TransferType
    transfer_id: str
    from_customer_id: str | None
    to_customer_id: str | None
    program: str | None
    points: int

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> PointsTransfer:
        deduction = row.points < 0
        return cls(
            transferred_at=row.occurred_at.astimezone(tz),
            transfer_type=TransferType.DEDUCTION if deduction else TransferType.ADDITION,
            transfer_id=row.transfer_id,
            from_customer_id=row.self_customer_id if deduction else row.counterparty_customer_id,
            to_customer_id=row.counterparty_customer_id if deduction else row.self_customer_id,
            program=row.program,
            points=abs(row.points),
        )


@strawberry.type
class TierChange:
    changed_at: dt.datetime
    from_tier: str | None
    to_tier: str
    reason: str | None

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> TierChange:
        return cls(
            changed_at=row.changed_at.astimezone(tz),
            from_tier=row.from_tier,
            to_tier=row.to_tier,
            reason=row.reason,
        )
