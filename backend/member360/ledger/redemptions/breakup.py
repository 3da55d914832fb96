"""A redemption's breakup: the lots it consumed, with the reason each lot was earned for."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select

from member360.db import table
from member360.graphql.paging import KeyedRows, member_in
from member360.history.tab import NOT_EXPORTED, NestedList, NodeField, Present, SqlTerms

_activities = table("points_activities")
_actions = table("actions")
_lots = table("lots")
_consumptions = table("lot_consumptions")


def _consumed_lots() -> Select[Any]:
    """Each consumption with its lot and the reason the lot was earned for, in the order the
    redemption consumed them (`position`)."""
    credit = _activities.alias("credit")
    return (
        select(
            _consumptions.c.id.label("position"),
            _consumptions.c.activity_id,
            _consumptions.c.points,
            _lots.c.earned_at,
            _lots.c.expires_at,
            func.coalesce(credit.c.reason, _actions.c.name).label("reason"),
        )
        .join(_lots, _lots.c.id == _consumptions.c.lot_id)
        .join(credit, credit.c.id == _lots.c.activity_id)
        .outerjoin(
            _actions,
            and_(_actions.c.org_id == credit.c.org_id, _actions.c.action_id == credit.c.action_id),
        )
    )


@functools.cache
def breakup_statement(dialect: str) -> Select[Any]:
    """The breakups of a request's redemptions (`:pks`, their activity ids), for the loader."""
    return (
        _consumed_lots()
        .where(
            _consumptions.c.org_id == bindparam("org_id"),
            member_in(_consumptions.c.activity_id, dialect),
        )
        .order_by(_consumptions.c.id)
    )


BREAKUP = KeyedRows(breakup_statement, "activity_id")


def _breakup_of(redemption: Any, terms: SqlTerms) -> Select[Any]:
    """One redemption's breakup, for the compiled reads (inside its page row)."""
    return _consumed_lots().where(
        _consumptions.c.org_id == terms.org, _consumptions.c.activity_id == redemption.c.id
    )


BREAKUP_LIST = NestedList(
    field_name="breakup",
    node_name="RedemptionBreakup",
    rows=_breakup_of,
    fields=(
        NodeField(
            "lot_earned_at",
            dt.datetime,
            NOT_EXPORTED,
            column="earned_at",
            present=Present.LOCAL_TIME,
        ),
        NodeField("points", int, NOT_EXPORTED),
        NodeField("expires_at", dt.datetime, NOT_EXPORTED, present=Present.LOCAL_TIME),
        NodeField("reason", str | None, NOT_EXPORTED),
    ),
)
