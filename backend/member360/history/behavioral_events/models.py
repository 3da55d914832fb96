"""The behavioral_events table: what a member did (as an integration tracked it), append-only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from member360.db import BigId, JSONType, tenant_table
from member360.history.models import instant, moved_from
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


@tenant_table
class BehavioralEvent(SQLModel, table=True):
    __tablename__ = "behavioral_events"
    __table_args__ = (
        Index("ix_behavioral_events_customer_time", "customer_id", "occurred_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = moved_from()
    tracking_id: str
    event: str
    source: str | None = None
    account_id: str | None = None
    till_code: str | None = None
    attributes: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSONType, nullable=True)
    )
    occurred_at: dt.datetime = instant()
