"""Columns of other tables that points tabs join onto their page rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, String, and_, case, cast, func

from member360.db import table
from member360.history.tab import Join

_actions = table("actions")
_customers = table("customers")


def _add_action_name(stmt: Select[Any], ranked: Any) -> Select[Any]:
    # An action the organization has not named (or named "") shows its id.
    name = func.coalesce(func.nullif(_actions.c.name, ""), cast(ranked.c.action_id, String))
    return stmt.add_columns(name.label("action_name")).outerjoin(
        _actions,
        and_(_actions.c.org_id == ranked.c.org_id, _actions.c.action_id == ranked.c.action_id),
    )


ACTION_NAME = Join(_add_action_name, ("action_name",))


def _add_transfer_parties(stmt: Select[Any], ranked: Any) -> Select[Any]:
    """Who gave and who got: the member is the giver of a deduction, the taker of an addition."""
    me, other = _customers.alias("me"), _customers.alias("other")
    deduction = ranked.c.points < 0
    return (
        stmt.add_columns(
            case((deduction, me.c.customer_id), else_=other.c.customer_id).label(
                "from_customer_id"
            ),
            case((deduction, other.c.customer_id), else_=me.c.customer_id).label("to_customer_id"),
        )
        .join(me, me.c.id == ranked.c.customer_id)
        .outerjoin(other, other.c.id == ranked.c.counterparty_id)
    )


TRANSFER_PARTIES = Join(_add_transfer_parties, ("from_customer_id", "to_customer_id"))
