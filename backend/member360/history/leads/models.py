"""The leads table: a member's sales leads, one row per lead id, updated in place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, JSONType, tenant_table
from member360.history.models import instant, moved_from
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


@tenant_table
class Lead(SQLModel, table=True):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("org_id", "lead_id"),
        Index("ix_leads_customer_time", "customer_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    lead_id: str
    lead_type: str | None = None
    lead_for: str | None = None
    status: str
    sub_status: str | None = None
    created_at: dt.datetime = instant()
    updated_at: dt.datetime = instant()
    last_follow_up_at: dt.datetime | None = instant(nullable=True)
    next_follow_up_at: dt.datetime | None = instant(nullable=True)
    extended_fields: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONType, nullable=True)
    )
