"""Batched reads of the points ledger: one statement per tab for every member of a request."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select

from member360.db import table
from member360.graphql.paging import HistorySpec, member_in

activities = table("points_activities")
actions = table("actions")
customers = table("customers")
lots = table("lots")
consumptions = table("lot_consumptions")


def _with_action_name(stmt: Select[Any], ranked: Any) -> Select[Any]:
    return stmt.add_columns(actions.c.name.label("action_name")).outerjoin(
        actions,
        and_(actions.c.org_id == ranked.c.org_id, actions.c.action_id == ranked.c.action_id),
    )


def _with_transfer_parties(stmt: Select[Any], ranked: Any) -> Select[Any]:
    me, other = customers.alias("me"), customers.alias("other")
    return (
        stmt.add_columns(
            me.c.customer_id.label("self_customer_id"),
            other.c.customer_id.label("counterparty_customer_id"),
        )
        .join(me, me.c.id == ranked.c.customer_id)
        .outerjoin(other, other.c.id == ranked.c.counterparty_id)
    )


def _activity_filter(t: Any, variant: str | None) -> Sequence[Any]:
    if variant is None:
        return ()
    return (t.c.category == variant, t.c.points > 0)


ACTIVITY = HistorySpec(
    activities,
    "occurred_at",
    where=_activity_filter,
    decorate=_with_action_name,
    running_balance=True,
)
REDEMPTIONS = HistorySpec(
    activities,
    "occurred_at",
    where=lambda t, v: (t.c.kind == "REDEEM",),
    decorate=_with_action_name,
)
EXPIRED = HistorySpec(activities, "occurred_at", where=lambda t, v: (t.c.kind == "EXPIRY",))
TRANSFERS = HistorySpec(
    activities,
    "occurred_at",
    where=lambda t, v: (t.c.kind.in_(("TRANSFER_OUT", "TRANSFER_IN")),),
    decorate=_with_transfer_parties,
)
TIER_HISTORY = HistorySpec(table("tier_changes"), "changed_at")


@functools.cache
def breakup_statement(dialect: str) -> Select[Any]:
    """The lots each redemption consumed, with the reason the lot was earned for."""
    credit = activities.alias("credit")
    return (
        select(
            consumptions.c.activity_id,
            consumptions.c.points,
            lots.c.earned_at,
            lots.c.expires_at,
            func.coalesce(credit.c.reason, actions.c.name).label("reason"),
        )
        .join(lots, lots.c.id == consumptions.c.lot_id)
        .join(credit, credit.c.id == lots.c.activity_id)
        .outerjoin(
            actions,
            and_(actions.c.org_id == credit.c.org_id, actions.c.action_id == credit.c.action_id),
        )
        .where(
            consumptions.c.org_id == bindparam("org_id"),
            member_in(consumptions.c.activity_id, dialect),
        )
        .order_by(consumptions.c.id)
    )


@functools.cache
def open_lots_statement(dialect: str) -> Select[Any]:
    return select(lots.c.customer_id, lots.c.expires_at, lots.c.remaining).where(
        lots.c.org_id == bindparam("org_id"),
        member_in(lots.c.customer_id, dialect),
        lots.c.remaining > 0,
    )
