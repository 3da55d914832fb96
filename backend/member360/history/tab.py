"""The declaration of one history tab: everything the API, the workbook and the SPA derive.

A `HistoryTab` states once what used to be spelled in a table spec, a loader, a GraphQL type,
a connection field, an export column list and a tab key: the Customer field and its node type,
the table and its time (cursor) column, the variants, and every node field with the SQL it
reads, whether it is personal data and how its value is presented. The GraphQL node type and
field (history/fields.py), the request's loader (graphql/context.py) and the export tab
(exports/tabs.py) are built from it, so a column shown on screen is a column of the workbook
unless the field says otherwise.

The SQL of a field is an expression over the tab's table (or any alias or subquery of it), so
that a compiler can also select it into `json_build_object(name, expression, ...)`; `present`
says what happens to the stored value on the way out (an instant in the organization's time
zone, JSON as stored, a stored name as its enum member). A field whose rule SQL cannot state
alike on both databases is `derived` from the row in Python and names the columns it `reads`
(`needs_now`: the rule also takes the request's instant, as a coupon's status does).

Several tabs may show the same node type (coupons issued and redeemed, points activity and
promotions): they share one `fields` tuple and `node_name`, and the type is built once. A tab
may narrow its table (`where`), join columns of other tables onto each row (`join`), carry the
member's running points balance (`running_balance`), and pick its workbook columns
(`export_fields`). A node type that needs more than fields of a row (a nested list with its
own loader) adds it in `history/<type>/types.py` and names it in `extends`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, FromClause, Select, Table

from member360.graphql.paging import HistorySpec


class Present(Enum):
    """How a stored value becomes the node's value (and what a compiler must reproduce)."""

    AS_STORED = "as_stored"  # text, numbers, booleans
    LOCAL_TIME = "local_time"  # a UTC instant, shown in the organization's time zone (DateTime)
    JSON = "json"  # a JSON document, as stored
    ENUM = "enum"  # a stored name, shown as that member of the field's enum (graphql_type)


class SqlTerms(Protocol):
    """What a declaration's SQL may use of the statement it is compiled into (member360.reads
    implements it): the bound organization and request instant, and the dialect's terms."""

    @property
    def dialect(self) -> str: ...
    @property
    def org(self) -> ColumnElement[Any]:
        """The request's organization, bound."""
        ...

    @property
    def now(self) -> ColumnElement[Any]:
        """The request's instant, bound (an instant column compares to it)."""
        ...

    def local_day(self, instant: ColumnElement[Any]) -> ColumnElement[Any]:
        """The instant's date in the organization's zone, as a GraphQL Date is written."""
        ...


# What a field's SQL twin yields where only Python can state the value exactly (str() of a
# JSON object): a compiled read holding it is answered by the Python executor instead. Control
# characters keep it from being a stored value (were it one, that read would just not compile).
PYTHON_ONLY = "\x1fm360:python-only\x1f"


# The workbook's cell kinds (exports/xlsx.py writes each its own way).
CellKind = str  # text | int | float | date | datetime | bool

_CELL_OF: dict[Present, CellKind] = {
    Present.LOCAL_TIME: "datetime",
    Present.JSON: "text",
    Present.ENUM: "text",  # the stored name
}


@dataclass(frozen=True)
class Export:
    """A node field's workbook column: its title (and cell kind, if not the value's own)."""

    title: str
    kind: CellKind | None = None


# Said where a node field is shown on screen but not in the workbook, with the reason.
NOT_EXPORTED = None


@dataclass(frozen=True)
class WithheldWhen:
    """Personal data on some rows only: without pii:read, a row whose `column` is one of
    `values` shows `shown_as` (in the node and in the workbook); other rows show the value."""

    column: str
    values: frozenset[str]
    shown_as: str

    def applies(self, row: Any) -> bool:
        return getattr(row, self.column) in self.values


