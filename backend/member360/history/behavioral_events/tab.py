"""The Behavioral Events tab, declared: `Customer.behavioralEvents`, its `BehavioralEvent` node,
the workbook's Behavioral Events sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from strawberry.scalars import JSON

from member360.history.behavioral_events.models import BehavioralEvent
from member360.history.tab import NOT_EXPORTED, Export, HistoryTab, NodeField, Present


def effective_till_code(row: Any) -> str | None:
    """The till code an event carries in its attributes wins over the integration's."""
    attributes = row.attributes
    if isinstance(attributes, dict) and attributes.get("tillCode") not in (None, ""):
        return str(attributes["tillCode"])
    return row.till_code


BEHAVIORAL_EVENTS = HistoryTab(
    field_name="behavioral_events",
    node_name="BehavioralEvent",
    table=BehavioralEvent.__table__,  # type: ignore[attr-defined]
    time_column="occurred_at",
    fields=(
        NodeField("occurred_at", dt.datetime, Export("Date"), present=Present.LOCAL_TIME),
        NodeField("event", str, Export("Event")),
        NodeField("tracking_id", str, Export("Tracking ID")),
        NodeField("source", str | None, Export("Source")),
        NodeField("account_id", str | None, Export("Account ID")),
        # The attribute's value may be any JSON (a number, too): str() of it, as the contract
        # has it, is a rule of Python's, not of either database's JSON functions.
        NodeField(
            "till_code",
            str | None,
            Export("Till Code"),
            derived=effective_till_code,
            reads=("attributes", "till_code"),
        ),
        # A JSON object of any shape: the SPA shows it compacted, a cell could not hold it.
        NodeField("attributes", JSON | None, NOT_EXPORTED, present=Present.JSON),
    ),
    customer_tab="BEHAVIORAL_EVENTS",
    export_title="Behavioral Events",
    spa_tab="events",
)
