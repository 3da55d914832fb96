"""The All Interactions report: one filter -> one SQL statement, for the page and the export.

A row is one key (day in the org time zone, member, action id, order id, custom id) with the
points of its activities summed. Rows come newest day first; within a day, by the rest of the key,
descending. That order is the order of `ix_points_activities_report`, so a page is a backward
index scan that groups as it goes and stops when the page is full (no aggregation of the whole
range first), and a cursor (the last row's key) seeks straight to the next page at any depth.
Where a NULL order or custom id sorts follows each database's own index order (PostgreSQL: first,
SQLite: last); the cursor condition follows it too.

Filters narrow the *activities* before grouping: `name` and `email` pick members, `contentText`
any activity whose row shows the text, the others equal one activity column. `contentText` is an
OR over where a row's text comes from, each arm served by an index so that a rare text does not
read the whole range: the activity's own text columns (PostgreSQL: trigram index on their
concatenation; SQLite: an FTS5 trigram table), the member's text (customer_id, name, role, and
email/mobile only for callers who may see them), the transfer counterparty's customer id, and
catalog names (actions, stores, surveys, sections), which are looked up first because their
tables are tiny and a match there is rarely selective.

The statements here are what the GraphQL field and the Excel export both run:
`page_query()` / `fetch_page()` for rows, `points_query()`, `count_query()` / `fetch_summary()`
for totals, `iter_rows()` for everything in key order. A `Query` is a cached statement and its
parameters.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import functools
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy import table as lightweight_table
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from member360.db import Database, table
from member360.errors import InputError, PageTooLarge
from member360.graphql.relay import MAX_ROW_ID, decode_base64
from member360.ledger.models import SEARCH_COLUMNS, ActivityKind, activity_search_text
from member360.orgs.service import OrgInfo

DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_RANGE_DAYS = 366
MAX_TEXT = 200
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(9998, 12, 31)

pa = table("points_activities")
customers = table("customers")
actions = table("actions")
stores = table("stores")
surveys = table("surveys")
sections = table("survey_sections")
# SQLite only (migration 0002): rowid = points_activities.id, body = the search columns.
activity_text = lightweight_table("points_activities_text", column("rowid"), column("body"))

KEY = (pa.c.local_date, pa.c.customer_id, pa.c.action_id, pa.c.order_id, pa.c.custom_id)


class ReportInputError(InputError):
    """A filter or paging argument the report refuses; `field` names it as the caller wrote it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.message = message


# ---------------------------------------------------------------------- the filter


