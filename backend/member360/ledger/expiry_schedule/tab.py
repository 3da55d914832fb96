"""Points, Expiry Schedule: the member's unexpired points by the day they expire, in the
organization's time zone, worked out from the open lots (a list, not a page)."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy import BigInteger, Select, bindparam, cast, func, literal_column, select

from member360.graphql.paging import KeyedRows, member_in
from member360.history.tab import NOT_EXPORTED, ListTab, NestedList, NodeField, SqlTerms
from member360.ledger.models import Lot

_lots = Lot.__table__  # type: ignore[attr-defined]
# `remaining > 0` written into the SQL, not bound: the open-lots indexes are partial on exactly
# that condition, and a generic plan can only use them when it sees the 0 (bound, PostgreSQL's
# generic plan scanned every lot: 136 ms instead of 0.1).
OPEN = _lots.c.remaining > literal_column("0")


@strawberry.type
class ExpiryBucket:
    expires_on: dt.date
    points: int


@functools.cache
def open_lots_statement(dialect: str) -> Select[Any]:
    return select(_lots.c.customer_id, _lots.c.expires_at, _lots.c.remaining).where(
        _lots.c.org_id == bindparam("org_id"),
        member_in(_lots.c.customer_id, dialect),
        OPEN,
    )


OPEN_LOTS = KeyedRows(open_lots_statement, "customer_id")


def schedule(open_lots: Iterable[Any], tz: ZoneInfo) -> list[ExpiryBucket]:
    """Open lots' remaining points summed by their local expiry day, soonest first."""
    buckets: dict[dt.date, int] = defaultdict(int)
    for lot in open_lots:
        buckets[lot.expires_at.astimezone(tz).date()] += lot.remaining
    return [ExpiryBucket(expires_on=day, points=points) for day, points in sorted(buckets.items())]


def _days_of(member: Any, terms: SqlTerms) -> Select[Any]:
    """schedule() in SQL, for the compiled reads: one member's open lots by local expiry day."""
    day = terms.local_day(_lots.c.expires_at)
    return (
        select(
            day.label("position"),
            day.label("expires_on"),
            cast(func.sum(_lots.c.remaining), BigInteger()).label("points"),
        )
        .where(
            _lots.c.org_id == terms.org,
            _lots.c.customer_id == member.c.id,
            OPEN,
        )
        .group_by(day)
    )


POINTS_EXPIRY_SCHEDULE = ListTab(
    field_name="expiry_schedule",
    customer_tab="POINTS_EXPIRY_SCHEDULE",
    export_title="Points — Expiry Schedule",
    spa_tab="points/expiry-schedule",
    columns=(("Expires On", "date"), ("Points", "int")),
    under="points",
    items=NestedList(
        field_name="expiry_schedule",
        node_name="ExpiryBucket",
        rows=_days_of,
        fields=(
            NodeField("expires_on", dt.date, NOT_EXPORTED),
            NodeField("points", int, NOT_EXPORTED),
        ),
    ),
)
