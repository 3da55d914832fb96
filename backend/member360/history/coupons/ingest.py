"""What coupon.issued and coupon.redeemed do to the coupons table, inside an import transaction.

The importer (member360.ingest.importer) parses the events, finds the member an event names,
expires the member's points due by the event's time and owns the transaction's buffered writes;
it hands those in. A refusal is an InputError naming the event's field, which the importer
reports as that event's error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from member360.errors import InputError
from member360.history.writes import Writes

TABLE = "coupons"
KEY = "coupon_id"  # the organization's own id of a coupon: what events name it by
# What a redemption (and resendCoupon) changes; everything else is written once.
UPDATE_COLUMNS = ("redeemed_at", "order_id", "store_id", "resend_count")


class CouponIssuedEvent(Protocol):
    @property
    def coupon_id(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def series(self) -> str | None: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def expires_at(self) -> dt.datetime | None: ...


class CouponRedeemedEvent(Protocol):
    @property
    def coupon_id(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def order_id(self) -> str | None: ...
    @property
    def store_id(self) -> str | None: ...


def _refuse(field: str, reason: str) -> InputError:
    return InputError(f"{field}: {reason}", field=field)


class Coupons:
    """The coupons one import transaction knows, by coupon id: those its events name (loaded
    before they apply, `by_id`) and those it issues."""

    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.by_id: dict[str, dict[str, Any]] = {}

    def check_issue(self, e: CouponIssuedEvent) -> None:
        """Refuses an issue before the importer touches the member (its points expiry)."""
        if e.coupon_id in self.by_id:
            raise _refuse("couponId", f"coupon {e.coupon_id!r} is already issued")
        if e.expires_at is not None and e.expires_at <= e.occurred_at:
            raise _refuse("expiresAt", "must be after occurredAt")

    async def issued(self, e: CouponIssuedEvent, customer_pk: int) -> None:
        self.check_issue(e)
        self.by_id[e.coupon_id] = await self.writes.add(
            TABLE,
            {
                "customer_id": customer_pk,
                "coupon_id": e.coupon_id,
                "code": e.code,
                "series": e.series,
                "issued_at": e.occurred_at,
                "expires_at": e.expires_at,
                "resend_count": 0,
            },
        )

    def redeemable(self, e: CouponRedeemedEvent) -> dict[str, Any]:
        """The coupon the event redeems, refused when unknown, redeemed or expired; its
        `customer_id` is the member it was issued to (before any merge)."""
        coupon = self.by_id.get(e.coupon_id)
        if coupon is None:
            raise _refuse("couponId", f"unknown coupon {e.coupon_id!r}")
        if coupon["redeemed_at"] is not None:
            raise _refuse("couponId", f"coupon {e.coupon_id!r} is already redeemed")
        if coupon["expires_at"] is not None and coupon["expires_at"] <= e.occurred_at:
            raise _refuse(
                "couponId", f"coupon {e.coupon_id!r} expired at {coupon['expires_at'].isoformat()}"
            )
        return coupon

    def redeemed(self, coupon: dict[str, Any], e: CouponRedeemedEvent) -> None:
        coupon.update(redeemed_at=e.occurred_at, order_id=e.order_id, store_id=e.store_id)
        self.writes.changed(TABLE, coupon)