@dataclass(frozen=True)
class NodeField:
    """One field of a tab's node: where it comes from, who may read it, how it is shown.

    `name` is the Python (snake_case) name; the GraphQL name is its camelCase, as for every
    other Strawberry field. `graphql_type` is the annotation the node type declares (`str`,
    `str | None`, `dt.datetime`, `JSON | None` ...).
    """

    name: str
    graphql_type: Any
    export: Export | None
    column: str | None = None  # the table column it reads; default: `name`
    # A computed value instead of a column: an expression over the table (or an alias of it).
    expression: Callable[[FromClause], ColumnElement[Any]] | None = None
    # A value worked out from the page row in Python, for a rule SQL cannot state alike on
    # both databases (str() of a JSON value of any type); `reads` names the columns it uses,
    # which a compiler must select for it.
    derived: Callable[..., Any] | None = None
    reads: tuple[str, ...] = ()
    # The derived rule takes (row, now): the request's instant (a coupon is EXPIRED from then).
    needs_now: bool = False
    # The derived rule again in SQL, for the compiled reads: (source, terms) -> its value, or
    # PYTHON_ONLY where SQL cannot say it alike. It sits beside the Python rule so that the two
    # are read (and changed) together; tests/reads compares them.
    sql_rule: Callable[[Any, SqlTerms], ColumnElement[Any]] | None = None
    present: Present = Present.AS_STORED
    personal: bool = False
    withheld_when: WithheldWhen | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        sources = [self.column, self.expression, self.derived]
        if sum(source is not None for source in sources) > 1:
            raise ValueError(f"{self.name}: a node field reads a column, an expression or a rule")
        if self.derived is not None and not self.reads:
            raise ValueError(f"{self.name}: a derived field names the columns it reads")
        if self.needs_now and self.derived is None:
            raise ValueError(f"{self.name}: only a derived rule takes the request's instant")
        if self.sql_rule is not None and self.derived is None:
            raise ValueError(f"{self.name}: only a derived rule has an SQL twin")
        if self.personal and self.withheld_when is not None:
            raise ValueError(f"{self.name}: personal on every row or on some, not both")
        base = _base_of(self.graphql_type)
        if self.present is Present.ENUM and not (isinstance(base, type) and issubclass(base, Enum)):
            raise ValueError(f"{self.name}: Present.ENUM needs an Enum annotation")

    @property
    def label(self) -> str:
        """The name of its value in a page row: the column, or the expression's label (its
        own, as an expression may be named after a column it replaces: expired `points`)."""
        if self.expression is not None:
            return f"{self.name}_value"
        return self.column or self.name

    def sql(self, source: FromClause) -> ColumnElement[Any]:
        """Its value as SQL over `source` (the table, or an alias or subquery of it)."""
        if self.derived is not None:
            raise TypeError(f"{self.name}: derived in Python from {self.reads}, not SQL")
        if self.expression is not None:
            return self.expression(source).label(self.label)
        return source.c[self.label]

    @property
    def columns_read(self) -> tuple[str, ...]:
        """The page-row columns its value (and its personal rule) reads; none for an expression."""
        if self.expression is not None:
            read: tuple[str, ...] = ()
        elif self.derived is not None:
            read = self.reads
        else:
            read = (self.label,)
        if self.withheld_when is not None:
            read += (self.withheld_when.column,)
        return read

    def stored(self, row: Any, now: dt.datetime | None = None) -> Any:
        if self.derived is not None:
            if self.needs_now:
                return self.derived(row, now or dt.datetime.now(dt.UTC))
            return self.derived(row)
        return getattr(row, self.label)

    def withheld(self, row: Any) -> bool:
        """Whether a caller without pii:read sees `shown_as`/null instead of the value."""
        if self.personal:
            return True
        return self.withheld_when is not None and self.withheld_when.applies(row)

    def shown_instead(self) -> Any:
        return None if self.withheld_when is None else self.withheld_when.shown_as

    def value(self, row: Any, tz: ZoneInfo, now: dt.datetime | None = None) -> Any:
        """Its value in a node, presented (the Python executor's half of `present`)."""
        stored = self.stored(row, now)
        if stored is None:
            return None
        if self.present is Present.LOCAL_TIME:
            return stored.astimezone(tz)
        if self.present is Present.ENUM:
            return _base_of(self.graphql_type)(stored)
        return stored

    @property
    def cell_kind(self) -> CellKind:
        if self.export is not None and self.export.kind is not None:
            return self.export.kind
        kind = _CELL_OF.get(self.present)
        if kind is not None:
            return kind
        return _cell_of_annotation(self.graphql_type)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _withheld_cell(node_field: NodeField) -> Callable[[Any], Any]:
    def cell(row: Any) -> Any:
        return node_field.shown_instead() if node_field.withheld(row) else node_field.stored(row)

    return cell


