"""Builders for import events and small helpers that read state back, used across tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import func, select

from member360.db import Database, table
from member360.ingest.importer import Importer, ImportOutcome
from member360.orgs.service import OrgInfo

_ids = itertools.count(1)
# 100 days ago at 10:00 UTC: events at(0)..at(99) are recent, so nothing expires unless a test
# says when (the default validity is 365 days).
BASE = (dt.datetime.now(dt.UTC) - dt.timedelta(days=100)).replace(
    hour=10, minute=0, second=0, microsecond=0
)


def at(days: float = 0, hours: float = 0) -> str:
    """An ISO instant `days` after BASE."""
    return (BASE + dt.timedelta(days=days, hours=hours)).isoformat()


def event(type_: str, *, when: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "id": f"ev-{next(_ids)}", "occurredAt": when or at(), **fields}


def make_customer(customer_id: str, *, when: str | None = None, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "customerId": customer_id,
        "name": fields.pop("name", f"Member {customer_id}"),
        "email": f"{customer_id}@example.com",
        "mobile": f"+9190000{abs(hash(customer_id)) % 100000:05d}",
        "optedIn": True,
    }
    values.update(fields)
    return event("customer.enrolled", when=when, **values)


def earn(
    customer_id: str, points: int, *, when: str | None = None, **fields: Any
) -> dict[str, Any]:
    return event(
        "points.earned",
        when=when,
        customerId=customer_id,
        points=points,
        actionId=fields.pop("actionId", 100),
        **fields,
    )


def redeem(
    customer_id: str, points: int, *, when: str | None = None, **fields: Any
) -> dict[str, Any]:
    return event(
        "points.redeemed", when=when, customerId=customer_id, points=points, actionId=102, **fields
    )


def purchase(
    customer_id: str,
    order_id: str,
    amount: float,
    points: int,
    *,
    when: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    return event(
        "transaction.purchased",
        when=when,
        customerId=customer_id,
        orderId=order_id,
        amount=amount,
        pointsEarned=points,
        storeId=fields.pop("storeId", "S1"),
        source=fields.pop("source", "POS"),
        **fields,
    )


def return_(
    customer_id: str, order_id: str, amount: float, *, when: str | None = None, **fields: Any
) -> dict[str, Any]:
    return event(
        "transaction.returned",
        when=when,
        customerId=customer_id,
        orderId=order_id,
        amount=amount,
        **fields,
    )


def transfer(sender: str, receiver: str, points: int, *, when: str | None = None) -> dict[str, Any]:
    return event(
        "points.transferred",
        when=when,
        transferId=f"T-{next(_ids)}",
        senderId=sender,
        receiverId=receiver,
        points=points,
        program="Family Pooling",
    )


async def ingest(db: Database, org: OrgInfo, *events: dict[str, Any]) -> ImportOutcome:
    return await Importer(db, org).run(enumerate(events, 1))


async def ingest_ok(db: Database, org: OrgInfo, *events: dict[str, Any]) -> ImportOutcome:
    outcome = await ingest(db, org, *events)
    assert outcome.error is None, outcome.error
    return outcome


async def balance(db: Database, org: OrgInfo, customer_id: str) -> int:
    t = table("customers")
    async with db.session(org.id) as s:
        value = await s.scalar(
            select(t.c.points_balance).where(t.c.org_id == org.id, t.c.customer_id == customer_id)
        )
    assert value is not None
    return int(value)


async def activities(db: Database, org: OrgInfo, customer_id: str) -> list[dict[str, Any]]:
    """A member's activities in application order."""
    c, pa = table("customers"), table("points_activities")
    async with db.session(org.id) as s:
        pk = await s.scalar(
            select(c.c.id).where(c.c.org_id == org.id, c.c.customer_id == customer_id)
        )
        rows = await s.execute(
            select(pa).where(pa.c.org_id == org.id, pa.c.customer_id == pk).order_by(pa.c.id)
        )
        return [dict(r) for r in rows.mappings()]


async def ledger_totals(db: Database, org: OrgInfo) -> list[tuple[str, int, int, int]]:
    """(customerId, balance, sum of activity points, sum of lots' remaining) for every member."""
    c, pa, lots = table("customers"), table("points_activities"), table("lots")
    async with db.session(org.id) as s:
        act = (
            select(pa.c.customer_id, func.sum(pa.c.points).label("s"))
            .where(pa.c.org_id == org.id)
            .group_by(pa.c.customer_id)
            .subquery()
        )
        rem = (
            select(lots.c.customer_id, func.sum(lots.c.remaining).label("s"))
            .where(lots.c.org_id == org.id)
            .group_by(lots.c.customer_id)
            .subquery()
        )
        rows = await s.execute(
            select(
                c.c.customer_id,
                c.c.points_balance,
                func.coalesce(act.c.s, 0),
                func.coalesce(rem.c.s, 0),
            )
            .outerjoin(act, act.c.customer_id == c.c.id)
            .outerjoin(rem, rem.c.customer_id == c.c.id)
            .where(c.c.org_id == org.id)
        )
        return [(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


class StatementCounter:
    """Counts SQL statements the engine sends while active (the N+1 guard)."""

    def __init__(self, db: Database) -> None:
        self.engine = db.engine.sync_engine
        self.count = 0

    def _on_execute(self, *args: Any, **kwargs: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        from sqlalchemy import event as sa_event

        sa_event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event as sa_event

        sa_event.remove(self.engine, "before_cursor_execute", self._on_execute)
