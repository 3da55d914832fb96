"""Non-points history of a member: transactions, coupons, messages, events, segments,
identifier and tier changes. Each row keeps the member it came from when a merge moved it.

Tabs declared in history/registry.py keep their table in their own folder
(history/<type>/models.py); `instant` and `moved_from` are the columns every history table has.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, UTCDateTime, tenant_table
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


def instant(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def moved_from() -> Any:
    return Field(default=None, sa_column=Column(BigId, nullable=True))


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


@tenant_table
class Communication(SQLModel, table=True):
    __tablename__ = "communications"
    __table_args__ = (
        UniqueConstraint("org_id", "message_id"),
        Index("ix_communications_customer_time", "customer_id", "sent_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    message_id: str
    channel: str = Field(sa_column=Column(String(16), nullable=False))
    subject: str | None = None
    preview: str | None = None
    status: str
    account: str | None = None
    sent_at: dt.datetime = instant()
    status_changed_at: dt.datetime | None = instant(nullable=True)


@tenant_table
class IdentifierChange(SQLModel, table=True):
    __tablename__ = "identifier_changes"
    __table_args__ = (
        Index("ix_identifier_changes_customer_time", "customer_id", "changed_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    changed_at: dt.datetime = instant()
    identifier_type: str
    value: str
    action_type: str  # ADD | COMBINE
    source: str | None = None
    account: str | None = None


@tenant_table
class TierChange(SQLModel, table=True):
    __tablename__ = "tier_changes"
    __table_args__ = (Index("ix_tier_changes_customer_time", "customer_id", "changed_at", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    changed_at: dt.datetime = instant()
    from_tier: str | None = None
    to_tier: str
    reason: str | None = None
