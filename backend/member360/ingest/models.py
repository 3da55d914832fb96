from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, UTCDateTime, tenant_table
from member360.orgs.models import org_fk


@tenant_table
class IngestedEvent(SQLModel, table=True):
    """Idempotency: one row per event id an organization has applied."""

    __tablename__ = "ingested_events"
    __table_args__ = (UniqueConstraint("org_id", "event_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    event_id: str
    type: str
    # SHA-256 of the event's canonical content (schemas.fingerprint): an id sent again with other
    # content is refused. NULL for events applied before revision 0006.
    fingerprint: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    applied_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
