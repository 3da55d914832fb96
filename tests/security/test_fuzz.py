"""Fuzzing the production GraphQL endpoint: schema-driven documents (hypothesis-graphql,
valid and one-violation ones, queries and mutations), random variables for real pages, and
random request bodies. No answer may be a 500, and no error may leave unmasked: every error
carries an `extensions.code`, and unexpected ones say only "Unexpected error."."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest_asyncio
from bench.queries import CUSTOMER_LIST, CUSTOMER_PAGE
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
        if extensions["code"] == "INTERNAL_SERVER_ERROR":
            assert error["message"] == "Unexpected error." and extensions == {
                "code": "INTERNAL_SERVER_ERROR"
            }, error
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
