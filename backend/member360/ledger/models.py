"""The points ledger: signed activities, the lots credits create, and what each debit consumed."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from member360.db import BigId, UTCDateTime, tenant_table
from member360.orgs.models import org_fk


class ActivityKind(StrEnum):
    EARN = "EARN"  # points.earned, transaction.purchased
    REDEEM = "REDEEM"  # points.redeemed
    REVERSAL = "REVERSAL"  # debit of points earned on a returned order
    RESTORE = "RESTORE"  # credit giving back points redeemed against a returned order
    EXPIRY = "EXPIRY"  # lots reaching their expiry
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"


CREDIT_KINDS = (ActivityKind.EARN, ActivityKind.RESTORE, ActivityKind.TRANSFER_IN)

# The activity's own text columns of the All Interactions report (its contentText search).
SEARCH_COLUMNS = (
    "order_id",
    "custom_id",
    "reward_name",
    "reason",
    "source",
    "store_id",
    "survey_id",
    "section_id",
)


def activity_search_text(t: Any) -> ColumnElement[str]:
    """lower() of the search columns joined by newlines: one value for one trigram index.

    PostgreSQL only (SQLite keeps the same text in an FTS5 table, migration 0002). Queries must
    build it with this function so that it matches the index expression; every constant is a
    literal, not a parameter, for the same reason. A search term never holds a newline, so a
    match is a match inside one column.
    """
    sep = func.chr(text("10"))
    empty = text("''")
    parts: list[Any] = []
    for name in SEARCH_COLUMNS:
        if parts:
            parts.append(sep)
        parts.append(func.coalesce(t.c[name], empty))
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return func.lower(joined)


class Category(StrEnum):
    REGULAR = "REGULAR"
    PROMOTION = "PROMOTION"
    TRACKER = "TRACKER"


def customer_fk() -> Column:  # type: ignore[type-arg]
    return Column(BigId, ForeignKey("customers.id"), nullable=False)


@tenant_table
class PointsActivity(SQLModel, table=True):
    __tablename__ = "points_activities"
    __table_args__ = (
        # Newest-first history of one member; id breaks ties in application order.
        Index("ix_points_activities_customer_time", "customer_id", "occurred_at", "id"),
        Index("ix_points_activities_customer_order", "customer_id", "order_id"),
        # The All Interactions report: its rows in key order (day, member, action, order,
        # custom id), so a page streams out of a backward scan and stops when full; points
        # make the totals an index-only scan.
        Index(
            "ix_points_activities_report",
            "org_id",
            "local_date",
            "customer_id",
            "action_id",
            "order_id",
            "custom_id",
            "points",
        ),
        # The report's source drop-down (a loose index scan) and sender/receiver text search.
        Index("ix_points_activities_org_source", "org_id", "source"),
        Index(
            "ix_points_activities_counterparty",
            "counterparty_id",
            postgresql_where=text("counterparty_id IS NOT NULL"),
            sqlite_where=text("counterparty_id IS NOT NULL"),
        ),
        Index(
            "ix_points_activities_transfer",
            "org_id",
            "transfer_id",
            postgresql_where=text("transfer_id IS NOT NULL"),
            sqlite_where=text("transfer_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    # The member this row belonged to before a merge moved it.
    original_customer_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    event_id: str | None = None
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    category: str = Field(default=Category.REGULAR, sa_column=Column(String(16), nullable=False))
    occurred_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Calendar day of occurred_at in the org's time zone, kept for the per-day report.
    local_date: dt.date = Field(sa_column=Column(Date, nullable=False))
    action_id: int
    points: int  # signed: credits > 0, debits < 0, never 0
    order_id: str | None = None
    custom_id: str | None = None
    store_id: str | None = None
    source: str | None = None
    reason: str | None = None
    campaign_id: str | None = None
    action_series_id: str | None = None
    reward_name: str | None = None
    survey_id: str | None = None
    section_id: str | None = None
    tracker_value: float | None = None
    group_points: int | None = None
    transfer_id: str | None = None
    program: str | None = None
    counterparty_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    # Credits: when the lot they created expires.
    expires_at: dt.datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    # Redemptions: points given back by returns of the order.
    points_reversed: int = 0
    # Reversals: points the balance could not cover.
    points_unrecovered: int = 0
    # Restores: the redemption they give back.
    redemption_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))


# The report's contentText search on PostgreSQL (SQLite: the FTS5 table of migration 0002).
Index(
    "ix_points_activities_text_trgm",
    activity_search_text(PointsActivity.__table__).label("search_text"),  # type: ignore[attr-defined]
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
).ddl_if(dialect="postgresql")


@tenant_table
class Lot(SQLModel, table=True):
    __tablename__ = "lots"
    __table_args__ = (
        Index(
            "ix_lots_open_by_customer",
            "customer_id",
            "expires_at",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
        Index(
            "ix_lots_open_by_expiry",
            "org_id",
            "expires_at",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    customer_id: int = Field(sa_column=customer_fk())
    original_customer_id: int | None = Field(default=None, sa_column=Column(BigId, nullable=True))
    activity_id: int = Field(
        sa_column=Column(BigId, ForeignKey("points_activities.id"), nullable=False)
    )
    earned_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    points: int
    remaining: int


@tenant_table
class LotConsumption(SQLModel, table=True):
    __tablename__ = "lot_consumptions"
    __table_args__ = (Index("ix_lot_consumptions_activity", "activity_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    org_id: int = org_fk()
    activity_id: int = Field(
        sa_column=Column(BigId, ForeignKey("points_activities.id"), nullable=False)
    )
    lot_id: int = Field(sa_column=Column(BigId, ForeignKey("lots.id"), nullable=False))
    points: int
    # Of `points`, how many a return has since given back to the lot.
    restored: int = 0