@dataclass(frozen=True)
class ReportFilter:
    """InteractionReportFilter as plain values; `checked()` validates and normalises it."""

    from_: dt.date
    to: dt.date
    name: str | None = None
    email: str | None = None
    order_id: str | None = None
    action_id: int | None = None
    store_id: str | None = None
    coupon: str | None = None
    source: str | None = None
    content_text: str | None = None

    def checked(self, *, max_days: int | None = MAX_RANGE_DAYS) -> ReportFilter:
        """Blank texts count as not given; a reversed or too long range is an error."""
        for name, day in (("from", self.from_), ("to", self.to)):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                # Far days would overflow the day arithmetic of the statements.
                raise ReportInputError(
                    f"filter.{name}",
                    f"{day.isoformat()} is outside the days a report can cover "
                    f"({EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()})",
                )
        if self.to < self.from_:
            raise ReportInputError(
                "filter.to", f"{self.to.isoformat()} is before from ({self.from_.isoformat()})"
            )
        days = (self.to - self.from_).days + 1
        if max_days is not None and days > max_days:
            raise ReportInputError(
                "filter.to", f"the range covers {days} days; at most {max_days} are allowed"
            )
        values: dict[str, Any] = {}
        for name in ("name", "email", "order_id", "store_id", "coupon", "source", "content_text"):
            value = getattr(self, name)
            if value is None:
                continue
            # Control characters never occur in what a row shows (and newline separates the
            # columns of the search text), so they are dropped rather than matched.
            value = "".join(ch for ch in value if ch >= " ").strip()
            if len(value) > MAX_TEXT:
                raise ReportInputError(f"filter.{_camel(name)}", f"at most {MAX_TEXT} characters")
            values[name] = value or None
        return replace(self, **values)

    def as_params(self) -> dict[str, Any]:
        """JSON-ready, camelCase, as GraphQL takes it (e.g. an export job's parameters)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value is None:
                continue
            name = "from" if key == "from_" else _camel(key)
            out[name] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ReportFilter:
        values = {
            ("from_" if k == "from" else _snake(k)): v for k, v in params.items() if v is not None
        }
        for name in ("from_", "to"):
            if isinstance(values.get(name), str):
                values[name] = dt.date.fromisoformat(values[name])
        return cls(**values)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in name)


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise ReportInputError("first", "must not be negative")
    if first > MAX_PAGE:
        raise PageTooLarge(f"first: at most {MAX_PAGE} rows per page (got {first})", field="first")
    return first


@dataclass(frozen=True)
class RowKey:
    """A row's key, and the cursor of the row after which a page starts."""

    day: dt.date
    customer_pk: int
    action_id: int
    order_id: str | None
    custom_id: str | None

    def cursor(self) -> str:
        raw = orjson.dumps(
            [self.day.isoformat(), self.customer_pk, self.action_id, self.order_id, self.custom_id]
        )
        return base64.urlsafe_b64encode(raw).decode()

    @classmethod
    def from_cursor(cls, cursor: str) -> RowKey:
        try:
            day, pk, action_id, order_id, custom_id = orjson.loads(decode_base64(cursor))
            if not (
                isinstance(day, str)
                and _whole(pk, 1, MAX_ROW_ID)
                and _whole(action_id, -(2**31), 2**31 - 1)  # a 32-bit column on PostgreSQL
                and _key_text(order_id)
                and _key_text(custom_id)
            ):
                raise ValueError(cursor)
            key = cls(dt.date.fromisoformat(day), pk, action_id, order_id, custom_id)
        except (ValueError, TypeError):  # orjson.JSONDecodeError and UnicodeError included
            raise ReportInputError(
                "after", "invalid cursor (pass the cursor of an edge this report returned)"
            ) from None
        return key


