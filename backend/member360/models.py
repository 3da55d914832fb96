"""Imports every table so the metadata (Alembic, tests) sees the whole schema."""

from member360.audit.models import AuditEvent
from member360.auth.models import ApiKey, LoginThrottle, User, UserSession
from member360.customers.models import Customer
from member360.exports.models import ExportJob
from member360.history.behavioral_events.models import BehavioralEvent
from member360.history.leads.models import Lead
from member360.history.models import (
    Communication,
    Coupon,
    IdentifierChange,
    TierChange,
)
from member360.history.segments.models import SegmentChange
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
