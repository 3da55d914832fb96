"""Pure ledger rules: lots, earliest-expiry-first consumption, due lots, proportional returns.

Nothing here touches the database; the importer keeps these objects and persists what changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from member360.limits import INT_MAX

# The API shows a balance as a GraphQL Int: no event may take one beyond it.
MAX_BALANCE = INT_MAX


class BalanceLimitExceeded(Exception):
    """A credit would take a member's balance beyond MAX_BALANCE (the balance is left as it was)."""

    def __init__(self, member: Member, balance: int) -> None:
        super().__init__(f"balance of member {member.pk} would be {balance}")
        self.member = member
        self.balance = balance


@dataclass(slots=True, eq=False)
class LotState:
    id: int
    customer_id: int
    activity_id: int
    earned_at: dt.datetime
    expires_at: dt.datetime
    points: int
    remaining: int
    original_customer_id: int | None = None
    new: bool = False
    dirty: bool = False

    def sort_key(self) -> tuple[dt.datetime, dt.datetime, int]:
        # Earliest expiry first; ties go to the earliest earned (then the oldest row).
        return (self.expires_at, self.earned_at, self.id)

    def as_row(self, org_id: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "org_id": org_id,
            "customer_id": self.customer_id,
            "original_customer_id": self.original_customer_id,
            "activity_id": self.activity_id,
            "earned_at": self.earned_at,
            "expires_at": self.expires_at,
            "points": self.points,
            "remaining": self.remaining,
        }


@dataclass(slots=True)
class Consumed:
    lot: LotState
    points: int


@dataclass(slots=True, eq=False)
class Member:
    """One member's ledger state while events apply: the customer row and its open lots."""

    row: dict[str, Any]
    lots: list[LotState] = field(default_factory=list)  # open lots (remaining > 0), sorted
    new: bool = False
    dirty: bool = False

    @property
    def pk(self) -> int:
        return int(self.row["id"])

    @property
    def balance(self) -> int:
        return int(self.row["points_balance"])

    def add_points(self, delta: int) -> None:
        balance = self.balance + delta
        if balance > MAX_BALANCE:
            raise BalanceLimitExceeded(self, balance)
        self.row["points_balance"] = balance
        self.dirty = True

    def add_lot(self, lot: LotState) -> None:
        self.lots.append(lot)
        self.lots.sort(key=LotState.sort_key)


def consume(member: Member, amount: int) -> list[Consumed]:
    """Takes `amount` points from the member's lots, earliest expiry first.

    The caller has checked the balance covers it; the lots' sum always equals the balance.
    """
    taken: list[Consumed] = []
    left = amount
    for lot in member.lots:
        if left == 0:
            break
        part = min(lot.remaining, left)
        if part <= 0:
            continue
        lot.remaining -= part
        lot.dirty = True
        left -= part
        taken.append(Consumed(lot, part))
    if left:
        raise AssertionError(f"lots of member {member.pk} short by {left} points")
    member.lots = [lot for lot in member.lots if lot.remaining > 0]
    return taken


def due_lots(member: Member, at: dt.datetime) -> list[LotState]:
    """Open lots whose expiry has come by `at`."""
    return [lot for lot in member.lots if lot.expires_at <= at and lot.remaining > 0]


def proportional_delta(total: int, before: float, after: float) -> int:
    """Points to reverse now when the returned share of an order moves from `before` to `after`.

    Each return reverses floor(total * share) cumulatively, so partial returns round down and
    a whole order, returned in parts, still reverses exactly `total`.
    """
    return _floor_share(total, after) - _floor_share(total, before)


def _floor_share(total: int, share: float) -> int:
    if share >= 1:
        return total
    # A tiny epsilon keeps 0.3 * 10 (2.9999…) at 3.
    return int(total * share + 1e-9)
