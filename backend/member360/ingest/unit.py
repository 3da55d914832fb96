"""Buffered writes for one import transaction: ids handed out up front, rows flushed in bulk.

Rows are plain dicts holding every column, so each table flushes as one executemany insert and
one executemany update, in foreign-key order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

import member360.models  # noqa: F401  (every table on the metadata)
from member360.db import metadata

# Insert order respects foreign keys.
FLUSH_ORDER = (
    "customers",
    "points_activities",
    "lots",
    "lot_consumptions",
    "transactions",
    "coupons",
    "communications",
    "behavioral_events",
    "leads",
    "segment_changes",
    "identifier_changes",
    "tier_changes",
    "ingested_events",
)

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
        "merged_into_id",
        "updated_at",
    ),
    "lots": ("remaining",),
    "lot_consumptions": ("restored",),
    "points_activities": ("points_reversed",),
    "coupons": ("redeemed_at", "order_id", "store_id", "resend_count"),
    "communications": ("status", "status_changed_at"),
    "leads": (
        "lead_type",
        "lead_for",
        "status",
        "sub_status",
        "updated_at",
        "last_follow_up_at",
        "next_follow_up_at",
        "extended_fields",
    ),
}

ID_BLOCK = 512


def table(name: str) -> Table:
    return metadata.tables[name]


def blank_row(name: str) -> dict[str, Any]:
    """A row with every column, defaults filled, for uniform executemany parameters."""
    row: dict[str, Any] = {}
    for column in table(name).columns:
        default = column.default.arg if column.default is not None else None
        row[column.name] = None if callable(default) else default
    return row


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
                await self.session.execute(table(name).insert(), rows)
                rows.clear()
                self._new_ids[name].clear()
            dirty = self._dirty.get(name)
            if dirty:
                cols = UPDATE_COLUMNS[name]
                t = table(name)
                stmt = (
                    update(t)
                    .where(t.c.id == bindparam("u_id"))
                    .values({c: bindparam(f"u_{c}") for c in cols})
                )
                params = [
                    {"u_id": row["id"], **{f"u_{c}": row[c] for c in cols}}
                    for row in dirty.values()
                ]
                await self.session.execute(stmt, params)
                dirty.clear()