def _base_of(annotation: Any) -> Any:
    """`X` of `X` or `X | None`."""
    args = [a for a in getattr(annotation, "__args__", (annotation,)) if a is not type(None)]
    return args[0] if args else annotation


def _cell_of_annotation(annotation: Any) -> CellKind:
    base = _base_of(annotation)
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if base is float:
        return "float"
    if base is dt.date:
        return "date"
    return "text"


@dataclass(frozen=True, eq=False)
class NestedList:
    """A list field whose items are rows of their own (a redemption's breakup, the expiry
    schedule's days), stated for the compiled reads: `rows(parent, terms)` selects the items
    of one parent row (the page row, or the member), each field's column labelled as the
    field reads it and `position` giving their order; `fields` are the item type's fields.
    Its GraphQL field and type stay where they are written (history/<type>/types.py)."""

    field_name: str
    node_name: str
    rows: Callable[[Any, SqlTerms], Select[Any]]
    fields: tuple[NodeField, ...]


@dataclass(frozen=True)
class Variants:
    """A tab's filter argument: `argument: enum = null` keeps the rows whose column equals it."""

    argument: str
    enum: type[Enum]
    column: str


@dataclass(frozen=True)
class Join:
    """Columns of other tables on each page row (an action's name, a transfer's parties):
    `add(select, ranked)` joins them onto the page's select, `columns` names the labels added."""

    add: Callable[[Select[Any], Any], Select[Any]]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ExportColumn:
    title: str
    kind: CellKind
    value: Callable[[Any], Any]
    personal: bool = False
    # The cell a requester without pii:read gets, where that is not an empty one.
    withheld: Callable[[Any], Any] | None = None


