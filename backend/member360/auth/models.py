from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey, Integer, String
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


@tenant_table
class User(SQLModel, table=True):
    """A person who signs in to the web app: an ADMIN or an AGENT of one organization."""

    __tablename__ = "users"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    # Sign-in names the user by email alone, so an email belongs to one user across orgs.
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    password_hash: str = Field(sa_column=Column(String(256), nullable=False))
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_login_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    disabled_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


@tenant_table
class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a random token, the table only its hash."""

    __tablename__ = "user_sessions"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    user_id: int = Field(sa_column=Column(BigId, ForeignKey("users.id"), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # The CSRF token the SPA echoes in X-CSRF-Token; bound to this session.
    csrf_hash: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ended_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins counted per account and per client address, shared by every process.

    `subject` is a keyed hash ("account:" or "address:" + value), so neither the emails
    people typed nor their addresses are stored.
    """

    __tablename__ = "login_throttles"

    subject: str = Field(sa_column=Column(String(80), primary_key=True))
    failures: int = Field(sa_column=Column(Integer, nullable=False))
    window_start: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    locked_until: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
