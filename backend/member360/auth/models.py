from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from member360.db import BigId, JSONType, UTCDateTime, tenant_table
from member360.orgs.models import org_fk


@tenant_table
class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    # The visible start of the key, to tell keys apart in lists; the secret is only hashed.
    prefix: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    key_hash: str = Field(sa_column=Column(String(128), nullable=False, unique=True))
    name: str | None = None
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_used_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    revoked_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
