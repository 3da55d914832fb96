"""Fuzzing the GraphQL endpoint: schema-driven documents (hypothesis-graphql, valid and
one-violation ones, queries and mutations), random variables for real pages, random request
bodies, and hostile values (control characters, huge and negative numbers, forged cursors and
ids, deep nesting) in every argument of every root field and mutation and of the connections
below them, as variables and as literals.

No answer may be a 500 or an INTERNAL_SERVER_ERROR (bad input is refused, never a crash), every
error carries an `extensions.code`, and every BAD_USER_INPUT refusal names its argument or
field."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from bench.drive.queries import CUSTOMER_LIST, CUSTOMER_PAGE
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from member360.db import Database
from member360.graphql.schema import schema
from member360.orgs.service import OrgInfo
from tests.factories import at, earn, event, ingest_ok, make_customer, purchase, redeem
from tests.security.conftest import Api

GRAPH = schema._schema
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Names that contain every letter and digit, so short random search texts find members.
NAME = "Member abcdefghijklmnopqrstuvwxyz 0123456789"
CUSTOMER_IDS = [f"CUST-{i}" for i in range(3)]

text = st.text(max_size=30)
dates = st.one_of(st.dates().map(dt.date.isoformat), text)
datetimes = st.one_of(st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat), text)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
SCALARS = {
    "Date": dates.map(nodes.String),
    "DateTime": datetimes.map(nodes.String),
    "JSON": st.one_of(st.integers().map(nodes.Int), text.map(nodes.String)),
}
documents = st.one_of(
    queries(GRAPH, custom_scalars=SCALARS),
    queries(GRAPH, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    mutations(GRAPH, custom_scalars=SCALARS),
    mutations(GRAPH, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
)
REPORT = """query Report($filter: InteractionReportFilter!, $first: Int, $after: String) {
  interactionReport(filter: $filter, first: $first, after: $after) {
    edges { cursor node { date userId email actionName points orderId } }
    pageInfo { hasNextPage endCursor } totalCount totals { points } } }"""
PAGED = """query Paged($id: String!, $first: Int, $after: String, $channel: Channel) {
  customer(customerId: $id) {
    interactions(channel: $channel, first: $first, after: $after) { edges { cursor } }
    points { activity(first: $first, after: $after) { edges { cursor } } } } }"""
variables = st.one_of(
    st.fixed_dictionaries(
        {"customerId": st.sampled_from(CUSTOMER_IDS) | text}, optional={"x": json_values}
    ).map(lambda v: (CUSTOMER_PAGE, v)),
    st.fixed_dictionaries({"search": text | json_values}).map(lambda v: (CUSTOMER_LIST, v)),
    st.fixed_dictionaries(
        {
            "filter": st.fixed_dictionaries(
                {"from": dates, "to": dates},
                optional={
                    "name": text,
                    "email": text,
                    "actionId": st.integers(),
                    "contentText": text,
                    "source": text,
                },
            )
            | json_values
        },
        optional={"first": st.integers(-5, 600) | json_values, "after": text},
    ).map(lambda v: (REPORT, v)),
    st.fixed_dictionaries(
        {"id": st.sampled_from(CUSTOMER_IDS) | text},
        optional={
            "first": st.integers(-5, 200) | json_values,
            "after": text,
            "channel": st.sampled_from(["SMS", "EMAIL", "email", "FAX"]) | json_values,
        },
    ).map(lambda v: (PAGED, v)),
)
bodies = st.one_of(
    st.binary(max_size=80),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "query": text | json_values,
            "variables": json_values,
            "operationName": text | json_values,
            "extensions": json_values,
        },
    ).map(lambda v: json.dumps(v).encode()),
)


@pytest_asyncio.fixture(loop_scope="session")
async def seeded(db: Database, org: OrgInfo) -> None:
    events = []
    for c in CUSTOMER_IDS:
        events += [
            make_customer(c, when=at(0), name=NAME),
            earn(c, 100, when=at(1)),
            redeem(c, 30, when=at(2)),
            purchase(c, f"{c}-o1", 50.0, 5, when=at(3)),
            event(
                "coupon.issued",
                when=at(3),
                couponId=f"{c}-cp",
                code="X",
                customerId=c,
                expiresAt=at(200),
            ),
            event(
                "communication.sent",
                when=at(3),
                messageId=f"{c}-m",
                customerId=c,
                channel="EMAIL",
                status="SENT",
            ),
        ]
    await ingest_ok(db, org, *events)


def _schema_names() -> frozenset[str]:
    """Every field, argument and input field name: what a refusal may name."""
    names = {"operationName"}
    for type_ in GRAPH.type_map.values():
        for name, field in (getattr(type_, "fields", None) or {}).items():
            names.add(name)
            names.update(getattr(field, "args", None) or {})
    return frozenset(names)


NAMES = _schema_names()
_PLACE = re.compile(r"([A-Za-z_][\w.\[\]]*): ")
_VARIABLE = re.compile(r"Variable '\$\w+'")


def names_its_place(message: str) -> bool:
    """A refusal leads with the place it refuses (`customers.search: …`, `filter.to: …`), or
    is graphql-core's refusal of a variable (`Variable '$f' got invalid value …`)."""
    if _VARIABLE.match(message):
        return True
    place = _PLACE.match(message)
    if place is None:
        return False
    segments = re.sub(r"\[\d+\]", "", place.group(1)).split(".")
    return all(segment in NAMES for segment in segments)


