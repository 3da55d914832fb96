"""Plans a GraphQL read into one SQL statement that returns the response's `data` as JSON.

The planner walks a validated operation against the schema and the tab declarations
(history/registry.py) and composes one SELECT: the member lookup (following merges, as
customers/queries.py does), the member's fields, and each history connection as a keyset page
aggregated into `edges` and `pageInfo`. What it cannot answer exactly as the Python executor
does raises NotPlanned, and the request runs on the Python executor (the reference).

A plan is built once per (document, operation, which variables are null, scopes, dialect) and
kept: values arrive as bound parameters, which the plan's binders compute from each request's
variables with graphql-core's own argument coercion. A binder raises NotPlanned for values the
reference would refuse (a bad cursor, `first` over the cap): the reference then answers with
its error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import (
    JSON as JSON_TEXT,
)
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    funcfilter,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)

from member360.customers.queries import MAX_SEARCH
from member360.customers.types import parse_global_id
from member360.db import ORG_SETTING, UTCDateTime, table
from member360.graphql.relay import decode_text_cursor, decode_time_cursor, page_size
from member360.history.registry import HISTORY_TABS, MEMBER_TABS
from member360.history.tab import (
    HistoryTab,
    ListTab,
    NestedList,
    NodeField,
    Present,
    _base_of,
    _camel,
)
from member360.reads.sql import JsonSql

CUSTOMERS = table("customers")
# Hops customers/queries.py's _follow_merges takes at most.
MERGE_HOPS = 16
# Customer's fields that are its row's columns: GraphQL name -> (column, how it is presented).
CUSTOMER_COLUMNS: dict[str, tuple[str, Present]] = {
    "customerId": ("customer_id", Present.AS_STORED),
    "name": ("name", Present.AS_STORED),
    "externalId": ("external_id", Present.AS_STORED),
    "optedIn": ("opted_in", Present.AS_STORED),
    "tier": ("tier", Present.AS_STORED),
    "userRole": ("user_role", Present.AS_STORED),
    "groupId": ("group_id", Present.AS_STORED),
    "pointsBalance": ("points_balance", Present.AS_STORED),
    "enrolledAt": ("enrolled_at", Present.LOCAL_TIME),
}
CUSTOMER_BOOLEANS = frozenset({"optedIn"})
# Personal data on Customer: planned only for callers with pii:read (the others get the
# reference's null + FORBIDDEN error).
CUSTOMER_PERSONAL: dict[str, str] = {"email": "email", "mobile": "mobile"}
# Objects that are the member's row seen through a tab group (Customer.points, .coupons).
TAB_GROUPS: dict[str, str] = {"points": "points", "coupons": "coupons"}
TABS: dict[tuple[str, str], HistoryTab] = {(t.under, _camel(t.field_name)): t for t in HISTORY_TABS}
# Listed tabs with their items stated (the expiry schedule).
LISTS: dict[tuple[str, str], NestedList] = {
    (t.under, _camel(t.field_name)): t.items
    for t in MEMBER_TABS
    if isinstance(t, ListTab) and t.items is not None
}
LOOKUPS = ("id", "customerId", "externalId", "mobile", "email")
# Organization's catalog lists: field -> (table, node type, order, GraphQL field -> column).
CATALOGS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "actions": ("actions", "Action", "action_id", {"id": "action_id", "name": "name"}),
    "stores": (
        "stores",
        "Store",
        "store_id",
        {"storeId": "store_id", "name": "name", "region": "region", "storeType": "store_type"},
    ),
    "campaigns": (
        "campaigns",
        "Campaign",
        "campaign_id",
        {"campaignId": "campaign_id", "name": "name"},
    ),
}


class NotPlanned(Exception):
    """The operation, or this request's values, is left to the Python executor."""


@dataclass(frozen=True)
class Caller:
    """What a plan depends on of the caller (part of the plan's cache key)."""

    pii: bool
    scopes: frozenset[str]


# The marker of a refused personal field in the statement's JSON: REFUSED, its number, \x1f.
REFUSED = "\x1fm360:refused:"


@dataclass(frozen=True)
class Refusal:
    label: str  # "Customer.email"
    node: FieldNode  # where the field stands in the document (the error's location)


