"""Pure ledger rules: lots, earliest-expiry-first consumption, due lots, proportional returns.

Nothing here touches the database; the importer keeps these objects and persists what changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from member360.limits import INT_MAX

# The API shows a member's balance, running balance and report rows as GraphQL Ints. Capping
# what a member is ever credited caps them all: debits never take more than credits gave, so
# any sum of a member's activities, in any order or grouping, lies within +-MAX_CREDITED.
# The group points recorded on credits are capped alike (reversals take back at most those).
MAX_CREDITED = INT_MAX


class CreditLimitExceeded(Exception):
    """A credit would take a member's lifetime points (or group points) beyond MAX_CREDITED.

    The member is left as it was; what else the event changed, the importer rolls back.
    """

    def __init__(self, member: Member, total: int, *, group: bool = False) -> None:
        what = "group points" if group else "points"
        super().__init__(f"lifetime {what} of member {member.pk} would be {total}")
        self.member = member
        self.total = total
        self.group = group


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

    @property
    def credited(self) -> int:
        """Every point ever credited to the member: earned, restored, transferred in."""
        return int(self.row["points_credited"])

    @property
    def group_credited(self) -> int:
        """Every group point recorded on the member's credits."""
        return int(self.row["group_points_credited"])

    def credit(self, points: int, group_points: int | None = None) -> None:
        """Adds a credit to the balance and to the lifetime sums, which it may not pass."""
        credited = self.credited + points
        group = self.group_credited + (group_points or 0)
        self._check_lifetime(credited, group)
        self.row["points_credited"] = credited
        self.row["group_points_credited"] = group
        self.add_points(points)

    def absorb(self, merged: Member) -> None:
        """Takes over a merged member's balance and lifetime sums (its history moves here)."""
        credited = self.credited + merged.credited
        group = self.group_credited + merged.group_credited
        self._check_lifetime(credited, group)
        self.row["points_credited"] = credited
        self.row["group_points_credited"] = group
        self.add_points(merged.balance)
        merged.row["points_credited"] = merged.row["group_points_credited"] = 0
        merged.add_points(-merged.balance)

    def add_points(self, delta: int) -> None:
        """Moves the balance only: debits, and points that arrive with their credits' history."""
        self.row["points_balance"] = self.balance + delta
        self.dirty = True

    def _check_lifetime(self, credited: int, group: int) -> None:
        if credited > MAX_CREDITED:
            raise CreditLimitExceeded(self, credited)
        if group > MAX_CREDITED:
            raise CreditLimitExceeded(self, group, group=True)

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