def assert_safe(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        # Strawberry's own refusals of malformed requests are plain text.
        assert response.status_code in (400, 404, 405), response.text
        return
    body: Any = response.json()
    assert isinstance(body, dict), body
    for error in body.get("errors", []):
        extensions = error.get("extensions") or {}
        assert isinstance(extensions.get("code"), str), error
        # Bad input is refused with a reason; a server error here is a crash on input.
        assert extensions["code"] != "INTERNAL_SERVER_ERROR", error
        if extensions["code"] == "BAD_USER_INPUT":
            assert names_its_place(error["message"]), error
        assert "Did you mean" not in error["message"], error
        assert "Traceback" not in error["message"], error


@FUZZ
@given(document=documents)
async def test_fuzzed_documents(db: Database, seeded: None, prod: Api, document: str) -> None:
    assert_safe(await prod.post(document))


@FUZZ
@given(case=variables)
async def test_fuzzed_variables(db: Database, seeded: None, prod: Api, case: Any) -> None:
    document, values = case
    assert_safe(await prod.post(document, values))


@FUZZ
@given(
    body=bodies,
    content_type=st.sampled_from(
        ["application/json", "application/json; charset=utf-8", "text/plain", ""]
    ),
)
async def test_fuzzed_bodies(db: Database, prod: Api, body: bytes, content_type: str) -> None:
    headers = {**prod.auth, "Content-Type": content_type} if content_type else prod.auth
    assert_safe(await prod.client.post("/graphql", content=body, headers=headers))


# ------------------------------------------------- hostile values in every argument

HOSTILE_INTS = [
    0,
    -1,
    1,
    100,
    101,
    500,
    501,
    2**31 - 1,
    -(2**31),
    2**31,
    -(2**31) - 1,
    2**63,
    -(10**23),
]


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode()


hostile_chars = st.sampled_from(
    list("\x00\x01\x08\t\n\r\x1b\x1f\x7f%_\\'\"|:@é\u202e\ufeff\U0001f600")
)
hostile_ints = st.integers() | st.sampled_from(HOSTILE_INTS)
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=hostile_chars | st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            *CUSTOMER_IDS,
            "CUST-0-cp",
            "Member",
            "0" * 32,
            "a" * 201,
            "a" * 5000,
            "%%",
            "' OR 1=1 --",
            "Customer:1",
            "2026-01-01",
        ]
    ),
)
# What decoders see: forged cursors (time, text, report) and global ids.
forged = st.one_of(
    st.tuples(st.one_of(datetimes, hostile_text), hostile_ints).map(lambda t: f"{t[0]}|{t[1]}"),
    hostile_ints.map(lambda i: f"Customer:{i}"),
    st.tuples(st.sampled_from(["Customer", "Order", ""]), hostile_text).map(":".join),
    st.lists(
        st.one_of(dates, hostile_ints, hostile_text, st.none(), st.booleans()), max_size=6
    ).map(json.dumps),
    hostile_text,
).map(b64)
texts = hostile_text | forged
hostile_json = st.recursive(
    st.none()
    | st.booleans()
    | hostile_ints
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=10,
) | st.integers(1, 120).map(lambda depth: json.loads("[" * depth + "]" * depth))
today = dt.date.today()
good_days = st.sampled_from([(today - dt.timedelta(days=d)).isoformat() for d in (150, 100, 30, 0)])
far_days = st.sampled_from(["0001-01-01", "1899-12-31", "9998-12-31", "9999-12-31"])
# Values of each scalar that pass coercion (to reach the resolvers), hostile where they can be.
SCALAR_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "String": texts,
    "ID": texts,
    "Int": st.integers(-3, 100),  # loose values: hostile_ints (beyond 32 bits, huge pages)
    "Float": st.floats(allow_nan=False, allow_infinity=False) | hostile_ints,
    "Boolean": st.booleans(),
    "Date": st.one_of(good_days, good_days, good_days, far_days, dates),
    "DateTime": datetimes
    | st.sampled_from(
        ["0001-01-01T00:00:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00"]
    ),
    "JSON": hostile_json,
}


