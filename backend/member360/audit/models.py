"""The audit log's table: who did what and when, per organization."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from member360.db import BigId, JSONType, UTCDateTime, tenant_table
from member360.orgs.models import org_fk


@tenant_table
class AuditEvent(SQLModel, table=True):
    """Who did what and when: exports requested and downloaded, coupon resends, logins."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_at", "org_id", "at", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    actor: str
    action: str
    target: str | None = None
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
