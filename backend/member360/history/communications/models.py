"""The communications table: a message sent to a member on a channel, with its delivery status
(updated as the provider reports it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, tenant_table
from member360.history.models import instant, moved_from
from member360.ledger.models import customer_fk
from member360.orgs.models import org_fk


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