@functools.cache
def values_of(type_: Any, loose: bool) -> st.SearchStrategy[Any]:
    """Values for an input type. Strict ones have its shape, so that they pass coercion and
    reach the resolvers; loose ones are sometimes anything at all (for coercion to refuse)."""
    required = isinstance(type_, GraphQLNonNull)
    inner = type_.of_type if required else type_
    if isinstance(inner, GraphQLList):
        item = values_of(inner.of_type, loose)
        shaped: st.SearchStrategy[Any] = st.lists(item, max_size=3) | item
    elif isinstance(inner, GraphQLInputObjectType):
        fields = inner.fields
        shaped = st.fixed_dictionaries(
            {
                n: st.deferred(lambda f=f: values_of(f.type, loose))
                for n, f in fields.items()
                if isinstance(f.type, GraphQLNonNull)
            },
            optional={
                n: st.deferred(lambda f=f: values_of(f.type, loose))
                for n, f in fields.items()
                if not isinstance(f.type, GraphQLNonNull)
            },
        )
    elif isinstance(inner, GraphQLEnumType):
        names = st.sampled_from(sorted(inner.values))
        shaped = names | hostile_text if loose else names
    else:
        shaped = SCALAR_VALUES[inner.name]
        if loose and inner.name == "Int":
            shaped = hostile_ints
    choices = [shaped, shaped, shaped] + ([] if required else [st.none()])
    return st.one_of(*choices, hostile_json) if loose else st.one_of(*choices)


@dataclass(frozen=True)
class Site:
    """An argument of a field in a fuzzed document: `variable` names it uniquely."""

    argument: str
    variable: str
    type: Any


@dataclass(frozen=True)
class Selected:
    """A field of a fuzzed document, with its arguments and what is selected below it."""

    name: str
    sites: tuple[Site, ...] = ()
    fixed: str = ""  # arguments written as they are (e.g. a member that exists)
    below: tuple[Selected, ...] | str = ()

    def every_site(self) -> list[Site]:
        found = list(self.sites)
        if not isinstance(self.below, str):
            for child in self.below:
                found += child.every_site()
        return found

    def render(self, given: dict[str, str]) -> str:
        arguments = [self.fixed] if self.fixed else []
        arguments += [
            f"{s.argument}: {given[s.variable]}" for s in self.sites if s.variable in given
        ]
        head = f"{self.name}({', '.join(arguments)})" if arguments else self.name
        if isinstance(self.below, str):
            return f"{head} {self.below}".strip()
        return f"{head} {{ __typename {' '.join(c.render(given) for c in self.below)} }}"


