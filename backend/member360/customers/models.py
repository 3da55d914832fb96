from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel

from member360.db import BigId, UTCDateTime, tenant_table
from member360.orgs.models import org_fk


@tenant_table
class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("org_id", "customer_id"),
        Index("ix_customers_org_email", "org_id", text("lower(email)")),
        Index("ix_customers_org_mobile", "org_id", "mobile"),
        Index("ix_customers_org_external_id", "org_id", "external_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: str
    name: str
    email: str | None = None
    mobile: str | None = None
    external_id: str | None = None
    opted_in: bool = False
    tier: str | None = None
    user_role: str | None = None
    group_id: str | None = None
    points_balance: int = 0
    # Every point ever credited to the member (earned, restored, transferred in) and every group
    # point recorded on those credits: each capped at a GraphQL Int so that every sum of the
    # member's activities the API shows fits one (member360.ledger.engine.MAX_CREDITED).
    # BigInteger: histories imported before the cap (migration 0008) may sum beyond it.
    points_credited: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, default=0, server_default="0")
    )
    group_points_credited: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, default=0, server_default="0")
    )
    # Set once this member was merged into another: its ids then resolve to the survivor.
    merged_into_id: int | None = Field(
        default=None, sa_column=Column(BigId, ForeignKey("customers.id"), nullable=True)
    )
    enrolled_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


# Substring search (PostgreSQL, pg_trgm): the member search and the All Interactions report's
# name, email and contentText filters, which match `lower(column) LIKE '%…%'`.
for _column in ("name", "email", "mobile", "customer_id", "user_role"):
    Index(
        f"ix_customers_{_column}_trgm",
        func.lower(Customer.__table__.c[_column]).label(_column),  # type: ignore[attr-defined]
        postgresql_using="gin",
        postgresql_ops={_column: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")