@dataclass
class Plan:
    statement: Select[Any]  # one row, one column: the `data` object as JSON text
    binders: list[Callable[[VariableValues], dict[str, Any]]] = field(default_factory=list)
    # Some value may be PYTHON_ONLY: an answer holding one goes to the Python executor.
    may_be_python_only: bool = False
    # Values of the caller itself (`me`, the organization's settings): (principal) -> values.
    callers: list[Callable[[Any], dict[str, Any]]] = field(default_factory=list)
    # Personal fields the caller may not read, by the number their marker carries.
    refusals: list[Refusal] = field(default_factory=list)

    def parameters(
        self,
        variables: VariableValues,
        org_id: int,
        zone: str,
        now: dt.datetime,
        principal: Any = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"org_id": org_id, "org_text": str(org_id), "tz": zone, "now": now}
        for bind in self.binders:
            values |= bind(variables)
        for of_caller in self.callers:
            values |= of_caller(principal)
        return values


def operation_of(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation a request runs (graphql-core's rule); NotPlanned when none is chosen."""
    operation = get_operation_ast(document, name)
    if operation is None:
        raise NotPlanned("no operation chosen")
    return operation


def _literal_name(name: str) -> ColumnElement[Any]:
    # A GraphQL type name: letters, digits and underscores only.
    if not name.replace("_", "a").isalnum():
        raise NotPlanned(f"not a name: {name!r}")
    return literal_column(f"'{name}'", String())


class _Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
        dialect: str,
        caller: Caller,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.variables = variables
        self.sql = JsonSql(dialect)
        self.caller = caller
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.binders: list[Callable[[VariableValues], dict[str, Any]]] = []
        self.callers: list[Callable[[Any], dict[str, Any]]] = []
        self.refusals: list[Refusal] = []
        self.dialect = dialect
        # On PostgreSQL the statement names its organization for row-level security itself:
        # its one FROM item is the row set_config returns, and every table is read by the
        # subqueries of its select list, which run once that row exists. (Referring to the
        # setting's value inside them would bind it too, but costs their index conditions.)
        # The organization is also bound in every subquery, for the tenancy in depth.
        self.tenant: Any = None
        self.org: ColumnElement[Any] = bindparam("org_id", type_=BigInteger())
        if dialect == "postgresql":
            setting = func.set_config(ORG_SETTING, bindparam("org_text", type_=String()), True)
            self.tenant = select(setting.label("org")).subquery("tenant")
        self.zone = bindparam("tz", type_=String())
        self.now = bindparam("now", type_=UTCDateTime())
        # Whether some value may come out as PYTHON_ONLY (then the answer is checked for it).
        self.may_be_python_only = False
        self._names = 0

    # -- history.tab.SqlTerms, for the declarations' SQL

    def local_day(self, instant: ColumnElement[Any]) -> ColumnElement[Any]:
        return self.sql.local_day(instant, self.zone)

    def name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    # -- selections

    def fields(
        self, selection_sets: Sequence[SelectionSetNode], type_name: str
    ) -> list[tuple[str, list[FieldNode]]]:
        """Response key -> its field nodes, in the order the answer has them (graphql-core's
        field collection, for the fragments and inline fragments on the exact type)."""
        grouped: dict[str, list[FieldNode]] = {}
        # A fragment is spread once per collection, as the spec's CollectFields has it (and
        # graphql-core does): without that, fragments spreading each other twice would grow
        # the work exponentially.
        visited: set[str] = set()
        for selection_set in selection_sets:
            for node in self._collect(selection_set, type_name, visited):
                key = node.alias.value if node.alias else node.name.value
                grouped.setdefault(key, []).append(node)
        return list(grouped.items())

    def _collect(
        self, selection_set: SelectionSetNode, type_name: str, visited: set[str]
    ) -> Iterator[FieldNode]:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotPlanned("directives (@skip, @include)")
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != type_name:
                    raise NotPlanned("a fragment on another type")
                yield from self._collect(selection.selection_set, type_name, visited)
            elif isinstance(selection, FragmentSpreadNode):
                if selection.name.value in visited:
                    continue
                visited.add(selection.name.value)
                fragment = self.fragments[selection.name.value]
                if fragment.directives:
                    raise NotPlanned("directives on a fragment")
                if fragment.type_condition.name.value != type_name:
                    raise NotPlanned("a fragment on another type")
                yield from self._collect(fragment.selection_set, type_name, visited)

    @staticmethod
    def sub_selections(nodes: Sequence[FieldNode]) -> list[SelectionSetNode]:
        return [n.selection_set for n in nodes if n.selection_set is not None]

    def arguments(
        self, definition: GraphQLField, node: FieldNode, variables: VariableValues
    ) -> Any:
        try:
            return get_argument_values(definition, node, variables)
        except GraphQLError as error:
            raise NotPlanned(f"arguments: {error.message}") from None

    # -- the statement

    def plan(self) -> Plan:
        if self.operation.operation is not OperationType.QUERY:
            raise NotPlanned("not a query")
        query_type = self.schema.query_type
        assert query_type is not None
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, nodes in self.fields([self.operation.selection_set], query_type.name):
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, _literal_name(query_type.name)))
            elif name == "customer":
                pairs.append((key, self.customer(query_type.fields[name], nodes)))
            elif name == "customers":
                pairs.append((key, self.customer_search(query_type.fields[name], nodes)))
            elif name == "me":
                pairs.append((key, self.viewer(nodes)))
            elif name == "organization":
                pairs.append((key, self.organization(nodes)))
            else:
                raise NotPlanned(f"Query.{name}")
        data = select(self.sql.as_text(self.sql.obj(pairs)).label("data"))
        if self.tenant is not None:
            data = data.select_from(self.tenant)
        return Plan(data, self.binders, self.may_be_python_only, self.callers, self.refusals)

    def customer(self, definition: GraphQLField, nodes: list[FieldNode]) -> ColumnElement[Any]:
        if "customers:read" not in self.caller.scopes:
            raise NotPlanned("Query.customer without customers:read")
        node = nodes[0]
        given = [
            k for k, v in self.arguments(definition, node, self.variables).items() if v is not None
        ]
        if len(given) != 1 or given[0] not in LOOKUPS:
            raise NotPlanned("customer: not exactly one identifier")
        which = given[0]
        value_name = self.name("lookup")

        def bind(variables: VariableValues) -> dict[str, Any]:
            value = self.arguments(definition, node, variables)[which]
            if which == "id":
                pk = parse_global_id(str(value))
                if pk is None:
                    raise NotPlanned("id: not a Customer id")
                return {value_name: pk}
            return {value_name: str(value).lower() if which == "email" else value}

        self.binders.append(bind)
        c = CUSTOMERS.alias(self.name("lookup_"))
        parameter: Any = bindparam(value_name, type_=BigInteger() if which == "id" else String())
        condition = {
            "id": c.c.id == parameter,
            "customerId": c.c.customer_id == parameter,
            "externalId": c.c.external_id == parameter,
            "mobile": c.c.mobile == parameter,
            "email": func.lower(c.c.email) == parameter,
        }[which]
        # A live member wins over one merged away that shares the identifier.
        found = (
            select(c.c.id, c.c.merged_into_id)
            .where(c.c.org_id == self.org, condition)
            .order_by(c.c.merged_into_id.is_not(None), c.c.id)
            .limit(1)
            .subquery(self.name("found"))
        )
        anchor = select(found.c.id, found.c.merged_into_id, literal(0, Integer()).label("hops"))
        chain = anchor.cte(self.name("merges"), recursive=True)
        step = CUSTOMERS.alias(self.name("step"))
        chain = chain.union_all(
            select(step.c.id, step.c.merged_into_id, chain.c.hops + 1).where(
                step.c.org_id == self.org,
                step.c.id == chain.c.merged_into_id,
                chain.c.hops < MERGE_HOPS,
            )
        )
        # The member a merged one became; none when the chain breaks before a live member.
        survivor = (
            select(chain.c.id)
            .where((chain.c.merged_into_id.is_(None)) | (chain.c.hops == MERGE_HOPS))
            .order_by(chain.c.hops.desc())
            .limit(1)
            .scalar_subquery()
        )
        member = CUSTOMERS.alias(self.name("member"))
        value = self.member_object(member, "Customer", self.sub_selections(nodes))
        return self.sql.embed(
            select(value).where(member.c.org_id == self.org, member.c.id == survivor)
        )

    def customer_search(
        self, definition: GraphQLField, nodes: list[FieldNode]
    ) -> ColumnElement[Any]:
        """customers(search:, first:, after:) as customers/queries.py answers it."""
        if "customers:read" not in self.caller.scopes:
            raise NotPlanned("Query.customers without customers:read")
        node = nodes[0]
        has_after = self.arguments(definition, node, self.variables).get("after") is not None
        exact, pattern = self.name("search"), self.name("pattern")
        email, limit, first = self.name("email"), self.name("limit"), self.name("first")
        after_name, after_id = self.name("after_name"), self.name("after_id")

        def bind(variables: VariableValues) -> dict[str, Any]:
            given = self.arguments(definition, node, variables)
            text = str(given["search"]).strip()
            if not text or len(text) > MAX_SEARCH:
                raise NotPlanned("search: refused")
            try:
                size = page_size(given.get("first"))
                after = decode_text_cursor(given.get("after"))
            except GraphQLError:
                raise NotPlanned("first/after refused") from None
            lowered = text.lower()
            # SQLAlchemy's contains(..., autoescape=True): "/" escapes "%", "_" and itself.
            escaped = lowered.replace("/", "//").replace("%", "/%").replace("_", "/_")
            values: dict[str, Any] = {
                exact: text,
                email: lowered,
                pattern: f"%{escaped}%",
                limit: size + 1,
                first: size,
            }
            if after is not None:
                values[after_name], values[after_id] = after
            return values

        self.binders.append(bind)
        c = CUSTOMERS.alias(self.name("found"))
        text_parameter = bindparam(exact, type_=String())
        conditions: list[Any] = [
            c.c.org_id == self.org,
            c.c.merged_into_id.is_(None),
            or_(
                c.c.customer_id == text_parameter,
                c.c.external_id == text_parameter,
                c.c.mobile == text_parameter,
                func.lower(c.c.email) == bindparam(email, type_=String()),
                func.lower(c.c.name).like(bindparam(pattern, type_=String()), escape="/"),
            ),
        ]
        if has_after:
            conditions.append(
                tuple_(c.c.name, c.c.id)
                > tuple_(
                    bindparam(after_name, type_=String()), bindparam(after_id, type_=BigInteger())
                )
            )
        page = (
            select(c)
            .where(*conditions)
            .order_by(c.c.name, c.c.id)
            .limit(bindparam(limit, type_=Integer()))
            .subquery(self.name("page"))
        )
        rows = self.numbered(page, (page.c.name, page.c.id))
        connection_type = self.object_type(get_named_type(definition.type).name)
        selections = self.fields(self.sub_selections(nodes), connection_type.name)
        cursor = self.sql.text_cursor(rows.c.name, rows.c.id)

        def node_of(field_nodes: list[FieldNode]) -> ColumnElement[Any]:
            return self.member_object(rows, "Customer", self.sub_selections(field_nodes))

        return self.connection_object(
            rows,
            cursor,
            bindparam(first, type_=Integer()),
            has_after,
            connection_type,
            selections,
            node_of,
        )

    def numbered(self, page: Any, order: Sequence[ColumnElement[Any]], join: Any = None) -> Any:
        """A page's rows numbered in its order (`rn`) and counted (`n`), in that order."""
        numbered = select(
            page,
            func.row_number().over(order_by=order).label("rn"),
            func.count().over().label("n"),
        ).subquery(self.name("numbered"))
        rows_select = select(numbered)
        if join is not None:
            rows_select = join.add(rows_select, numbered)
        return rows_select.order_by(numbered.c.rn).subquery(self.name("rows"))

    def refused(self, label: str, node: FieldNode) -> ColumnElement[Any]:
        """A personal field the caller may not read: null with graphql/access.py's FORBIDDEN
        error at its path. The statement writes a marker naming the refusal; the executor
        replaces each with null and adds the error where it stands (reads/execute.py)."""
        self.refusals.append(Refusal(label, node))
        return literal(f"{REFUSED}{len(self.refusals) - 1}\x1f", String())

    # -- the caller and its organization (orgs/types.py)

    def of_caller(self, prefix: str, value_of: Callable[[Any], Any], kind: str = "json") -> Any:
        """A value of the request's principal, bound per request: text, a boolean, or a JSON
        document (lists)."""
        name = self.name(prefix)
        self.callers.append(lambda principal: {name: value_of(principal)})
        if kind == "text":
            return bindparam(name, type_=String())
        if kind == "bool":
            return self.sql.boolean(bindparam(name, type_=Boolean()))
        document = bindparam(name, type_=String())
        return cast(document, JSON_TEXT) if self.sql.postgres else func.json(document)

    def viewer(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        """Query.me, as graphql/schema.py's `me` builds it from the principal."""
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), "Viewer"):
            name = field_nodes[0].name.value
            value: ColumnElement[Any]
            if name == "__typename":
                value = _literal_name("Viewer")
            elif name == "organization":
                value = self.organization(field_nodes)
            elif name == "scopes":
                value = self.of_caller("scopes", lambda p: orjson.dumps(sorted(p.scopes)).decode())
            elif name == "kind":
                value = self.of_caller(
                    "kind", lambda p: "USER" if p.user_email else "API_KEY", "text"
                )
            elif name == "email":
                value = self.of_caller("email", lambda p: p.user_email, "text")
            elif name == "role":
                value = self.of_caller("role", lambda p: p.role, "text")
            else:
                raise NotPlanned(f"Viewer.{name}")
            pairs.append((key, value))
        return self.sql.obj(pairs)

    def organization(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        """Query.organization (orgs/types.py): its settings from the principal, its catalogs
        from the tables."""
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), "Organization"):
            name = field_nodes[0].name.value
            value: ColumnElement[Any]
            if name == "__typename":
                value = _literal_name("Organization")
            elif name == "slug":
                value = self.of_caller("slug", lambda p: p.org.slug, "text")
            elif name == "name":
                value = self.of_caller("org_name", lambda p: p.org.name, "text")
            elif name == "timeZone":
                value = self.of_caller("time_zone", lambda p: p.org.time_zone, "text")
            elif name == "features":
                value = self.features(field_nodes)
            elif name in CATALOGS:
                value = self.catalog(name, field_nodes)
            elif name == "sources":
                if "reports:read" not in self.caller.scopes:
                    raise NotPlanned("Organization.sources without reports:read")
                value = self.sources()
            else:
                raise NotPlanned(f"Organization.{name}")
            pairs.append((key, value))
        return self.sql.obj(pairs)

    def features(self, nodes: list[FieldNode]) -> ColumnElement[Any]:
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), "Features"):
            name = field_nodes[0].name.value
            value: ColumnElement[Any]
            if name == "__typename":
                value = _literal_name("Features")
            elif name == "hierarchy":
                value = self.of_caller("hierarchy", lambda p: p.org.hierarchy, "bool")
            elif name == "surveys":
                value = self.of_caller("surveys", lambda p: p.org.surveys, "bool")
            elif name == "extendedAttributes":
                value = self.of_caller(
                    "attributes", lambda p: orjson.dumps(list(p.org.extended_attributes)).decode()
                )
            else:
                raise NotPlanned(f"Features.{name}")
            pairs.append((key, value))
        return self.sql.obj(pairs)

    def catalog(self, field_name: str, nodes: list[FieldNode]) -> ColumnElement[Any]:
        """actions, stores, campaigns: the organization's rows, in their id's order."""
        table_name, node_name, order, columns = CATALOGS[field_name]
        t = table(table_name).alias(self.name(table_name))
        items = (
            select(t).where(t.c.org_id == self.org).order_by(t.c[order]).subquery(self.name("c"))
        )
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), node_name):
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, _literal_name(node_name)))
            elif name in columns:
                pairs.append((key, items.c[columns[name]]))
            else:
                raise NotPlanned(f"{node_name}.{name}")
        element = self.sql.obj(pairs)
        return self.sql.embed(select(self.sql.array(element, [items.c[order]])).select_from(items))

    def sources(self) -> ColumnElement[Any]:
        """Organization.sources: orgs/types.py's SOURCES (a loose index scan), as a JSON list."""
        activities = table("points_activities")
        first = activities.alias(self.name("first_source"))
        after = activities.alias(self.name("next_source"))
        anchor = select(func.min(first.c.source).label("source")).where(first.c.org_id == self.org)
        walk = anchor.cte(self.name("sources"), recursive=True)
        step = (
            select(func.min(after.c.source))
            .where(after.c.org_id == self.org, after.c.source > walk.c.source)
            .scalar_subquery()
        )
        walk = walk.union_all(select(step).where(walk.c.source.is_not(None)))
        found = select(walk.c.source).where(walk.c.source.is_not(None)).subquery(self.name("s"))
        return self.sql.embed(
            select(self.sql.array(found.c.source, [found.c.source])).select_from(found)
        )

    def object_type(self, name: str) -> GraphQLObjectType:
        found = self.schema.type_map[name]
        assert isinstance(found, GraphQLObjectType)
        return found

    def member_object(
        self, member: Any, type_name: str, selection_sets: list[SelectionSetNode]
    ) -> ColumnElement[Any]:
        """Customer, or a tab group on it (PointsHistory, CouponHistory): the member's row."""
        type_ = self.object_type(type_name)
        under = (
            ""
            if type_name == "Customer"
            else {"PointsHistory": "points", "CouponHistory": "coupons"}[type_name]
        )
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, nodes in self.fields(selection_sets, type_name):
            name = nodes[0].name.value
            definition = type_.fields.get(name)
            if name == "__typename":
                value: ColumnElement[Any] = _literal_name(type_name)
            elif (under, name) in TABS:
                value = self.connection(TABS[(under, name)], member, definition, nodes)
            elif (under, name) in LISTS:
                value = self.nested_list(LISTS[(under, name)], member, nodes)
            elif type_name != "Customer":
                raise NotPlanned(f"{type_name}.{name}")
            elif name == "id":
                value = self.sql.global_id("Customer", member.c.id)
            elif name in CUSTOMER_COLUMNS:
                column, present = CUSTOMER_COLUMNS[name]
                value = member.c[column]
                if present is Present.LOCAL_TIME:
                    value = self.sql.local_time(value, self.zone)
                elif name in CUSTOMER_BOOLEANS:
                    value = self.sql.boolean(value)
            elif name in CUSTOMER_PERSONAL:
                if self.caller.pii:
                    value = member.c[CUSTOMER_PERSONAL[name]]
                else:
                    value = self.refused(f"Customer.{name}", nodes[0])
            elif name in TAB_GROUPS:
                assert definition is not None
                group = get_named_type(definition.type).name
                value = self.member_object(member, group, self.sub_selections(nodes))
            else:
                raise NotPlanned(f"Customer.{name}")
            pairs.append((key, value))
        return self.sql.obj(pairs)

    # -- connections

    def connection(
        self, tab: HistoryTab, member: Any, definition: GraphQLField | None, nodes: list[FieldNode]
    ) -> ColumnElement[Any]:
        assert definition is not None
        node = nodes[0]
        arguments = self.arguments(definition, node, self.variables)
        has_after = arguments.get("after") is not None
        variant_argument = tab.variants.argument if tab.variants is not None else None
        has_variant = variant_argument is not None and arguments.get(variant_argument) is not None
        limit, first = self.name("limit"), self.name("first")
        after_at, after_id, variant = (
            self.name("after_at"),
            self.name("after_id"),
            self.name("variant"),
        )

        def bind(variables: VariableValues) -> dict[str, Any]:
            given = self.arguments(definition, node, variables)
            try:
                size = page_size(given.get("first"))
                after = decode_time_cursor(given.get("after"))
            except GraphQLError:
                raise NotPlanned("first/after refused") from None
            values: dict[str, Any] = {limit: size + 1, first: size}
            if after is not None:
                values[after_at], values[after_id] = after
            if has_variant:
                values[variant] = given[variant_argument].value
            return values

        self.binders.append(bind)
        connection_type = self.object_type(get_named_type(definition.type).name)
        selections = self.fields(self.sub_selections(nodes), connection_type.name)
        edge_type = self.object_type(get_named_type(connection_type.fields["edges"].type).name)
        edge_selections = [
            (key, self.fields(self.sub_selections(edge_nodes), edge_type.name))
            for key, edge_nodes in selections
            if edge_nodes[0].name.value == "edges"
        ]
        node_type_name = get_named_type(edge_type.fields["node"].type).name
        node_fields = {f.name: f for f in tab.fields}
        wanted_running_balance = False
        for _, edge_fields in edge_selections:
            for _, edge_nodes in edge_fields:
                if edge_nodes[0].name.value == "node":
                    selected = self.fields(self.sub_selections(edge_nodes), node_type_name)
                    wanted_running_balance |= any(
                        n[0].name.value == "runningBalance" for _, n in selected
                    )

        t = tab.table.alias(self.name("t"))
        when, row_id = tab.time_column, "id"
        if tab.running_balance and wanted_running_balance:
            # The balance after each entry counts every entry of the member's, whatever the
            # tab shows: computed over all of them, then narrowed.
            running = cast(
                func.sum(t.c.points).over(
                    partition_by=t.c.customer_id, order_by=(t.c[when], t.c.id), rows=(None, 0)
                ),
                BigInteger(),
            )
            source: Any = (
                select(t, running.label("running_balance"))
                .where(t.c.org_id == self.org, t.c.customer_id == member.c.id)
                .correlate(member)
                .subquery(self.name("h"))
            )
            conditions: list[Any] = []
        else:
            source = t
            conditions = [t.c.org_id == self.org, t.c.customer_id == member.c.id]
        if tab.where is not None:
            conditions += list(tab.where(source))
        if has_variant:
            assert tab.variants is not None
            conditions.append(source.c[tab.variants.column] == bindparam(variant, type_=String()))
        if has_after:
            conditions.append(
                tuple_(source.c[when], source.c.id)
                < tuple_(
                    bindparam(after_at, type_=UTCDateTime()),
                    bindparam(after_id, type_=BigInteger()),
                )
            )
        newest_first = (source.c[when].desc(), source.c.id.desc())
        page = (
            select(source)
            .where(*conditions)
            .correlate(member)
            .order_by(*newest_first)
            .limit(bindparam(limit, type_=Integer()))
            .subquery(self.name("page"))
        )
        rows = self.numbered(page, (page.c[when].desc(), page.c.id.desc()), tab.join)
        first_param = bindparam(first, type_=Integer())
        cursor = self.sql.time_cursor(rows.c[when], rows.c[row_id])

        def node_of(field_nodes: list[FieldNode]) -> ColumnElement[Any]:
            return self.node(tab, rows, node_type_name, node_fields, field_nodes)

        return self.connection_object(
            rows, cursor, first_param, has_after, connection_type, selections, node_of
        )

    def connection_object(
        self,
        rows: Any,
        cursor: ColumnElement[Any],
        first: Any,
        has_after: bool,
        connection_type: GraphQLObjectType,
        selections: list[tuple[str, list[FieldNode]]],
        node_of: Callable[[list[FieldNode]], ColumnElement[Any]],
    ) -> ColumnElement[Any]:
        """A connection over a page's `rows` (numbered `rn` from 1, `n` of them, one more than
        `first` when there is a next page), as graphql/relay.py's `connection` builds it."""
        edge_type = self.object_type(get_named_type(connection_type.fields["edges"].type).name)
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        # Whether a value aggregates the page's rows (else the object is constants only).
        reads_rows = False
        for key, field_nodes in selections:
            name = field_nodes[0].name.value
            if name == "__typename":
                value: ColumnElement[Any] = _literal_name(connection_type.name)
            elif name == "edges":
                edge = self.edge(cursor, edge_type.name, node_of, field_nodes)
                value = self.sql.array(edge, [rows.c.rn], rows.c.rn <= first)
                reads_rows = True
            elif name == "pageInfo":
                value = self.page_info(rows, cursor, first, has_after, field_nodes)
                reads_rows |= any(
                    n[0].name.value != "__typename" and n[0].name.value != "hasPreviousPage"
                    for _, n in self.fields(self.sub_selections(field_nodes), "PageInfo")
                )
            else:
                raise NotPlanned(f"{connection_type.name}.{name}")
            pairs.append((key, value))
        if not reads_rows:
            # Only constants (hasPreviousPage, __typename): a select over the page without an
            # aggregate would have no row for an empty page.
            return self.sql.obj(pairs)
        return self.sql.embed(select(self.sql.obj(pairs)).select_from(rows))

    def edge(
        self,
        cursor: ColumnElement[Any],
        edge_type: str,
        node_of: Callable[[list[FieldNode]], ColumnElement[Any]],
        nodes: list[FieldNode],
    ) -> ColumnElement[Any]:
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), edge_type):
            name = field_nodes[0].name.value
            if name == "__typename":
                value: ColumnElement[Any] = _literal_name(edge_type)
            elif name == "cursor":
                value = cursor
            elif name == "node":
                value = node_of(field_nodes)
            else:
                raise NotPlanned(f"{edge_type}.{name}")
            pairs.append((key, value))
        return self.sql.obj(pairs)

    def node(
        self,
        tab: HistoryTab,
        rows: Any,
        node_type: str,
        node_fields: dict[str, NodeField],
        nodes: list[FieldNode],
    ) -> ColumnElement[Any]:
        by_graphql_name = {_camel(name): f for name, f in node_fields.items()}
        lists = {_camel(nested.field_name): nested for nested in tab.lists}
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), node_type):
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, _literal_name(node_type)))
                continue
            if name in lists:
                pairs.append((key, self.nested_list(lists[name], rows, field_nodes)))
                continue
            declared = by_graphql_name.get(name)
            if declared is None:
                raise NotPlanned(f"{node_type}.{name}: not a declared field")
            pairs.append((key, self.node_value(rows, declared)))
        return self.sql.obj(pairs)

    def nested_list(
        self, nested: NestedList, parent: Any, nodes: list[FieldNode]
    ) -> ColumnElement[Any]:
        """A list of items of one parent row (a redemption's breakup), in `position` order."""
        items = (
            nested.rows(parent, self)
            .correlate(parent)
            .order_by("position")
            .subquery(self.name("items"))
        )
        by_graphql_name = {_camel(f.name): f for f in nested.fields}
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), nested.node_name):
            name = field_nodes[0].name.value
            if name == "__typename":
                pairs.append((key, _literal_name(nested.node_name)))
                continue
            declared = by_graphql_name.get(name)
            if declared is None:
                raise NotPlanned(f"{nested.node_name}.{name}: not a declared field")
            pairs.append((key, self.node_value(items, declared)))
        element = self.sql.obj(pairs)
        return self.sql.embed(
            select(self.sql.array(element, [items.c.position])).select_from(items)
        )

    def node_value(self, rows: Any, declared: NodeField) -> ColumnElement[Any]:
        if declared.personal and not self.caller.pii:
            raise NotPlanned(f"{declared.name}: personal data without pii:read")
        shown = self._node_value(rows, declared)
        rule = declared.withheld_when
        if rule is None or self.caller.pii:
            return shown
        # Personal on some rows only (identifier values): those read `shown_as`, no error.
        return case(
            (rows.c[rule.column].in_(sorted(rule.values)), literal(rule.shown_as)), else_=shown
        )

    def _node_value(self, rows: Any, declared: NodeField) -> ColumnElement[Any]:
        value: ColumnElement[Any]
        if declared.derived is not None:
            if declared.sql_rule is None:
                raise NotPlanned(f"{declared.name}: derived in Python only")
            value = declared.sql_rule(rows, self)
            self.may_be_python_only = True
        elif declared.expression is not None:
            value = declared.expression(rows)
        else:
            value = rows.c[declared.label]
        base = _base_of(declared.graphql_type)
        if declared.present is Present.LOCAL_TIME:
            return self.sql.local_time(value, self.zone)
        if declared.present is Present.JSON:
            return self.sql.json_document(value)
        if declared.present is Present.ENUM:
            renamed = [(m.value, m.name) for m in base if m.name != m.value]
            if renamed:
                value = case(*((value == stored, shown) for stored, shown in renamed), else_=value)
            return value
        if base is bool:
            return self.sql.boolean(value)
        return value

    def page_info(
        self,
        rows: Any,
        cursor: ColumnElement[Any],
        first: Any,
        has_after: bool,
        nodes: list[FieldNode],
    ) -> ColumnElement[Any]:
        last = case((rows.c.n < first, rows.c.n), else_=first)
        pairs: list[tuple[str, ColumnElement[Any]]] = []
        for key, field_nodes in self.fields(self.sub_selections(nodes), "PageInfo"):
            name = field_nodes[0].name.value
            if name == "__typename":
                value: ColumnElement[Any] = _literal_name("PageInfo")
            elif name == "hasNextPage":
                value = self.sql.boolean(func.coalesce(func.max(rows.c.n), 0) > first)
            elif name == "hasPreviousPage":
                value = self.sql.json_literal(has_after)
            elif name == "startCursor":
                value = funcfilter(func.max(cursor), (rows.c.rn == 1) & (rows.c.rn <= first))
            elif name == "endCursor":
                value = funcfilter(func.max(cursor), rows.c.rn == last)
            else:
                raise NotPlanned(f"PageInfo.{name}")
            pairs.append((key, value))
        return self.sql.obj(pairs)


def plan(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: VariableValues,
    dialect: str,
    caller: Caller,
) -> Plan:
    """The operation's plan; NotPlanned (with the reason) when it is left to the reference."""
    operation = operation_of(document, operation_name)
    try:
        return _Planner(schema, document, operation, variables, dialect, caller).plan()
    except OverflowError as error:
        raise NotPlanned(str(error)) from None
