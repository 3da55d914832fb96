"""The transactions row that transaction.purchased and transaction.returned record.

What the events do to points (credits, reversals, restored redemptions, the order read back)
is the ledger's part of the importer (member360.ingest.importer); this is the history row it
records once that is decided, through the import transaction's buffered writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Protocol

from member360.history.writes import Writes

TABLE = "transactions"


class TransactionEvent(Protocol):
    """What the row takes of a transaction.purchased / transaction.returned event."""

    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def order_id(self) -> str: ...
    @property
    def amount(self) -> float: ...
    @property
    def store_id(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...


async def recorded(
    writes: Writes,
    e: TransactionEvent,
    customer_pk: int,
    kind: Literal["PURCHASE", "RETURN"],
    *,
    action_id: int,
    campaign_id: str | None,
    points_earned: int,
    points_unrecovered: int,
    group_points: int | None,
) -> None:
    """Adds the order's row: `points_earned` is negative on a return (the points taken back)."""
    await writes.add(
        TABLE,
        {
            "customer_id": customer_pk,
            "type": kind,
            "occurred_at": e.occurred_at,
            "order_id": e.order_id,
            "amount": e.amount,
            "store_id": e.store_id,
            "source": e.source,
            "action_id": action_id,
            "campaign_id": campaign_id,
            "points_earned": points_earned,
            "points_unrecovered": points_unrecovered,
            "group_points": group_points,
        },
    )
