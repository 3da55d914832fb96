"""GraphQL types of the Points tab not declared (the declared tabs' types are built from
their declarations: ledger/<tab>/tab.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import strawberry


def local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(tz)


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
