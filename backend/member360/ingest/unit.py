"""Buffered writes for one import transaction: ids handed out up front, rows flushed in bulk.

Rows are plain dicts holding every column, so each table flushes as one executemany insert and
one executemany update, in foreign-key order.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from member360.db import table
from member360.history.communications import ingest as communications
from member360.history.coupons import ingest as coupons
from member360.history.leads import ingest as leads
from member360.models import import_flush_order

# Insert order respects foreign keys (read from the metadata).
FLUSH_ORDER = import_flush_order()

# What an update may change, per table (everything else is written once).
UPDATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "name",
        "email",
        "mobile",
        "external_id",
        "opted_in",
        "tier",
        "user_role",
        "group_id",
        "points_balance",
        "points_credited",
        "group_points_credited",
        "merged_into_id",
        "updated_at",
    ),
    "lots": ("remaining",),
    "lot_consumptions": ("restored",),
    "points_activities": ("points_reversed",),
    coupons.TABLE: coupons.UPDATE_COLUMNS,
    communications.TABLE: communications.UPDATE_COLUMNS,
    leads.TABLE: leads.UPDATE_COLUMNS,
}

ID_BLOCK = 512


_BLANKS: dict[str, dict[str, Any]] = {}


def blank_row(name: str) -> dict[str, Any]:
    """A row with every column, defaults filled, for uniform executemany parameters."""
    blank = _BLANKS.get(name)
    if blank is None:
        blank = {}
        for column in table(name).columns:
            default = column.default.arg if column.default is not None else None
            blank[column.name] = None if callable(default) else default
        _BLANKS[name] = blank
    return dict(blank)


class UnitOfWork:
    def __init__(self, session: AsyncSession, org_id: int) -> None:
        self.session = session
        self.org_id = org_id
        self.dialect = session.bind.dialect.name
        self._new: dict[str, list[dict[str, Any]]] = {name: [] for name in FLUSH_ORDER}
        self._new_ids: dict[str, set[int]] = {name: set() for name in FLUSH_ORDER}
        self._dirty: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in UPDATE_COLUMNS}
        self._ids: dict[str, list[int]] = {}
        self._sqlite_next: dict[str, int] = {}

    async def new_id(self, name: str) -> int:
        pool = self._ids.get(name)
        if not pool:
            pool = self._ids[name] = await self._reserve(name, ID_BLOCK)
        return pool.pop()

    async def _reserve(self, name: str, count: int) -> list[int]:
        if self.dialect == "postgresql":
            seq = f"{name}_id_seq"
            rows = await self.session.execute(
                text(f"SELECT nextval('{seq}') FROM generate_series(1, :n)"), {"n": count}
            )
            return sorted((r[0] for r in rows), reverse=True)
        # SQLite: this transaction holds the database's only write lock (see Importer.lock),
        # so the next ids after the current maximum are ours until commit.
        start = self._sqlite_next.get(name)
        if start is None:
            top = await self.session.scalar(select(func.max(table(name).c.id)))
            start = (top or 0) + 1
        self._sqlite_next[name] = start + count
        return list(range(start + count - 1, start - 1, -1))

    async def add(self, name: str, values: dict[str, Any]) -> dict[str, Any]:
        row = blank_row(name)
        row.update(values)
        row["org_id"] = self.org_id
        if row.get("id") is None:
            row["id"] = await self.new_id(name)
        self._new[name].append(row)
        self._new_ids[name].add(row["id"])
        return row

    def changed(self, name: str, row: dict[str, Any]) -> None:
        """Marks an existing row changed; a row inserted in this unit is written whole anyway."""
        if row["id"] in self._new_ids.get(name, ()):
            return
        self._dirty[name][row["id"]] = row

    def has_pending(self) -> bool:
        return any(self._new.values()) or any(self._dirty.values())

    async def flush(self) -> None:
        for name in FLUSH_ORDER:
            rows = self._new[name]
            if rows:
                if self.dialect == "postgresql":
                    await self._insert_from_arrays(name, rows)
                else:
                    await self.session.execute(table(name).insert(), rows)
                rows.clear()
                self._new_ids[name].clear()
            dirty = self._dirty.get(name)
            if dirty:
                if self.dialect == "postgresql":
                    await self._update_from_arrays(name, list(dirty.values()))
                else:
                    await self._update_many(name, list(dirty.values()))
                dirty.clear()

    async def _update_many(self, name: str, rows: list[dict[str, Any]]) -> None:
        cols = UPDATE_COLUMNS[name]
        t = table(name)
        stmt = (
            update(t)
            .where(t.c.id == bindparam("u_id"))
            .values({c: bindparam(f"u_{c}") for c in cols})
        )
        params = [{"u_id": row["id"], **{f"u_{c}": row[c] for c in cols}} for row in rows]
        await self.session.execute(stmt, params)

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def _insert_from_arrays(self, name: str, rows: list[dict[str, Any]]) -> None:
        """PostgreSQL: one INSERT … SELECT FROM unnest(arrays) per table, in this transaction.

        Not COPY: PostgreSQL refuses COPY FROM into a table under row-level security. One array
        per column keeps it one statement with a constant text (a cached plan) per table.
        """
        t = table(name)
        columns = [c.name for c in t.columns]
        types = [_pg_type(t.c[c]) for c in columns]
        arrays = ", ".join(f"${i + 1}::{kind}[]" for i, kind in enumerate(types))
        names = ", ".join(columns)
        picks = ", ".join(f"v.{c}::jsonb" if _is_json(t.c[c]) else f"v.{c}" for c in columns)
        sql = f"INSERT INTO {name} ({names}) SELECT {picks} FROM unnest({arrays}) AS v({names})"
        convert = [_pg_value(t.c[c]) for c in columns]
        values = [[f(row[c]) for row in rows] for c, f in zip(columns, convert, strict=True)]
        await (await self._driver()).execute(sql, *values)

    async def _update_from_arrays(self, name: str, rows: list[dict[str, Any]]) -> None:
        """PostgreSQL: one UPDATE … FROM unnest(arrays) for every changed row of a table."""
        cols = UPDATE_COLUMNS[name]
        t = table(name)
        types = [_pg_type(t.c[c]) for c in cols]
        unnest = ", ".join(f"${i + 2}::{kind}[]" for i, kind in enumerate(types))
        names = ", ".join(cols)
        sets = ", ".join(
            f"{c} = v.{c}::jsonb" if kind == "text" and _is_json(t.c[c]) else f"{c} = v.{c}"
            for c, kind in zip(cols, types, strict=True)
        )
        sql = (
            f"UPDATE {name} SET {sets} FROM unnest($1::bigint[], {unnest}) AS v(id, {names}) "
            f"WHERE {name}.id = v.id"
        )
        convert = [_pg_value(t.c[c]) for c in cols]
        arrays = [[row["id"] for row in rows]] + [
            [f(row[c]) for row in rows] for c, f in zip(cols, convert, strict=True)
        ]
        await (await self._driver()).execute(sql, *arrays)


def _is_json(column: Any) -> bool:
    return "JSON" in type(column.type).__name__ or "JSON" in repr(column.type)


def _pg_type(column: Any) -> str:
    from sqlalchemy import BigInteger, Boolean, Date, Float, Integer

    from member360.db import UTCDateTime

    kind = column.type
    if _is_json(column):
        return "text"
    if isinstance(kind, UTCDateTime):
        return "timestamptz"
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Float):
        return "float8"
    if isinstance(kind, BigInteger):
        return "bigint"
    if isinstance(kind, Integer):
        return "bigint" if column.primary_key else "integer"
    return "text"


def _pg_value(column: Any) -> Any:
    """How a Python value is handed to asyncpg directly (JSON as text, instants in UTC)."""
    if _is_json(column):
        return lambda v: None if v is None else json.dumps(v)
    return lambda v: v
