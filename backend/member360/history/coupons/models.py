"""The coupons table: a coupon issued to a member, and its redemption (the row is updated)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, tenant_table
from member360.history.models import instant, moved_from
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


@tenant_table
class Coupon(SQLModel, table=True):
    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("org_id", "coupon_id"),
        Index("ix_coupons_customer_time", "customer_id", "issued_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    coupon_id: str
    code: str
    series: str | None = None
    issued_at: dt.datetime = instant()
    expires_at: dt.datetime | None = instant(nullable=True)
    redeemed_at: dt.datetime | None = instant(nullable=True)
    order_id: str | None = None
    store_id: str | None = None
    resend_count: int = 0
