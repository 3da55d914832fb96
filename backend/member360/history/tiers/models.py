"""The tier_changes table: a member's moves between tiers ("slabs"), append-only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from member360.db import BigId, tenant_table
from member360.history.models import instant, moved_from
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


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
