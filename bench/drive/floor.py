"""The raw floor: the benchmark's reads without GraphQL, each one SQL statement.

A plain Starlette app on the same server stack as the API (uvicorn, one worker). Each endpoint
takes the same POST body as /graphql (only `variables` is read), fetches the same rows with one
statement and returns the same JSON shape, built by the database (PostgreSQL: json_build_object
/ json_agg over asyncpg; SQLite: json_object / json_group_array over aiosqlite). No
authentication, no ORM, no Python per row: the least any implementation can do for these reads.
Routes: /customer-page (CUSTOMER_PAGE), /member-activity (MEMBER_ACTIVITY), /customer-list
(CUSTOMER_LIST), the documents of bench/drive/queries.py.

    M360_FLOOR_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/m360_bench \\
        .venv/bin/uvicorn --factory bench.drive.floor:create_app --port 8012 --workers 1

Timestamps come out in the organization's time zone as the API gives them (PostgreSQL: the
session time zone; SQLite: the zone's fixed offset, fine for Asia/Kolkata, which has no DST).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

# ---------------------------------------------------------------------- SQL per dialect


@dataclass(frozen=True)
class Dialect:
    """The few spellings that differ between PostgreSQL and SQLite JSON SQL."""

    name: str
    offset: str = "+00:00"  # SQLite: the org's fixed UTC offset, e.g. +05:30

    def p(self, name: str) -> str:
        """A parameter: $n on asyncpg, :name on SQLite."""
        return {"org": "$1", "value": "$2", "now": "$3"}[name] if self.pg else f":{name}"

    @property
    def pg(self) -> bool:
        return self.name == "postgresql"

    def obj(self, *pairs: tuple[str, str]) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        args = ", ".join(f"'{k}', {v}" for k, v in pairs)
        return f"{fn}({args})"

    def sub(self, sql: str) -> str:
        """A scalar subquery returning JSON, kept as JSON when embedded."""
        return f"({sql})" if self.pg else f"json(({sql}))"

    def agg(self, expr: str, order: str) -> str:
        """A JSON array of `expr` over rows already ordered by `order` in the FROM subquery."""
        if self.pg:
            return f"coalesce(json_agg({expr} ORDER BY {order}), '[]'::json)"
        return f"coalesce(json_group_array(json({expr})), '[]')"

    def ts(self, col: str) -> str:
        if self.pg:
            return col  # timestamptz renders as ISO 8601 with the session zone's offset
        return f"strftime('%Y-%m-%dT%H:%M:%S', {col}, '{self._minutes()}') || '{self.offset}'"

    def day(self, col: str) -> str:
        return f"({col})::date" if self.pg else f"date({col}, '{self._minutes()}')"

    def flag(self, col: str) -> str:
        return col if self.pg else f"json(CASE WHEN {col} THEN 'true' ELSE 'false' END)"

    def doc(self, col: str) -> str:
        return col if self.pg else f"json({col})"

    def text(self, col: str) -> str:
        return f"{col}::text" if self.pg else f"CAST({col} AS TEXT)"

    def b64(self, expr: str) -> str:
        """URL-safe base64 of a text (the API's opaque ids and cursors)."""
        if self.pg:
            return f"translate(encode(convert_to({expr}, 'UTF8'), 'base64'), E'+/\\n', '-_')"
        return f"b64({expr})"

    def time_cursor(self, col: str, id_col: str) -> str:
        # encode_cursor(): the instant's UTC isoformat, "|", the row id.
        if self.pg:
            iso = f"""to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'"""
        else:
            iso = f"strftime('%Y-%m-%dT%H:%M:%S', {col}) || '+00:00'"
        return self.b64(f"{iso} || '|' || {id_col}")

    def _minutes(self) -> str:
        sign = -1 if self.offset.startswith("-") else 1
        hours, minutes = self.offset[1:].split(":")
        return f"{sign * (int(hours) * 60 + int(minutes)):+d} minutes"


def _edges(
    d: Dialect, rows: str, node: str, order: str, *, cursor: str | None = None, alias: str = "r"
) -> str:
    """`edges` of a connection: rows is a SELECT already ordered and limited."""
    pairs = [("cursor", cursor)] if cursor else []
    edge = d.obj(*pairs, ("node", node))
    return d.sub(f"SELECT {d.agg(edge, order)} FROM ({rows}) {alias}")


def _recent(table: str, when: str, where: str, limit: int, d: Dialect, owner: str) -> str:
    return (
        f"SELECT * FROM {table} WHERE org_id = {d.p('org')} AND customer_id = {owner}{where} "
        f"ORDER BY {when} DESC, id DESC LIMIT {limit}"
    )


def _activity_rows(d: Dialect, owner: str, limit: int) -> str:
    """Newest activities with the balance after each (the window counts every entry)."""
    return (
        "SELECT h.*, coalesce(a.name, "
        + d.text("h.action_id")
        + ") AS action_name FROM (SELECT pa.*, sum(pa.points) OVER (ORDER BY pa.occurred_at, pa.id"
        f" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_balance "
        f"FROM points_activities pa WHERE pa.org_id = {d.p('org')} AND pa.customer_id = {owner}) h"
        " LEFT JOIN actions a ON a.org_id = h.org_id AND a.action_id = h.action_id"
        f" ORDER BY h.occurred_at DESC, h.id DESC LIMIT {limit}"
    )


def _activity_node(d: Dialect, r: str = "r") -> str:
    return d.obj(
        ("occurredAt", d.ts(f"{r}.occurred_at")),
        ("actionId", f"{r}.action_id"),
        ("actionName", f"{r}.action_name"),
        ("points", f"{r}.points"),
        ("runningBalance", f"{r}.running_balance"),
    )


NEWEST = "r.occurred_at DESC, r.id DESC"


def _activity_page(d: Dialect) -> str:
    """The first 20 activities with cursors and pageInfo, over the CTE `act` (21 rows: the 20
    and whether there is more)."""
    first20 = "SELECT * FROM act ORDER BY occurred_at DESC, id DESC LIMIT 20"
    return d.obj(
        (
            "edges",
            _edges(
                d,
                first20,
                _activity_node(d),
                NEWEST,
                cursor=d.time_cursor("r.occurred_at", "r.id"),
            ),
        ),
        (
            "pageInfo",
            d.obj(
                ("hasNextPage", d.flag("(SELECT count(*) FROM act) > 20")),
                (
                    "endCursor",
                    f"(SELECT {d.time_cursor('z.occurred_at', 'z.id')} FROM ({first20}) z"
                    " ORDER BY z.occurred_at, z.id LIMIT 1)",
                ),
            ),
        ),
    )


def _member(d: Dialect) -> str:
    """The member the customer id `value` names, looked up in the API's order."""
    return (
        f"SELECT * FROM customers WHERE org_id = {d.p('org')} AND customer_id = {d.p('value')} "
        "ORDER BY merged_into_id IS NOT NULL, id LIMIT 1"
    )


def _with_activity(d: Dialect, customer: str) -> str:
    """`{"data": {"customer": …}}` for the member `c`, with its activity page's CTE `act`."""
    found = d.sub(f"SELECT {customer} FROM c")
    act = _activity_rows(d, "(SELECT id FROM c)", 21)
    return f"WITH c AS ({_member(d)}), act AS ({act}) SELECT " + d.obj(
        ("data", d.obj(("customer", found)))
    )


def customer_page_sql(d: Dialect) -> str:
    org, c = d.p("org"), "c.id"

    def recent(table: str, when: str, where: str = "") -> str:
        return _recent(table, when, where, 20, d, c)

    breakup = (
        "SELECT lc.id, l.earned_at, lc.points, l.expires_at, coalesce(cr.reason, a.name) AS reason"
        " FROM lot_consumptions lc JOIN lots l ON l.id = lc.lot_id"
        " JOIN points_activities cr ON cr.id = l.activity_id"
        " LEFT JOIN actions a ON a.org_id = cr.org_id AND a.action_id = cr.action_id"
        f" WHERE lc.org_id = {org} AND lc.activity_id = r.id ORDER BY lc.id"
    )
    breakup_json = d.sub(
        "SELECT "
        + d.agg(
            d.obj(
                ("lotEarnedAt", d.ts("b.earned_at")),
                ("points", "b.points"),
                ("expiresAt", d.ts("b.expires_at")),
                ("reason", "b.reason"),
            ),
            "b.id",
        )
        + f" FROM ({breakup}) b"
    )
    redemptions = _edges(
        d,
        recent("points_activities", "occurred_at", " AND kind = 'REDEEM'"),
        d.obj(
            ("redeemedAt", d.ts("r.occurred_at")),
            ("pointsRedeemed", "-r.points"),
            ("pointsReversed", "r.points_reversed"),
            ("orderId", "r.order_id"),
            ("breakup", breakup_json),
        ),
        NEWEST,
    )
    schedule = d.sub(
        "SELECT "
        + d.agg(d.obj(("expiresOn", "e.expires_on"), ("points", "e.points")), "e.expires_on")
        + f" FROM (SELECT {d.day('expires_at')} AS expires_on, sum(remaining) AS points"
        f" FROM lots WHERE org_id = {org} AND customer_id = {c} AND remaining > 0"
        " GROUP BY 1 ORDER BY 1) e"
    )
    expired = _edges(
        d,
        recent("points_activities", "occurred_at", " AND kind = 'EXPIRY'"),
        d.obj(("expiredAt", d.ts("r.occurred_at")), ("points", "-r.points")),
        NEWEST,
    )
    tiers = _edges(
        d,
        recent("tier_changes", "changed_at"),
        d.obj(
            ("changedAt", d.ts("r.changed_at")),
            ("fromTier", "r.from_tier"),
            ("toTier", "r.to_tier"),
            ("reason", "r.reason"),
        ),
        "r.changed_at DESC, r.id DESC",
    )
    promotions = _edges(
        d,
        recent("points_activities", "occurred_at", " AND category = 'PROMOTION' AND points > 0"),
        d.obj(("actionId", "r.action_id"), ("points", "r.points"), ("reason", "r.reason")),
        NEWEST,
    )
    tracker = _edges(
        d,
        recent("points_activities", "occurred_at", " AND category = 'TRACKER' AND points > 0"),
        d.obj(("actionId", "r.action_id"), ("points", "r.points")),
        NEWEST,
    )
    transfer_rows = (
        "SELECT t.*, me.customer_id AS self_cid, other.customer_id AS other_cid FROM ("
        + recent("points_activities", "occurred_at", " AND kind IN ('TRANSFER_OUT', 'TRANSFER_IN')")
        + ") t JOIN customers me ON me.id = t.customer_id"
        " LEFT JOIN customers other ON other.id = t.counterparty_id"
        " ORDER BY t.occurred_at DESC, t.id DESC"
    )
    transfers = _edges(
        d,
        transfer_rows,
        d.obj(
            ("transferType", "CASE WHEN r.points < 0 THEN 'DEDUCTION' ELSE 'ADDITION' END"),
            ("transferId", "r.transfer_id"),
            ("fromCustomerId", "CASE WHEN r.points < 0 THEN r.self_cid ELSE r.other_cid END"),
            ("toCustomerId", "CASE WHEN r.points < 0 THEN r.other_cid ELSE r.self_cid END"),
            ("program", "r.program"),
            ("points", "abs(r.points)"),
        ),
        NEWEST,
    )
    activity = _activity_page(d)
    coupon_status = (
        "CASE WHEN r.redeemed_at IS NOT NULL THEN 'REDEEMED' "
        f"WHEN r.expires_at IS NOT NULL AND r.expires_at <= {d.p('now')} THEN 'EXPIRED' "
        "ELSE 'ACTIVE' END"
    )
    issued = _edges(
        d,
        recent("coupons", "issued_at"),
        d.obj(
            ("couponId", "r.coupon_id"),
            ("code", "r.code"),
            ("status", coupon_status),
            ("resendCount", "r.resend_count"),
        ),
        "r.issued_at DESC, r.id DESC",
    )
    coupon_redemptions = _edges(
        d,
        recent("coupons", "redeemed_at", " AND redeemed_at IS NOT NULL"),
        d.obj(
            ("couponId", "r.coupon_id"),
            ("orderId", "r.order_id"),
            ("redeemedAt", d.ts("r.redeemed_at")),
        ),
        "r.redeemed_at DESC, r.id DESC",
    )
    transactions = _edges(
        d,
        recent("transactions", "occurred_at"),
        d.obj(
            ("type", "r.type"),
            ("orderId", "r.order_id"),
            ("amount", "r.amount"),
            ("pointsEarned", "r.points_earned"),
        ),
        NEWEST,
    )
    interactions = _edges(
        d,
        recent("communications", "sent_at"),
        d.obj(
            ("messageId", "r.message_id"),
            ("channel", "r.channel"),
            ("status", "r.status"),
            ("subject", "r.subject"),
        ),
        "r.sent_at DESC, r.id DESC",
    )
    till = (
        "coalesce(nullif(r.attributes ->> 'tillCode', ''), r.till_code)"
        if d.pg
        else "coalesce(nullif(json_extract(r.attributes, '$.tillCode'), ''), r.till_code)"
    )
    behavioral = _edges(
        d,
        recent("behavioral_events", "occurred_at"),
        d.obj(
            ("trackingId", "r.tracking_id"),
            ("event", "r.event"),
            ("tillCode", till),
            ("attributes", d.doc("r.attributes")),
        ),
        NEWEST,
    )
    leads = _edges(
        d,
        recent("leads", "created_at"),
        d.obj(
            ("leadId", "r.lead_id"),
            ("status", "r.status"),
            ("subStatus", "r.sub_status"),
            ("extendedFields", d.doc("r.extended_fields")),
        ),
        "r.created_at DESC, r.id DESC",
    )
    segments = _edges(
        d,
        recent("segment_changes", "changed_at"),
        d.obj(
            ("segment", "r.segment"),
            ("fromPartition", "r.from_partition"),
            ("toPartition", "r.to_partition"),
        ),
        "r.changed_at DESC, r.id DESC",
    )
    identifiers = _edges(
        d,
        recent("identifier_changes", "changed_at"),
        d.obj(
            ("identifierType", "r.identifier_type"),
            ("value", "r.value"),
            ("actionType", "r.action_type"),
            ("source", "r.source"),
        ),
        "r.changed_at DESC, r.id DESC",
    )

    def wrap(edges: str) -> str:
        return d.obj(("edges", edges))

    customer = d.obj(
        ("id", d.b64("'Customer:' || c.id")),
        ("customerId", "c.customer_id"),
        ("name", "c.name"),
        ("email", "c.email"),
        ("mobile", "c.mobile"),
        ("externalId", "c.external_id"),
        ("optedIn", d.flag("c.opted_in")),
        ("tier", "c.tier"),
        ("pointsBalance", "c.points_balance"),
        (
            "points",
            d.obj(
                ("redemptions", wrap(redemptions)),
                ("expirySchedule", schedule),
                ("expired", wrap(expired)),
                ("tierHistory", wrap(tiers)),
                ("promotions", wrap(promotions)),
                ("loyaltyTracker", wrap(tracker)),
                ("transfers", wrap(transfers)),
                ("activity", activity),
            ),
        ),
        (
            "coupons",
            d.obj(("issued", wrap(issued)), ("redemptions", wrap(coupon_redemptions))),
        ),
        ("transactions", wrap(transactions)),
        ("interactions", wrap(interactions)),
        ("behavioralEvents", wrap(behavioral)),
        ("leads", wrap(leads)),
        ("segmentHistory", wrap(segments)),
        ("identifierHistory", wrap(identifiers)),
    )
    return _with_activity(d, customer)


def member_activity_sql(d: Dialect) -> str:
    """MEMBER_ACTIVITY: the member's profile fields and its activity page, nothing else."""
    customer = d.obj(
        ("id", d.b64("'Customer:' || c.id")),
        ("customerId", "c.customer_id"),
        ("name", "c.name"),
        ("tier", "c.tier"),
        ("pointsBalance", "c.points_balance"),
        ("points", d.obj(("activity", _activity_page(d)))),
    )
    return _with_activity(d, customer)


def customer_list_sql(d: Dialect) -> str:
    org, value = d.p("org"), d.p("value")
    like = f"lower(name) LIKE '%' || lower({value}) || '%'"
    matches = (
        f"SELECT * FROM customers WHERE org_id = {org} AND merged_into_id IS NULL AND ("
        f"customer_id = {value} OR external_id = {value} OR mobile = {value} "
        f"OR lower(email) = lower({value}) OR {like}) ORDER BY name, id LIMIT 51"
    )
    owner = "p.id"
    activity = _edges(d, _activity_rows(d, owner, 10), _activity_node(d), NEWEST)
    transactions = _edges(
        d,
        _recent("transactions", "occurred_at", "", 10, d, owner),
        d.obj(
            ("occurredAt", d.ts("r.occurred_at")),
            ("type", "r.type"),
            ("orderId", "r.order_id"),
            ("amount", "r.amount"),
            ("pointsEarned", "r.points_earned"),
        ),
        NEWEST,
    )
    interactions = _edges(
        d,
        _recent("communications", "sent_at", "", 10, d, owner),
        d.obj(
            ("sentAt", d.ts("r.sent_at")),
            ("messageId", "r.message_id"),
            ("channel", "r.channel"),
            ("status", "r.status"),
            ("subject", "r.subject"),
        ),
        "r.sent_at DESC, r.id DESC",
    )
    node = d.obj(
        ("id", d.b64("'Customer:' || p.id")),
        ("customerId", "p.customer_id"),
        ("name", "p.name"),
        ("email", "p.email"),
        ("mobile", "p.mobile"),
        ("tier", "p.tier"),
        ("pointsBalance", "p.points_balance"),
        ("points", d.obj(("activity", d.obj(("edges", activity))))),
        ("transactions", d.obj(("edges", transactions))),
        ("interactions", d.obj(("edges", interactions))),
    )
    text_cursor = d.b64("p.name || '|' || p.id")
    edges = d.sub(
        "SELECT "
        + d.agg(d.obj(("cursor", text_cursor), ("node", node)), "p.name, p.id")
        + " FROM (SELECT * FROM m ORDER BY name, id LIMIT 50) p"
    )
    page_info = d.obj(
        ("hasNextPage", d.flag("(SELECT count(*) FROM m) > 50")),
        (
            "endCursor",
            f"(SELECT {text_cursor} FROM (SELECT * FROM m ORDER BY name, id LIMIT 50) p"
            " ORDER BY p.name DESC, p.id DESC LIMIT 1)",
        ),
    )
    body = d.obj(("data", d.obj(("customers", d.obj(("edges", edges), ("pageInfo", page_info))))))
    return f"WITH m AS ({matches}) SELECT {body}"


# ---------------------------------------------------------------------- serving


def _b64(value: str | None) -> str | None:
    return None if value is None else base64.urlsafe_b64encode(value.encode()).decode()


class Backend:
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def page(self, customer_id: str) -> str: ...
    async def activity(self, customer_id: str) -> str: ...
    async def list(self, search: str) -> str: ...


class Postgres(Backend):
    def __init__(self, url: str, slug: str) -> None:
        self.url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.slug = slug
        d = Dialect("postgresql")
        self.page_sql, self.list_sql = customer_page_sql(d), customer_list_sql(d)
        self.activity_sql = member_activity_sql(d)

    async def open(self) -> None:
        import asyncpg

        probe = await asyncpg.connect(self.url)
        try:
            org = await probe.fetchrow(
                "SELECT id, time_zone FROM organizations WHERE slug = $1", self.slug
            )
        finally:
            await probe.close()
        assert org is not None, f"no organization {self.slug!r}"
        self.org_id = org["id"]
        self.pool = await asyncpg.create_pool(
            self.url, min_size=8, max_size=10, server_settings={"timezone": org["time_zone"]}
        )

    async def close(self) -> None:
        await self.pool.close()

    async def page(self, customer_id: str) -> str:
        now = dt.datetime.now(dt.UTC)
        return str(await self.pool.fetchval(self.page_sql, self.org_id, customer_id, now))

    async def activity(self, customer_id: str) -> str:
        return str(await self.pool.fetchval(self.activity_sql, self.org_id, customer_id))

    async def list(self, search: str) -> str:
        return str(await self.pool.fetchval(self.list_sql, self.org_id, search))


class Sqlite(Backend):
    def __init__(self, url: str, slug: str, size: int = 8) -> None:
        self.path = url.split(":///", 1)[1]
        self.slug = slug
        self.size = size

    async def open(self) -> None:
        import aiosqlite

        self.conns: asyncio.Queue[Any] = asyncio.Queue()
        for _ in range(self.size):
            conn = await aiosqlite.connect(self.path)
            await conn.execute("PRAGMA busy_timeout=30000")
            await conn.create_function("b64", 1, _b64, deterministic=True)
            self.conns.put_nowait(conn)
        conn = await self.conns.get()
        async with conn.execute(
            "SELECT id, time_zone FROM organizations WHERE slug = ?", (self.slug,)
        ) as cur:
            row = await cur.fetchone()
        self.conns.put_nowait(conn)
        assert row is not None, f"no organization {self.slug!r}"
        self.org_id = row[0]
        offset = dt.datetime.now(ZoneInfo(row[1])).strftime("%z")
        d = Dialect("sqlite", offset=f"{offset[:3]}:{offset[3:]}")
        self.page_sql, self.list_sql = customer_page_sql(d), customer_list_sql(d)
        self.activity_sql = member_activity_sql(d)

    async def close(self) -> None:
        while not self.conns.empty():
            await (self.conns.get_nowait()).close()

    async def _one(self, sql: str, params: dict[str, Any]) -> str:
        conn = await self.conns.get()
        try:
            async with conn.execute(sql, params) as cur:
                row = await cur.fetchone()
        finally:
            self.conns.put_nowait(conn)
        return str(row[0])

    async def page(self, customer_id: str) -> str:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return await self._one(
            self.page_sql, {"org": self.org_id, "value": customer_id, "now": now}
        )

    async def activity(self, customer_id: str) -> str:
        return await self._one(self.activity_sql, {"org": self.org_id, "value": customer_id})

    async def list(self, search: str) -> str:
        return await self._one(self.list_sql, {"org": self.org_id, "value": search})


def create_app() -> Starlette:
    url = os.environ.get("M360_FLOOR_DATABASE_URL") or os.environ["M360_DATABASE_URL"]
    slug = os.environ.get("M360_FLOOR_ORG", "bench")
    backend: Backend = Postgres(url, slug) if url.startswith("postgres") else Sqlite(url, slug)

    async def variables(request: Request) -> dict[str, Any]:
        body = orjson.loads(await request.body())
        return dict(body.get("variables") or {})

    async def page(request: Request) -> Response:
        customer_id = (await variables(request))["customerId"]
        return Response(await backend.page(customer_id), media_type="application/json")

    async def activity(request: Request) -> Response:
        customer_id = (await variables(request))["customerId"]
        return Response(await backend.activity(customer_id), media_type="application/json")

    async def listing(request: Request) -> Response:
        search = (await variables(request))["search"]
        return Response(await backend.list(search), media_type="application/json")

    async def livez(_: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await backend.open()
        try:
            yield
        finally:
            await backend.close()

    return Starlette(
        routes=[
            Route("/customer-page", page, methods=["POST"]),
            Route("/member-activity", activity, methods=["POST"]),
            Route("/customer-list", listing, methods=["POST"]),
            Route("/livez", livez),
        ],
        lifespan=lifespan,
    )