def _whole(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _key_text(value: object) -> bool:
    # PostgreSQL cannot take NUL as a parameter, and no stored id holds one.
    return value is None or (isinstance(value, str) and "\x00" not in value)


# ---------------------------------------------------------------------- building the statement
#
# A statement is built once per *shape* (which filters are given, which catalog arms a content
# text has, whether a cursor's order and custom ids are NULL, ...) and cached; the values travel
# as named parameters. Building a statement with its joins and subqueries costs more Python time
# than the database spends running it, and one text per shape lets the driver reuse a prepared
# statement. Every parameter is required: a value missing from `Query.params` is an error, never
# a value left over from another request.


@dataclass
class CatalogMatches:
    """Catalog entries whose names hold the content text: the rows showing them match."""

    action_ids: list[int] = field(default_factory=list)
    store_ids: list[str] = field(default_factory=list)
    survey_ids: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """What a statement needs besides the filter: whose rows, which database, which caller."""

    org_id: int
    dialect: str
    pii: bool  # may the caller see (and so search) email and mobile
    matches: CatalogMatches = field(default_factory=CatalogMatches)


@dataclass(frozen=True)
class Shape:
    """Which parts a statement has (see above); values are in `Query.params`."""

    dialect: str
    pii: bool
    name: bool = False
    email: bool = False
    order_id: bool = False
    action_id: bool = False
    store_id: bool = False
    coupon: bool = False
    source: bool = False
    content_text: bool = False
    # SQLite: whether a text can use the FTS5 table (three characters or more, no wildcards).
    content_fts: bool = False
    order_fts: bool = False
    coupon_fts: bool = False
    action_ids: bool = False
    store_ids: bool = False
    survey_ids: bool = False
    sections: bool = False
    # The range also as instants (see `filtered`).
    instants: bool = False
    # After a cursor: (its order id is NULL, its custom id is NULL, its day is after `to`).
    after: tuple[bool, bool, bool] | None = None
    limited: bool = False


@dataclass(frozen=True)
class Query:
    """A statement and its parameters; run it with `execute(session, query)`."""

    statement: Select[Any]
    params: dict[str, Any]
    # Its best plan depends on the values (a rare name or text: the indexes; a common one:
    # the ordered scan), so PostgreSQL must not settle on a generic plan for its text.
    custom_plan: bool = False


async def execute(session: AsyncSession, q: Query) -> Any:
    if q.custom_plan and session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return await session.execute(q.statement, q.params)


def _value_sensitive(s: Shape) -> bool:
    return s.name or s.email or s.order_id or s.coupon or s.content_text


def like_pattern(term: str) -> str:
    """`%term%` for `lower(col) LIKE`, with the LIKE wildcards of the term escaped."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_usable(term: str) -> bool:
    # FTS5's trigram index serves LIKE with at least three characters and no ESCAPE clause.
    return len(term) >= 3 and not any(ch in term for ch in "%_\\")


def plan(
    f: ReportFilter, scope: Scope, *, after: RowKey | None = None, limit: int | None = None
) -> tuple[Shape, dict[str, Any]]:
    """The filter's shape and parameter values (the value side of `filtered`'s chain)."""
    parts: dict[str, Any] = {}
    p: dict[str, Any] = {"org_id": scope.org_id, "from_": f.from_}
    if after is None or after.day > f.to:
        p["to"] = f.to
    if f.name is not None or f.email is not None or f.content_text is not None:
        # Local days lie within a day of the same UTC days, whatever the time zone.
        parts["instants"] = True
        p["since"] = dt.datetime.combine(f.from_ - dt.timedelta(days=1), dt.time(), dt.UTC)
        p["until"] = dt.datetime.combine(f.to + dt.timedelta(days=2), dt.time(), dt.UTC)
    if f.name is not None:
        parts["name"] = True
        p["name"] = like_pattern(f.name)
    if f.email is not None:
        parts["email"] = True
        p["email"] = like_pattern(f.email)
    if f.order_id is not None:
        parts.update(order_id=True, order_fts=_fts_usable(f.order_id))
        p.update(order_id=f.order_id, order_text=like_pattern(f.order_id))
    if f.action_id is not None:
        parts["action_id"] = True
        p["action_id"] = f.action_id
    if f.store_id is not None:
        parts["store_id"] = True
        p["store_id"] = f.store_id
    if f.coupon is not None:
        parts.update(coupon=True, coupon_fts=_fts_usable(f.coupon))
        p.update(coupon=f.coupon, coupon_text=like_pattern(f.coupon))
    if f.source is not None:
        parts["source"] = True
        p["source"] = f.source
    if f.content_text is not None:
        parts.update(content_text=True, content_fts=_fts_usable(f.content_text))
        p["content"] = like_pattern(f.content_text)
        m = scope.matches
        for name in ("action_ids", "store_ids", "survey_ids", "sections"):
            values = getattr(m, name)
            if values:
                parts[name] = True
                p[name] = list(values)
    if after is not None:
        parts["after"] = (after.order_id is None, after.custom_id is None, after.day > f.to)
        p.update(
            after_day=after.day, after_customer=after.customer_pk, after_action=after.action_id
        )
        if after.order_id is not None:
            p["after_order"] = after.order_id
        if after.custom_id is not None:
            p["after_custom"] = after.custom_id
    if limit is not None:
        parts["limited"] = True
        p["limit"] = limit
    return Shape(scope.dialect, scope.pii, **parts), p


def _p(name: str, type_: Any = None) -> Any:
    return bindparam(name, type_=type_, required=True)


def _like(expr: Any, name: str, dialect: str) -> ColumnElement[bool]:
    # PostgreSQL's LIKE escapes with a backslash by default; an explicit ESCAPE would turn the
    # pattern into a function call and cost the planner its estimate.
    pattern = _p(name, String())
    if dialect == "postgresql":
        return expr.like(pattern)  # type: ignore[no-any-return]
    return expr.like(pattern, escape="\\")  # type: ignore[no-any-return]


def _contains(col: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """Case-insensitive substring (the trigram indexes on customers are on lower(col))."""
    return _like(func.lower(col), name, dialect)


def _one_of(col: Any, name: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return col == any_(_p(name, ARRAY(col.type)))  # type: ignore[no-any-return]
    return col.in_(bindparam(name, expanding=True, required=True))  # type: ignore[no-any-return]


def _in_subquery(col: Any, subquery: Select[Any], dialect: str) -> ColumnElement[bool]:
    # PostgreSQL: `= ANY(ARRAY(subquery))` is an index condition, so an OR of such arms can
    # become a BitmapOr; `IN (subquery)` inside an OR is a per-row filter.
    if dialect == "postgresql":
        return col == any_(func.array(subquery.scalar_subquery()))  # type: ignore[no-any-return]
    return col.in_(subquery)  # type: ignore[no-any-return]


def _activity_text_match(name: str, dialect: str, fts: bool) -> ColumnElement[bool]:
    """The activity's own text columns contain the text of parameter `name`."""
    if dialect == "postgresql":
        return _like(activity_search_text(pa), name, dialect)
    if fts:
        hits = select(activity_text.c.rowid).where(activity_text.c.body.like(_p(name, String())))
        return pa.c.id.in_(hits)
    return or_(*(_contains(pa.c[column], name, dialect) for column in SEARCH_COLUMNS))


