"""One query per batch for a page of every member's history: the shared keyset machinery.

A `HistorySpec` names a table, its time column and optional filters; `PagedHistoryLoader`
turns the (member, first, after, variant) keys of one request into one SELECT per distinct
(first, after, variant), each with `customer_id IN (...)` and a window that numbers every
member's rows newest first.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiodataloader import DataLoader
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    any_,
    bindparam,
    cast,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY

from member360.db import UTCDateTime


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


class Fetch(Protocol):
    async def __call__(self, stmt: Any, params: dict[str, Any]) -> Sequence[Any]: ...


def member_in(column: ColumnElement[Any], dialect: str, name: str = "pks") -> ColumnElement[bool]:
    """`column IN (:pks)` as a bound list: one array parameter on PostgreSQL."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(BigInteger())))
    return column.in_(bindparam(name, expanding=True))


@functools.cache
def paged_statement(
    spec: HistorySpec, variant: str | None, has_after: bool, dialect: str
) -> Select[Any]:
    """The page query of one tab, built once per shape; values arrive as bound parameters.

    Building and compiling SQLAlchemy statements per batch cost more than running them.
    """
    t = spec.table
    when = t.c[spec.time_column]
    base_conditions = [t.c.org_id == bindparam("org_id"), member_in(t.c.customer_id, dialect)]
    if spec.running_balance:
        # The running balance counts every entry of the member, whatever the tab shows.
        # As a bigint: PostgreSQL's sum of bigints is numeric (a Decimal in Python).
        running = cast(
            func.sum(t.c.points).over(
                partition_by=t.c.customer_id, order_by=(when, t.c.id), rows=(None, 0)
            ),
            BigInteger(),
        )
        source: Any = (
            select(t, running.label("running_balance")).where(*base_conditions).subquery("h")
        )
        conditions = list(spec.where(source, variant))
    else:
        source = t
        conditions = [*base_conditions, *spec.where(t, variant)]
    s_when, s_id = source.c[spec.time_column], source.c.id
    if has_after:
        conditions.append(
            tuple_(s_when, s_id)
            < tuple_(bindparam("after_at", type_=UTCDateTime()), bindparam("after_id"))
        )
    rank = func.row_number().over(
        partition_by=source.c.customer_id, order_by=(s_when.desc(), s_id.desc())
    )
    ranked = select(source, rank.label("rn")).where(*conditions).subquery("ranked")
    stmt = select(ranked).where(ranked.c.rn <= bindparam("limit"))
    if spec.decorate is not None:
        stmt = spec.decorate(stmt, ranked)
    return stmt.order_by(ranked.c.customer_id, ranked.c.rn)


def history_statement(
    spec: HistorySpec, org_id: int, pks: Sequence[int], key: PageKey, dialect: str
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement and parameters for `key.first` (+1, to see a next page) rows per member."""
    params: dict[str, Any] = {"org_id": org_id, "pks": list(pks), "limit": key.first + 1}
    if key.after is not None:
        params["after_at"], params["after_id"] = key.after
    return paged_statement(spec, key.variant, key.after is not None, dialect), params


class PagedHistoryLoader(DataLoader[PageKey, Page]):
    def __init__(self, fetch: Fetch, org_id: int, dialect: str, spec: HistorySpec) -> None:
        super().__init__()
        self.fetch = fetch
        self.org_id = org_id
        self.dialect = dialect
        self.spec = spec

    async def batch_load_fn(self, keys: Sequence[PageKey]) -> list[Page]:
        groups: dict[tuple[int, Any, str | None], list[int]] = {}
        for key in keys:
            groups.setdefault((key.first, key.after, key.variant), []).append(key.customer_pk)
        found: dict[tuple[int, Any, str | None], dict[int, list[Any]]] = {}
        for (first, after, variant), pks in groups.items():
            probe = PageKey(0, first, after, variant)
            stmt, params = history_statement(
                self.spec, self.org_id, sorted(set(pks)), probe, self.dialect
            )
            per_member: dict[int, list[Any]] = {}
            for row in await self.fetch(stmt, params):
                per_member.setdefault(row.customer_id, []).append(row)
            found[(first, after, variant)] = per_member
        pages = []
        for key in keys:
            rows = found[(key.first, key.after, key.variant)].get(key.customer_pk, [])
            pages.append(Page(rows[: key.first], len(rows) > key.first, key.after is not None))
        return pages


@dataclass(frozen=True)
class KeyedRows:
    """Rows looked up by a key for every node of a request at once (a redemption's breakup by
    its activity id): `statement(dialect)` binds `:org_id` and `:pks`; `key` is the row's
    column holding the key. The request's loader: `Loaders.keyed(rows)`."""

    statement: Callable[[str], Select[Any]]
    key: str


class RowsByKeyLoader(DataLoader[Any, list[Any]]):
    """Every row whose key is one of the batch's keys, in one query (e.g. open lots).

    `statement` takes the dialect and returns a statement with `:org_id` and `:pks` parameters.
    """

    def __init__(
        self,
        fetch: Fetch,
        org_id: int,
        dialect: str,
        statement: Callable[[str], Select[Any]],
        key_of: Callable[[Any], Any],
    ) -> None:
        super().__init__()
        self.fetch = fetch
        self.org_id = org_id
        self.stmt = statement(dialect)
        self.key_of = key_of

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[list[Any]]:
        grouped: dict[Any, list[Any]] = {}
        for row in await self.fetch(self.stmt, {"org_id": self.org_id, "pks": list(set(keys))}):
            grouped.setdefault(self.key_of(row), []).append(row)
        return [grouped.get(k, []) for k in keys]
