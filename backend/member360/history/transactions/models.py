"""The transactions table: a member's purchases and returns, append-only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Float, Index, String
from sqlmodel import Field, SQLModel

from member360.db import BigId, tenant_table
from member360.history.models import instant, moved_from
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


@tenant_table
class Transaction(SQLModel, table=True):
    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_customer_time", "customer_id", "occurred_at", "id"),
        Index("ix_transactions_customer_order", "customer_id", "order_id"),
        Index("ix_transactions_org_order", "org_id", "order_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    type: str = Field(sa_column=Column(String(16), nullable=False))  # PURCHASE | RETURN
    occurred_at: dt.datetime = instant()
    order_id: str
    amount: float = Field(sa_column=Column(Float, nullable=False))
    store_id: str | None = None
    source: str | None = None
    action_id: int | None = None
    campaign_id: str | None = None
    points_earned: int = 0  # purchases: points credited; returns: points taken back (negative)
    points_unrecovered: int = 0  # returns: what the balance could not cover
    group_points: int | None = None
