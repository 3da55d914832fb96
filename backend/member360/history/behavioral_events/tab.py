"""The Behavioral Events tab, declared: `Customer.behavioralEvents`, its `BehavioralEvent` node,
the workbook's Behavioral Events sheet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal
from sqlalchemy.dialects.postgresql import JSONB
from strawberry.scalars import JSON

from member360.history.behavioral_events.models import BehavioralEvent
from member360.history.tab import (
    NOT_EXPORTED,
    PYTHON_ONLY,
    Export,
    HistoryTab,
    NodeField,
    Present,
    SqlTerms,
)


def effective_till_code(row: Any) -> str | None:
    """The till code an event carries in its attributes wins over the integration's."""
    attributes = row.attributes
    if isinstance(attributes, dict) and attributes.get("tillCode") not in (None, ""):
        return str(attributes["tillCode"])
    return row.till_code


def effective_till_code_sql(t: Any, terms: SqlTerms) -> ColumnElement[Any]:
    """effective_till_code in SQL, for the compiled reads: a text, a whole number or a boolean
    attribute reads as Python's str() writes it; any other number or an object or array is
    PYTHON_ONLY (str() of 2.50 or of a dict is Python's own)."""
    attributes, stored = t.c.attributes, t.c.till_code
    python_only = literal(PYTHON_ONLY)
    if terms.dialect == "postgresql":
        value = attributes.op("->", return_type=JSONB)(literal("tillCode"))
        kind = func.jsonb_typeof(value)
        text = attributes.op("->>", return_type=String)(literal("tillCode"))
        given = and_(
            func.jsonb_typeof(cast(attributes, JSONB)) == "object",
            kind.in_(("string", "number", "boolean", "object", "array")),
            value != cast(literal('""'), JSONB),
        )
        shown = case(
            (kind == "string", text),
            (kind == "boolean", case((text == "true", "True"), else_="False")),
            (and_(kind == "number", text.regexp_match("^(0|-?[1-9][0-9]*)$")), text),
            else_=python_only,
        )
    else:
        kind = func.json_type(attributes, "$.tillCode")
        extracted = func.json_extract(attributes, "$.tillCode")
        given = and_(
            func.json_type(attributes) == "object",
            kind.in_(("text", "integer", "real", "true", "false", "object", "array")),
            ~and_(kind == "text", extracted == ""),
        )
        shown = case(
            (kind == "text", extracted),
            (kind == "integer", cast(extracted, String)),
            (kind == "true", "True"),
            (kind == "false", "False"),
            else_=python_only,
        )
    return case((given, shown), else_=stored)


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
            sql_rule=effective_till_code_sql,
        ),
        # A JSON object of any shape: the SPA shows it compacted, a cell could not hold it.
        NodeField("attributes", JSON | None, NOT_EXPORTED, present=Present.JSON),
    ),
    customer_tab="BEHAVIORAL_EVENTS",
    export_title="Behavioral Events",
    spa_tab="events",
)
