"""What a redemption node has beyond its row: the lots it drew from (its breakup)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import strawberry

from member360.graphql.info import Info
from member360.ledger.redemptions.breakup import BREAKUP


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


class RedemptionExtras:
    """Fields of `Redemption` after the declared ones; the node keeps its row `id`."""

    id: int

    @strawberry.field
    async def breakup(self, info: Info) -> list[RedemptionBreakup]:
        rows = await info.context.loaders.keyed(BREAKUP).load(self.id)
        tz = info.context.tz
        return [RedemptionBreakup.from_row(r, tz) for r in rows]
