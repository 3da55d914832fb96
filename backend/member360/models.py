"""Imports every table so the metadata (Alembic, tests) sees the whole schema, and reads from
that metadata the table lists others would otherwise write by hand: the tables a member's rows
live in, and the import's insert order."""

from __future__ import annotations

import functools

from sqlmodel import SQLModel

from member360.audit.models import AuditEvent
from member360.auth.models import ApiKey, LoginThrottle, User, UserSession
from member360.customers.models import Customer
from member360.exports.models import ExportJob
from member360.history.behavioral_events.models import BehavioralEvent
from member360.history.communications.models import Communication
from member360.history.coupons.models import Coupon
from member360.history.identifiers.models import IdentifierChange
from member360.history.leads.models import Lead
from member360.history.segments.models import SegmentChange
from member360.history.tiers.models import TierChange
from member360.history.transactions.models import Transaction
from member360.ingest.models import IngestedEvent
from member360.ledger.models import Lot, LotConsumption, PointsActivity
from member360.orgs.models import (
    Action,
    ActionSeries,
    Campaign,
    Organization,
    Store,
    Survey,
    SurveySection,
)

__all__ = [
    "Action",
    "ActionSeries",
    "ApiKey",
    "AuditEvent",
    "BehavioralEvent",
    "Campaign",
    "Communication",
    "Coupon",
    "Customer",
    "ExportJob",
    "IdentifierChange",
    "IngestedEvent",
    "Lead",
    "LoginThrottle",
    "Lot",
    "LotConsumption",
    "Organization",
    "PointsActivity",
    "SegmentChange",
    "Store",
    "Survey",
    "SurveySection",
    "TierChange",
    "Transaction",
    "User",
    "UserSession",
]


@functools.cache
def member_tables() -> tuple[str, ...]:
    """Tables whose rows belong to one member and follow it when it is merged into another:
    those with a `customer_id` referencing customers and the `original_customer_id` column the
    move fills in (history/models.py `moved_from`)."""
    return tuple(
        t.name
        for t in SQLModel.metadata.sorted_tables
        if "original_customer_id" in t.c
        and any(fk.column.table.name == "customers" for fk in t.c.customer_id.foreign_keys)
    )


@functools.cache
def import_flush_order() -> tuple[str, ...]:
    """The tables an import writes, parents before children (foreign-key order): customers,
    every member table, the tables hanging off those (a lot's consumptions), and the import's
    own record of applied events."""
    written = {"customers", *member_tables(), "ingested_events"}
    for t in SQLModel.metadata.sorted_tables:
        if any(fk.column.table.name in member_tables() for fk in t.foreign_keys):
            written.add(t.name)
    return tuple(t.name for t in SQLModel.metadata.sorted_tables if t.name in written)