def content_text_condition(s: Shape) -> ColumnElement[bool]:
    """An activity shows the content text in one of its row's text columns: its own columns,
    its member's, its transfer counterparty's customer id, or a catalog name."""
    c, d = customers.c, s.dialect
    shown = [c.customer_id, c.name, c.user_role] + ([c.email, c.mobile] if s.pii else [])
    members = select(c.id).where(
        c.org_id == _p("org_id"), or_(*(_contains(col, "content", d) for col in shown))
    )
    counterparties = select(c.id).where(
        c.org_id == _p("org_id"), _contains(c.customer_id, "content", d)
    )
    arms = [
        _activity_text_match("content", d, s.content_fts),
        _in_subquery(pa.c.customer_id, members, d),
        _in_subquery(pa.c.counterparty_id, counterparties, d),
    ]
    if s.action_ids:
        arms.append(_one_of(pa.c.action_id, "action_ids", d))
    if s.store_ids:
        arms.append(_one_of(pa.c.store_id, "store_ids", d))
    if s.survey_ids:
        arms.append(_one_of(pa.c.survey_id, "survey_ids", d))
    if s.sections:
        pairs = bindparam("sections", expanding=True, required=True)
        arms.append(tuple_(pa.c.survey_id, pa.c.section_id).in_(pairs))
    return or_(*arms)