# Compared by identity: each declaration is the one object of its tab (loaders and the built
# node types are kept per declaration).
@dataclass(frozen=True, eq=False)
class HistoryTab:
    """One member history tab, declared once (see the module docstring)."""

    field_name: str  # Customer's connection field, snake_case ("leads")
    node_name: str  # the GraphQL node type ("Lead"; its connection is "LeadConnection")
    table: Table
    time_column: str  # the keyset: (time, id), newest first; cursors encode it
    fields: tuple[NodeField, ...]
    customer_tab: str  # the CustomerTab value the export mutation takes ("LEADS")
    export_title: str  # the workbook's sheet title
    # The SPA's tab key, "tab" or "tab/sub-tab" (frontend/src/features/customers/memberTabs.tsx).
    spa_tab: str
    # The Customer field the tab's field hangs under ("points": PointsHistory); "": Customer.
    under: str = ""
    variants: Variants | None = None
    # Rows of the table this tab shows (redemptions: kind = REDEEM); over the table or an alias.
    where: Callable[[Any], Sequence[ColumnElement[bool]]] | None = None
    join: Join | None = None
    # Each row carries `running_balance`: the member's balance after it, counting every entry
    # of the table whatever the tab shows.
    running_balance: bool = False
    # The workbook's columns, by node field name, where they are not every exported field in
    # the node's order (tabs sharing a node type export different columns).
    export_fields: tuple[str, ...] | None = None
    # Node fields that need more than a row gives (history/<type>/types.py): a class whose
    # Strawberry fields follow the declared ones, with the row columns they keep (Private).
    extends: type | None = None
    keeps: tuple[str, ...] = ()
    # The list fields `extends` adds, stated for the compiled reads (a redemption's breakup).
    lists: tuple[NestedList, ...] = ()
    description: str | None = None
    spec: HistorySpec = field(init=False)

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.node_name}: a node field is declared twice")
        available = set(self.table.c.keys())
        if self.join is not None:
            available |= set(self.join.columns)
        if self.running_balance:
            available.add("running_balance")
        for node_field in self.fields:
            for column in node_field.columns_read:
                if column not in available:
                    raise ValueError(f"{self.node_name}.{node_field.name}: no such column")
        for column in self.keeps:
            if column not in available:
                raise ValueError(f"{self.node_name}: keeps no such column {column!r}")
        if self.time_column not in self.table.c:
            raise ValueError(f"{self.node_name}: no time column {self.time_column!r}")
        if self.export_fields is not None:
            exported = {f.name for f in self.fields if f.export is not None}
            for name in self.export_fields:
                if name not in exported:
                    raise ValueError(f"{self.node_name}: {name!r} is not an exported field")
        # Built once: the page statements are cached per spec (graphql/paging.py).
        object.__setattr__(self, "spec", self._spec())

    def _spec(self) -> HistorySpec:
        computed = [f for f in self.fields if f.expression is not None]
        join = self.join

        def decorate(stmt: Select[Any], ranked: Any) -> Select[Any]:
            if join is not None:
                stmt = join.add(stmt, ranked)
            return stmt.add_columns(*(f.sql(ranked) for f in computed))

        fixed = self.where
        variant_column = self.variants.column if self.variants is not None else None

        def where(t: Any, variant: str | None) -> Sequence[ColumnElement[bool]]:
            conditions = list(fixed(t)) if fixed is not None else []
            if variant_column is not None and variant:
                conditions.append(t.c[variant_column] == variant)
            return conditions

        return HistorySpec(
            self.table,
            self.time_column,
            where=where,
            decorate=decorate if computed or join is not None else None,
            running_balance=self.running_balance,
        )

    @property
    def exported_fields(self) -> tuple[NodeField, ...]:
        """The node fields the workbook shows, in its column order."""
        if self.export_fields is None:
            return tuple(f for f in self.fields if f.export is not None)
        by_name = {f.name: f for f in self.fields}
        return tuple(by_name[name] for name in self.export_fields)

    @property
    def export_columns(self) -> tuple[ExportColumn, ...]:
        """The workbook's columns: the node fields in order, but those marked NOT_EXPORTED."""
        return tuple(
            ExportColumn(
                f.export.title,
                f.cell_kind,
                f.stored,
                f.personal,
                None if f.withheld_when is None else _withheld_cell(f),
            )
            for f in self.exported_fields
            if f.export is not None
        )

    @property
    def path(self) -> str:
        """Its place below Customer in GraphQL (`points.activity`, `leads`)."""
        name = _camel(self.field_name)
        return f"{self.under}.{name}" if self.under else name

    def cursor_of(self, row: Any) -> tuple[dt.datetime, int]:
        return getattr(row, self.time_column), row.id


@dataclass(frozen=True, eq=False)
class ListTab:
    """A member tab that is a list worked out from the member's rows rather than a page of
    them (the expiry schedule): its field, workbook sheet and SPA key. Its GraphQL field and
    its rows are written by its folder."""

    field_name: str
    customer_tab: str
    export_title: str
    spa_tab: str
    columns: tuple[tuple[str, CellKind], ...]  # the workbook's (title, kind)
    under: str = ""
    # Its items, stated for the compiled reads (None: answered by the Python executor).
    items: NestedList | None = None

    @property
    def path(self) -> str:
        name = _camel(self.field_name)
        return f"{self.under}.{name}" if self.under else name


MemberTab = HistoryTab | ListTab
