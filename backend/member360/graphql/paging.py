"""One query per batch for a page of every member's history: the shared keyset machinery.

A `HistorySpec` names a table, its time column and optional filters; `PagedHistoryLoader`
turns the (member, first, after, variant) keys of one request into one SELECT per distinct
(first, after, variant), each with `customer_id IN (...)` and a window that numbers every
member's rows newest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, Table, func, select, tuple_

from member360.db import Database


@dataclass(frozen=True)
class PageKey:
    customer_pk: int
    first: int
    after: tuple[dt.datetime, int] | None = None
    variant: str | None = None


@dataclass
class Page:
    rows: list[Any]
    has_next: bool
    has_previous: bool


@dataclass(frozen=True)
class HistorySpec:
    table: Table
    time_column: str
    # Conditions for a variant (a tab filter such as a channel); None: no filter.
    where: Callable[[Table, str | None], Sequence[ColumnElement[bool]]] = lambda t, v: ()
    # Extra columns joined onto each page row: (final select, ranked subquery) -> select.
    decorate: Callable[[Select[Any], Any], Select[Any]] | None = None
    running_balance: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def history_statement(
    spec: HistorySpec, org_id: int, pks: Sequence[int], key: PageKey
) -> Select[Any]:
    t = spec.table
    when = t.c[spec.time_column]
    base_conditions = [t.c.org_id == org_id, t.c.customer_id.in_(pks)]
    if spec.running_balance:
        # The running balance counts every entry of the member, whatever the tab shows.
        running = func.sum(t.c.points).over(
            partition_by=t.c.customer_id, order_by=(when, t.c.id), rows=(None, 0)
        )
        source: Any = (
            select(t, running.label("running_balance")).where(*base_conditions).subquery("h")
        )
        conditions = list(spec.where(source, key.variant))
    else:
        source = t
        conditions = [*base_conditions, *spec.where(t, key.variant)]
    s_when, s_id = source.c[spec.time_column], source.c.id
    if key.after is not None:
        conditions.append(tuple_(s_when, s_id) < tuple_(*key.after))
    rank = func.row_number().over(
        partition_by=source.c.customer_id, order_by=(s_when.desc(), s_id.desc())
    )
    ranked = select(source, rank.label("rn")).where(*conditions).subquery("ranked")
    stmt = select(ranked).where(ranked.c.rn <= key.first + 1)
    if spec.decorate is not None:
        stmt = spec.decorate(stmt, ranked)
    return stmt.order_by(ranked.c.customer_id, ranked.c.rn)


class PagedHistoryLoader(DataLoader[PageKey, Page]):
    def __init__(self, db: Database, org_id: int, spec: HistorySpec) -> None:
        super().__init__()
        self.db = db
        self.org_id = org_id
        self.spec = spec

    async def batch_load_fn(self, keys: Sequence[PageKey]) -> list[Page]:
        groups: dict[tuple[int, Any, str | None], list[int]] = {}
        for key in keys:
            groups.setdefault((key.first, key.after, key.variant), []).append(key.customer_pk)
        found: dict[tuple[int, Any, str | None], dict[int, list[Any]]] = {}
        async with self.db.session(self.org_id) as session:
            for (first, after, variant), pks in groups.items():
                probe = PageKey(0, first, after, variant)
                stmt = history_statement(self.spec, self.org_id, sorted(set(pks)), probe)
                per_member: dict[int, list[Any]] = {}
                for row in (await session.execute(stmt)).all():
                    per_member.setdefault(row.customer_id, []).append(row)
                found[(first, after, variant)] = per_member
        pages = []
        for key in keys:
            rows = found[(key.first, key.after, key.variant)].get(key.customer_pk, [])
            pages.append(Page(rows[: key.first], len(rows) > key.first, key.after is not None))
        return pages


class RowsByKeyLoader(DataLoader[Any, list[Any]]):
    """Every row whose `column` is one of the batch's keys, in one query (e.g. open lots)."""

    def __init__(
        self,
        db: Database,
        org_id: int,
        build: Callable[[int, Sequence[Any]], Select[Any]],
        key_of: Callable[[Any], Any],
    ) -> None:
        super().__init__()
        self.db = db
        self.org_id = org_id
        self.build = build
        self.key_of = key_of

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[list[Any]]:
        grouped: dict[Any, list[Any]] = {}
        async with self.db.session(self.org_id) as session:
            for row in (await session.execute(self.build(self.org_id, list(set(keys))))).all():
                grouped.setdefault(self.key_of(row), []).append(row)
        return [grouped.get(k, []) for k in keys]
