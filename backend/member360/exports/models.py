"""Export jobs: the row is the source of truth for status, attempts, lease and the file."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, JSONType, UTCDateTime, tenant_table
from member360.orgs.models import org_fk


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


def instant(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


@tenant_table
class ExportJob(SQLModel, table=True):
    __tablename__ = "export_jobs"
    __table_args__ = (
        UniqueConstraint("public_id"),
        Index("ix_export_jobs_org_created", "org_id", "created_at", "id"),
        Index("ix_export_jobs_runnable", "status", "run_after"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    # Random, unguessable: the GraphQL id and the file name; links carry it signed.
    public_id: str = Field(sa_column=Column(String(32), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # REPORT | CUSTOMER_TAB
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    delivery: str = Field(sa_column=Column(String(16), nullable=False))  # DOWNLOAD | EMAIL
    email: str | None = None
    requested_by: str
    status: str = Field(default=JobStatus.QUEUED, sa_column=Column(String(16), nullable=False))
    attempts: int = 0
    max_attempts: int = 5
    run_after: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    lease_until: dt.datetime | None = instant()
    worker_id: str | None = None
    row_count: int | None = None
    file_name: str | None = None
    error: str | None = None
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    started_at: dt.datetime | None = instant()
    finished_at: dt.datetime | None = instant()
    expires_at: dt.datetime | None = instant()  # the download link's expiry
    notified_at: dt.datetime | None = instant()  # when the requester was mailed