def _is_connection(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and {"edges", "pageInfo"} <= type_.fields.keys()


def _takes_arguments(type_: Any, depth: int = 0) -> bool:
    if not isinstance(type_, GraphQLObjectType) or depth > 3:
        return False
    return any(
        f.args or _takes_arguments(get_named_type(f.type), depth + 1) for f in type_.fields.values()
    )


def selected(name: str, field: Any, path: str, fixed: str = "") -> Selected:
    """`field` with every argument as a site, reaching each field below it that takes
    arguments (of a connection only its edges' cursors)."""
    sites = tuple(Site(a, f"{path}_{a}", arg.type) for a, arg in field.args.items())
    if fixed:
        sites = ()
    child = get_named_type(field.type)
    if not isinstance(child, GraphQLObjectType):
        below: tuple[Selected, ...] | str = ""
    elif _is_connection(child):
        below = "{ edges { cursor } }"
    else:
        below = tuple(
            selected(n, f, f"{path}_{n}")
            for n, f in child.fields.items()
            if f.args or _takes_arguments(get_named_type(f.type))
        )
    return Selected(name, sites, fixed, below)


def root_fields() -> list[tuple[str, Selected]]:
    """Every root field and mutation, and `customer` of a member that exists too (so that the
    connections below it run with hostile arguments)."""
    roots: list[tuple[str, Selected]] = []
    for keyword, root in (("query", GRAPH.query_type), ("mutation", GRAPH.mutation_type)):
        assert root is not None
        roots += [(keyword, selected(n, f, n)) for n, f in root.fields.items()]
    customer = GRAPH.query_type.fields["customer"]  # type: ignore[union-attr]
    roots.append(("query", selected("customer", customer, "member", 'customerId: "CUST-0"')))
    return roots


ROOTS = root_fields()
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def literal(value: Any, type_: Any) -> str:
    """`value` written inline in a document (as `type_` where it has that shape)."""
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if isinstance(inner, GraphQLEnumType) and value in inner.values:
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        item = inner.of_type if isinstance(inner, GraphQLList) else inner
        return "[" + ", ".join(literal(v, item) for v in value) + "]"
    fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
    pairs = [
        f"{k}: {literal(v, fields[k].type if k in fields else inner)}"
        for k, v in value.items()
        if _NAME.fullmatch(k)
    ]
    return "{" + ", ".join(pairs) + "}"


@st.composite
def hostile_requests(draw: Any) -> tuple[str, dict[str, Any]]:
    """One root field with hostile values in its arguments and those below it, as variables
    or as literals."""
    keyword, root = draw(st.sampled_from(ROOTS))
    inline = draw(st.booleans())
    loose = draw(st.booleans())
    values: dict[str, Any] = {}
    types: dict[str, Any] = {}
    for site in root.every_site():
        if isinstance(site.type, GraphQLNonNull) or draw(st.booleans()):
            values[site.variable] = draw(values_of(site.type, loose))
            types[site.variable] = site.type
    if inline:
        written = {v: literal(value, types[v]) for v, value in values.items()}
        return f"{keyword} Fuzz {{ {root.render(written)} }}", {}
    declared = ", ".join(f"${v}: {t}" for v, t in types.items())
    header = f"{keyword} Fuzz({declared})" if declared else f"{keyword} Fuzz"
    return f"{header} {{ {root.render({v: f'${v}' for v in values})} }}", values


HOSTILE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HOSTILE
@given(request=hostile_requests())
async def test_hostile_arguments_are_refused_or_answered_never_a_crash(
    db: Database, seeded: None, prod: Api, request: tuple[str, dict[str, Any]]
) -> None:
    document, values = request
    assert_safe(await prod.post(document, values))


def test_the_hostile_requests_reach_every_argument() -> None:
    reached = {
        (keyword, root.name, site.argument) for keyword, root in ROOTS for site in root.every_site()
    }
    for keyword, root_type in (("query", GRAPH.query_type), ("mutation", GRAPH.mutation_type)):
        assert root_type is not None
        for name, field in root_type.fields.items():
            for argument in field.args:
                assert (keyword, name, argument) in reached
    below = {site.variable for _, root in ROOTS if root.fixed for site in root.every_site()}
    # The member's connections: every history tab's first and after.
    assert {
        "member_points_activity_after",
        "member_coupons_issued_first",
        "member_leads_after",
    } <= below
