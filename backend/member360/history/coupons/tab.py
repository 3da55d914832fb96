"""The Coupons tab, declared: `CouponHistory.issued` and `CouponHistory.redemptions` show one
`Coupon` node (a coupon's status is worked out at the request's instant), each a workbook sheet."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, and_, case

from member360.history.coupons.models import Coupon
from member360.history.tab import (
    NOT_EXPORTED,
    Export,
    HistoryTab,
    NodeField,
    Present,
    SqlTerms,
)

COUPONS = Coupon.__table__  # type: ignore[attr-defined]


@strawberry.enum
class CouponStatus(Enum):
    ACTIVE = "ACTIVE"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


def coupon_status(row: Any, now: dt.datetime) -> str:
    """Redeemed once redeemed; else expired from its expiry on; else active."""
    if row.redeemed_at is not None:
        return CouponStatus.REDEEMED.value
    if row.expires_at is not None and row.expires_at <= now:
        return CouponStatus.EXPIRED.value
    return CouponStatus.ACTIVE.value


def coupon_status_sql(t: Any, terms: SqlTerms) -> ColumnElement[Any]:
    """coupon_status in SQL, for the compiled reads."""
    return case(
        (t.c.redeemed_at.is_not(None), CouponStatus.REDEEMED.value),
        (
            and_(t.c.expires_at.is_not(None), t.c.expires_at <= terms.now),
            CouponStatus.EXPIRED.value,
        ),
        else_=CouponStatus.ACTIVE.value,
    )


COUPON_FIELDS = (
    # The coupon's own id is its node id (resendCoupon takes it); the sheet has it as Coupon ID.
    NodeField("id", strawberry.ID, NOT_EXPORTED, column="coupon_id"),
    NodeField("coupon_id", str, Export("Coupon ID")),
    NodeField("code", str, Export("Code")),
    NodeField("series", str | None, Export("Series")),
    NodeField("issued_at", dt.datetime, Export("Issued At"), present=Present.LOCAL_TIME),
    NodeField("expires_at", dt.datetime | None, Export("Expires At"), present=Present.LOCAL_TIME),
    NodeField(
        "status",
        CouponStatus,
        Export("Status"),
        derived=coupon_status,
        reads=("redeemed_at", "expires_at"),
        needs_now=True,
        sql_rule=coupon_status_sql,
        present=Present.ENUM,
    ),
    NodeField("redeemed_at", dt.datetime | None, Export("Redeemed At"), present=Present.LOCAL_TIME),
    NodeField("order_id", str | None, Export("Order ID")),
    NodeField("store_id", str | None, Export("Store ID")),
    NodeField("resend_count", int, Export("Resend Count")),
)

COUPONS_ISSUED = HistoryTab(
    field_name="issued",
    node_name="Coupon",
    table=COUPONS,
    time_column="issued_at",
    fields=COUPON_FIELDS,
    customer_tab="COUPONS_ISSUED",
    export_title="Coupons — Issued",
    spa_tab="coupons/issued",
    under="coupons",
)
COUPON_REDEMPTIONS = HistoryTab(
    field_name="redemptions",
    node_name="Coupon",
    table=COUPONS,
    time_column="redeemed_at",
    fields=COUPON_FIELDS,
    customer_tab="COUPONS_REDEMPTIONS",
    export_title="Coupons — Redemptions",
    spa_tab="coupons/redemptions",
    under="coupons",
    where=lambda t: (t.c.redeemed_at.is_not(None),),
)
