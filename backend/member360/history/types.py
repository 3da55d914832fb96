"""GraphQL types of the non-points tabs not yet declared (a declared tab's type is built from
its declaration: history/fields.py)."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import strawberry

from member360.ledger.types import local

PERSONAL_IDENTIFIERS = frozenset({"EMAIL", "MOBILE"})
WITHHELD = "[withheld]"


@strawberry.enum
class Channel(Enum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    WECHAT = "WECHAT"
    WEBENGAGE = "WEBENGAGE"
    SURVEY = "SURVEY"


@strawberry.enum
class CouponStatus(Enum):
    ACTIVE = "ACTIVE"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


def coupon_status(row: Any, now: dt.datetime) -> CouponStatus:
    if row.redeemed_at is not None:
        return CouponStatus.REDEEMED
    if row.expires_at is not None and row.expires_at <= now:
        return CouponStatus.EXPIRED
    return CouponStatus.ACTIVE


@strawberry.type
class Coupon:
    id: strawberry.ID
    coupon_id: str
    code: str
    series: str | None
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    status: CouponStatus
    redeemed_at: dt.datetime | None
    order_id: str | None
    store_id: str | None
    resend_count: int

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo, now: dt.datetime) -> Coupon:
        status = coupon_status(row, now)
        return cls(
            id=strawberry.ID(row.coupon_id),
            coupon_id=row.coupon_id,
            code=row.code,
            series=row.series,
            issued_at=row.issued_at.astimezone(tz),
            expires_at=local(row.expires_at, tz),
            status=status,
            redeemed_at=local(row.redeemed_at, tz),
            order_id=row.order_id,
            store_id=row.store_id,
            resend_count=row.resend_count,
        )


@strawberry.type
class Communication:
    sent_at: dt.datetime
    message_id: str
    channel: Channel
    subject: str | None
    preview: str | None
    status: str
    status_changed_at: dt.datetime | None
    account: str | None

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo) -> Communication:
        return cls(
            sent_at=row.sent_at.astimezone(tz),
            message_id=row.message_id,
            channel=Channel(row.channel),
            subject=row.subject,
            preview=row.preview,
            status=row.status,
            status_changed_at=local(row.status_changed_at, tz),
            account=row.account,
        )


@strawberry.type
class IdentifierChange:
    changed_at: dt.datetime
    source: str | None
    account: str | None
    identifier_type: str
    # The contract's `value: String!` stays non-null, so an EMAIL or MOBILE value a caller
    # without pii:read may not see reads "[withheld]" (no error: a null here would null the
    # whole history page).
    value: str = strawberry.field(
        description='The identifier\'s value; EMAIL and MOBILE values read "[withheld]" '
        "without pii:read."
    )
    action_type: str

    @classmethod
    def from_row(cls, row: Any, tz: ZoneInfo, pii: bool) -> IdentifierChange:
        # Email and mobile values are personal data: without pii:read they are withheld.
        is_personal = row.identifier_type in PERSONAL_IDENTIFIERS
        return cls(
            changed_at=row.changed_at.astimezone(tz),
            source=row.source,
            account=row.account,
            identifier_type=row.identifier_type,
            value=WITHHELD if is_personal and not pii else row.value,
            action_type=row.action_type,
        )