def _members_where(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    members = select(customers.c.id).where(customers.c.org_id == _p("org_id"), condition)
    return pa.c.customer_id.in_(members)


def _later(col: Any, name: str | None, nulls_first: bool) -> ColumnElement[bool]:
    """`col` comes after the cursor's value (parameter `name`; None: NULL) in descending
    order, where NULL sorts first (PostgreSQL) or last (SQLite)."""
    if name is None:
        return col.is_not(None) if nulls_first else false()  # type: ignore[no-any-return]
    value = _p(name, col.type)
    return col < value if nulls_first else or_(col < value, col.is_(None))  # type: ignore[no-any-return]


def _same(col: Any, name: str | None) -> ColumnElement[bool]:
    return col.is_(None) if name is None else col == _p(name, col.type)  # type: ignore[no-any-return]


def after_condition(s: Shape) -> ColumnElement[bool]:
    """Rows after the cursor in report order. The (day, member, action) bound is an index
    range; the nullable order and custom ids decide only within that prefix."""
    assert s.after is not None
    order_null, custom_null, _ = s.after
    nulls_first = s.dialect == "postgresql"
    head = tuple_(pa.c.local_date, pa.c.customer_id, pa.c.action_id)
    at = tuple_(
        _p("after_day", pa.c.local_date.type),
        _p("after_customer", pa.c.customer_id.type),
        _p("after_action", pa.c.action_id.type),
    )
    order = None if order_null else "after_order"
    custom = None if custom_null else "after_custom"
    tail = or_(
        _later(pa.c.order_id, order, nulls_first),
        and_(_same(pa.c.order_id, order), _later(pa.c.custom_id, custom, nulls_first)),
    )
    return and_(head <= at, or_(head < at, tail))


def filtered(stmt: Select[Any], s: Shape) -> Select[Any]:
    """The filter as conditions on points_activities, and where the walk starts: after the
    cursor, else at the end of the range. `plan()` gives the values, in the same order."""
    stmt = stmt.where(pa.c.org_id == _p("org_id"), pa.c.local_date >= _p("from_"))
    if s.after is None or s.after[2]:
        # With a cursor inside the range, the cursor bounds the days from above; leaving
        # `<= to` out lets SQLite seek with the cursor's row value (one upper bound a column).
        stmt = stmt.where(pa.c.local_date <= _p("to"))
    if s.after is not None:
        stmt = stmt.where(after_condition(s))
    if s.instants:
        # Implied by the days; it lets the rows of selected members come from their
        # (member, time) index for the range only, not for all their history.
        stmt = stmt.where(pa.c.occurred_at >= _p("since"), pa.c.occurred_at < _p("until"))
    if s.name:
        stmt = stmt.where(_members_where(_contains(customers.c.name, "name", s.dialect)))
    if s.email:
        stmt = stmt.where(_members_where(_contains(customers.c.email, "email", s.dialect)))
    if s.order_id:
        # The substring condition is implied; it lets the text index find a rare order fast.
        stmt = stmt.where(
            pa.c.order_id == _p("order_id"),
            _activity_text_match("order_text", s.dialect, s.order_fts),
        )
    if s.action_id:
        stmt = stmt.where(pa.c.action_id == _p("action_id"))
    if s.store_id:
        stmt = stmt.where(pa.c.store_id == _p("store_id"))
    if s.coupon:
        stmt = stmt.where(
            pa.c.reward_name == _p("coupon"),
            _activity_text_match("coupon_text", s.dialect, s.coupon_fts),
        )
    if s.source:
        stmt = stmt.where(pa.c.source == _p("source"))
    if s.content_text:
        stmt = stmt.where(content_text_condition(s))
    return stmt


def _grouped(s: Shape) -> Select[Any]:
    """One row per key with its aggregates, in report order (no member or catalog columns)."""
    credit = pa.c.points > 0
    stmt = select(
        *KEY,
        func.sum(pa.c.points).label("points"),
        func.sum(pa.c.group_points).label("group_points"),
        func.max(case((credit, pa.c.expires_at))).label("expires_at"),
        func.max(pa.c.reason).label("reason"),
        func.max(pa.c.source).label("source"),
        func.max(pa.c.store_id).label("store_id"),
        func.max(pa.c.reward_name).label("coupon"),
        func.max(pa.c.survey_id).label("survey_id"),
        func.max(pa.c.section_id).label("section_id"),
        # Transfers: the receiver's row names the sender, the sender's row the receiver.
        func.max(case((pa.c.kind == ActivityKind.TRANSFER_IN.value, pa.c.counterparty_id))).label(
            "sender_pk"
        ),
        func.max(case((pa.c.kind == ActivityKind.TRANSFER_OUT.value, pa.c.counterparty_id))).label(
            "receiver_pk"
        ),
    )
    stmt = filtered(stmt, s).group_by(*KEY).order_by(*(col.desc() for col in KEY))
    if s.limited:
        stmt = stmt.limit(_p("limit", Integer()))
    return stmt


def _name_of(name: Any, *conditions: Any) -> Any:
    """A catalog name as a scalar subquery: one index probe per page row, and no join order
    for the planner to search (with seven joins, planning cost more than running)."""
    return select(name).where(*conditions).limit(1).scalar_subquery()


# The page's columns, in the order `ReportRow.from_db` reads them.
ROW_COLUMNS = (
    *(col.name for col in KEY),
    "points",
    "group_points",
    "expires_at",
    "reason",
    "source",
    "store_id",
    "coupon",
    "survey_id",
    "section_id",
    "user_id",
    "name",
    "email",
    "mobile",
    "opted_in",
    "user_role",
    "store_name",
    "store_region",
    "store_type",
    "action_name",
    "survey_name",
    "section_name",
    "sender_id",
    "receiver_id",
)


@functools.lru_cache(maxsize=512)
def _page_template(s: Shape) -> Select[Any]:
    g = _grouped(s).subquery("g")
    c, st, a, sv, sec = customers, stores, actions, surveys, sections
    cp = customers.alias("counterparty")
    org = _p("org_id")
    withheld = null()
    columns = [g.c[name] for name in ROW_COLUMNS[:14]] + [
        c.c.customer_id.label("user_id"),
        c.c.name,
        (c.c.email if s.pii else withheld).label("email"),
        (c.c.mobile if s.pii else withheld).label("mobile"),
        c.c.opted_in,
        c.c.user_role,
        st.c.name.label("store_name"),
        st.c.region.label("store_region"),
        st.c.store_type,
        _name_of(a.c.name, a.c.org_id == org, a.c.action_id == g.c.action_id).label("action_name"),
        _name_of(sv.c.name, sv.c.org_id == org, sv.c.survey_id == g.c.survey_id).label(
            "survey_name"
        ),
        _name_of(
            sec.c.name,
            sec.c.org_id == org,
            sec.c.survey_id == g.c.survey_id,
            sec.c.section_id == g.c.section_id,
        ).label("section_name"),
        _name_of(cp.c.customer_id, cp.c.id == g.c.sender_pk).label("sender_id"),
        _name_of(cp.c.customer_id, cp.c.id == g.c.receiver_pk).label("receiver_id"),
    ]
    return (
        select(*columns)
        .select_from(
            g.join(c, and_(c.c.id == g.c.customer_id, c.c.org_id == org)).outerjoin(
                st, and_(st.c.org_id == org, st.c.store_id == g.c.store_id)
            )
        )
        .order_by(*(g.c[col.name].desc() for col in KEY))
    )


def page_query(
    f: ReportFilter, scope: Scope, *, after: RowKey | None = None, limit: int | None = None
) -> Query:
    """The report's rows after `after` (at most `limit`), with every column of a row."""
    shape, params = plan(f, scope, after=after, limit=limit)
    return Query(_page_template(shape), params, _value_sensitive(shape))


@functools.lru_cache(maxsize=512)
def _points_template(s: Shape) -> Select[Any]:
    return filtered(select(func.coalesce(func.sum(pa.c.points), 0).label("points")), s)


def points_query(f: ReportFilter, scope: Scope) -> Query:
    """Sum of points over the filter: the rows' sum, without forming the rows."""
    shape, params = plan(f, scope)
    return Query(_points_template(shape), params, _value_sensitive(shape))


@functools.lru_cache(maxsize=512)
def _count_template(s: Shape) -> Select[Any]:
    keys = filtered(select(literal(1).label("one")), s).group_by(*KEY).subquery("g")
    return select(func.count().label("rows")).select_from(keys)


def count_query(f: ReportFilter, scope: Scope) -> Query:
    """How many rows the filter has: the grouping alone (an aggregate per row would double
    its cost; the points come from `points_query`)."""
    shape, params = plan(f, scope)
    return Query(_count_template(shape), params, _value_sensitive(shape))


@functools.lru_cache(maxsize=4)
def _catalog_template(dialect: str) -> Select[Any]:
    org = _p("org_id")

    def like(col: Any) -> ColumnElement[bool]:
        return _contains(col, "content", dialect)

    return union_all(  # type: ignore[return-value]
        select(
            literal("A").label("kind"),
            cast(actions.c.action_id, String).label("id"),
            null().label("sub"),
        ).where(actions.c.org_id == org, like(actions.c.name)),
        select(literal("S"), stores.c.store_id, null()).where(
            stores.c.org_id == org,
            or_(like(stores.c.name), like(stores.c.region), like(stores.c.store_type)),
        ),
        select(literal("V"), surveys.c.survey_id, null()).where(
            surveys.c.org_id == org, like(surveys.c.name)
        ),
        select(literal("X"), sections.c.survey_id, sections.c.section_id).where(
            sections.c.org_id == org, like(sections.c.name)
        ),
    )


def catalog_query(org_id: int, term: str, dialect: str) -> Query:
    """Catalog entries whose names hold the term: kind, id, second id (a section's)."""
    return Query(_catalog_template(dialect), {"org_id": org_id, "content": like_pattern(term)})


# ---------------------------------------------------------------------- running it


@dataclass(slots=True)
class ReportRow:
    """One row as the report shows it (dates in the org time zone, personal data as allowed)."""

    key: RowKey
    date: dt.date
    name: str
    user_id: str
    email: str | None
    action_id: int
    action_name: str
    order_id: str | None
    custom_id: str | None
    coupon: str | None
    points: int
    group_points: int | None
    points_expiration_date: dt.date | None
    section_id: str | None
    section_name: str | None
    survey_id: str | None
    survey_name: str | None
    reason: str | None
    source: str | None
    opt_in_status: bool
    sender_id: str | None
    receiver_id: str | None
    store_id: str | None
    store_name: str | None
    store_region: str | None
    store_type: str | None
    phone_number: str | None
    user_role: str | None

    @classmethod
    def from_db(cls, r: Any, tz: ZoneInfo, hierarchy: bool) -> ReportRow:
        """From a row of `page_query` (its columns in ROW_COLUMNS order)."""
        (
            day,
            customer_pk,
            action_id,
            order_id,
            custom_id,
            points,
            group_points,
            expires_at,
            reason,
            source,
            store_id,
            coupon,
            survey_id,
            section_id,
            user_id,
            name,
            email,
            mobile,
            opted_in,
            user_role,
            store_name,
            store_region,
            store_type,
            action_name,
            survey_name,
            section_name,
            sender_id,
            receiver_id,
        ) = r
        return cls(
            RowKey(day, customer_pk, action_id, order_id, custom_id),
            day,
            name,
            user_id,
            email,
            action_id,
            action_name or str(action_id),
            order_id,
            custom_id,
            coupon,
            int(points),
            int(group_points) if hierarchy and group_points is not None else None,
            expires_at.astimezone(tz).date() if expires_at is not None else None,
            section_id,
            section_name,
            survey_id,
            survey_name,
            reason,
            source,
            bool(opted_in),
            sender_id,
            receiver_id,
            store_id,
            store_name,
            store_region,
            store_type,
            mobile,
            user_role,
        )


@dataclass(frozen=True)
class Page:
    rows: list[ReportRow]
    has_next: bool


@dataclass(frozen=True)
class Summary:
    rows: int | None  # None when not asked for
    points: int


async def catalog_matches(session: AsyncSession, org_id: int, f: ReportFilter) -> CatalogMatches:
    found = CatalogMatches()
    if f.content_text is None:
        return found
    q = catalog_query(org_id, f.content_text, session.bind.dialect.name)
    for kind, key, sub in await session.execute(q.statement, q.params):
        if kind == "A":
            found.action_ids.append(int(key))
        elif kind == "S":
            found.store_ids.append(key)
        elif kind == "V":
            found.survey_ids.append(key)
        else:
            found.sections.append((key, sub))
    return found


async def scope_for(session: AsyncSession, org: OrgInfo, f: ReportFilter, *, pii: bool) -> Scope:
    dialect = session.bind.dialect.name
    return Scope(org.id, dialect, pii, await catalog_matches(session, org.id, f))


async def fetch_page(
    db: Database,
    org: OrgInfo,
    f: ReportFilter,
    *,
    pii: bool,
    first: int,
    after: RowKey | None = None,
) -> Page:
    """`first` rows after the cursor key, and whether more follow."""
    async with db.session(org.id) as session:
        scope = await scope_for(session, org, f, pii=pii)
        q = page_query(f, scope, after=after, limit=first + 1)
        rows = (await execute(session, q)).all()
    tz, hierarchy = org.tz, org.hierarchy
    return Page([ReportRow.from_db(r, tz, hierarchy) for r in rows[:first]], len(rows) > first)


async def fetch_summary(
    db: Database, org: OrgInfo, f: ReportFilter, *, pii: bool, count_rows: bool
) -> Summary:
    """Total points, and the row count if asked for: two statements, side by side in two
    sessions (the count must group; the sum need not)."""
    async with db.session(org.id) as session:
        scope = await scope_for(session, org, f, pii=pii)

    async def scalar(q: Query) -> int:
        async with db.session(org.id) as session:
            return int((await execute(session, q)).scalar_one())

    if not count_rows:
        return Summary(None, await scalar(points_query(f, scope)))
    points, rows = await asyncio.gather(
        scalar(points_query(f, scope)), scalar(count_query(f, scope))
    )
    return Summary(rows, points)


async def iter_rows(
    db: Database, org: OrgInfo, f: ReportFilter, *, pii: bool, batch: int = 5000
) -> AsyncIterator[list[ReportRow]]:
    """Every row of the report in order, `batch` rows at a time, each batch its own keyset
    query and short transaction (the export: no long-held snapshot, no OFFSET)."""
    after: RowKey | None = None
    while True:
        page = await fetch_page(db, org, f, pii=pii, first=batch, after=after)
        if page.rows:
            yield page.rows
        if not page.has_next:
            return
        after = page.rows[-1].key
