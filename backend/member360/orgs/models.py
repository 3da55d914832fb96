"""Organizations (tenants) and their catalogs: stores, actions, campaigns, series, surveys."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, ForeignKey, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from member360.db import BigId, JSONType, UTCDateTime, tenant_table

# The built-in action catalog every organization starts with (contract, "Event import").
BUILTIN_ACTIONS: dict[int, str] = {
    100: "Purchase",
    101: "Return",
    102: "Redemption",
    103: "Points Expired",
    172: "Survey Completed",
    173: "Section Completed",
    176: "Point Transfer",
    1008: "Campaign Benefit",
}
ACTION_PURCHASE = 100
ACTION_RETURN = 101
ACTION_REDEMPTION = 102
ACTION_EXPIRED = 103
ACTION_TRANSFER = 176
ACTION_CAMPAIGN = 1008

EXTENDED_ATTRIBUTES = (
    "SENDER_ID",
    "RECEIVER_ID",
    "PHONE_NUMBER",
    "USER_ROLE",
    "STORE_ID",
    "STORE_NAME",
    "STORE_REGION",
    "STORE_TYPE",
)


def org_fk() -> Any:
    # No index of its own: every tenant table has composite indexes led by org_id, and a lone
    # org_id index tempts PostgreSQL into scanning a whole organization.
    return Field(sa_column=Column(BigId, ForeignKey("organizations.id"), nullable=False))


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    slug: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    name: str
    time_zone: str
    hierarchy: bool = False
    surveys: bool = False
    extended_attributes: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False)
    )
    default_validity_days: int = 365
    # Bumped by every ledger write: the row lock it takes serialises writers of one org.
    ledger_version: int = 0
    created_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


@tenant_table
class Store(SQLModel, table=True):
    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("org_id", "store_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    store_id: str
    name: str
    region: str | None = None
    store_type: str | None = None


@tenant_table
class Action(SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("org_id", "action_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    action_id: int
    name: str


@tenant_table
class Campaign(SQLModel, table=True):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("org_id", "campaign_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    campaign_id: str
    name: str


@tenant_table
class ActionSeries(SQLModel, table=True):
    __tablename__ = "action_series"
    __table_args__ = (UniqueConstraint("org_id", "action_series_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    action_series_id: str
    name: str


@tenant_table
class Survey(SQLModel, table=True):
    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("org_id", "survey_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    survey_id: str
    name: str


@tenant_table
class SurveySection(SQLModel, table=True):
    __tablename__ = "survey_sections"
    __table_args__ = (UniqueConstraint("org_id", "survey_id", "section_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    survey_id: str
    section_id: str
    name: str
