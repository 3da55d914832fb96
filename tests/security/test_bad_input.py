"""Bad input on the GraphQL request side (issue 11): every request is refused cleanly.

Each request of the issue is sent as written, through the real ASGI app, on SQLite and
PostgreSQL: control characters in text arguments, cursors and ids that decode to nothing a row
has, over-long search texts, over-large bodies, documents of several operations without an
operationName, and extreme values of the other arguments. Each answer is a refusal naming the
argument (BAD_USER_INPUT, or 413 for a body), never a server error.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
import pytest_asyncio

from member360.db import Database
from member360.graphql.inputs import FREE_TEXT, check_schema
from member360.graphql.schema import schema
from member360.orgs.service import OrgInfo
from tests.factories import (
    StatementCounter,
    at,
    earn,
    ingest_ok,
    make_customer,
    purchase,
    redeem,
)
from tests.security.conftest import Api

GRAPH = schema._schema
SEARCH = "query($s: String!) { customers(search: $s) { edges { node { customerId } } } }"
WINDOW = {"from": (dt.date.today() - dt.timedelta(days=200)).isoformat()}
WINDOW["to"] = dt.date.today().isoformat()
IN_WINDOW = f'from: "{WINDOW["from"]}", to: "{WINDOW["to"]}"'


def b64(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.urlsafe_b64encode(raw).decode()


def refusal(result: dict[str, Any], field: str, reason: str = "") -> dict[str, Any]:
    """The one error of a refused request: BAD_USER_INPUT, its message led by `field`."""
    errors = result.get("errors") or []
    assert len(errors) == 1, result
    error = errors[0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"].startswith(f"{field}: {reason}"), error
    return dict(error)


@pytest_asyncio.fixture(loop_scope="session")
async def member(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0), name="Anita Member"),
        earn("c1", 100, when=at(1)),
        redeem("c1", 30, when=at(2)),
        purchase("c1", "o1", 50.0, 5, when=at(3)),
    )


# ------------------------------------------------------------------ control characters

# (document, variables, the place the refusal names). Literals as the issue wrote them,
# variables, input objects, nested connections, a variable's default, a fragment.
CONTROL_CASES: list[tuple[str, dict[str, Any], str]] = [
    ('{ customers(search: "a\\u0000b") { edges { cursor } } }', {}, "customers.search"),
    (SEARCH, {"s": "a\x00b"}, "customers.search"),
    (SEARCH, {"s": "Anita\x1b[0m"}, "customers.search"),
    ('{ customer(customerId: "c1\\u0000") { name } }', {}, "customer.customerId"),
    (
        "query($v: String) { customer(externalId: $v) { name } }",
        {"v": "\x07"},
        "customer.externalId",
    ),
    (
        "query($v: String) { customer(mobile: $v) { name } }",
        {"v": "+91\t123"},  # tab: no free text here
        "customer.mobile",
    ),
    ('{ customer(email: "a\\u0000@example.com") { name } }', {}, "customer.email"),
    ('{ customer(id: "Q3VzdG9tZXI6\\u00001") { name } }', {}, "customer.id"),
    (
        'query($a: String) { customer(customerId: "c1") { points { activity(after: $a) '
        "{ edges { cursor } } } } }",
        {"a": "AHwx\x00"},
        "customer.points.activity.after",
    ),
    (
        "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
        "{ edges { cursor } } }",
        {"f": {**WINDOW, "name": "An\x00ita"}},
        "interactionReport.filter.name",
    ),
    (
        "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
        "{ edges { cursor } } }",
        {"f": {**WINDOW, "storeId": "S1\n"}},  # an exact id, no free text
        "interactionReport.filter.storeId",
    ),
    (
        "{ interactionReport(filter: {" + IN_WINDOW + ', contentText: "x\\u0008"}) '
        "{ edges { cursor } } }",
        {},
        "interactionReport.filter.contentText",
    ),
    ('{ exportJob(id: "\\u0000") { id } }', {}, "exportJob.id"),
    (
        "query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { cursor } } }",
        {"f": {"actor": "user:\x00"}},
        "auditEvents.filter.actor",
    ),
    ('mutation { resendCoupon(couponId: "\\u0000") { code } }', {}, "resendCoupon.couponId"),
    (
        "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }",
        {"i": {"customerTab": {"customerId": "c1\x00", "tab": "LEADS"}}},
        "requestExport.input.customerTab.customerId",
    ),
    (
        "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }",
        {
            "i": {
                "customerTab": {"customerId": "c1", "tab": "LEADS"},
                "delivery": "EMAIL",
                "email": "me@example.com\r\nBcc: all@example.com",
            }
        },
        "requestExport.input.email",
    ),
    (
        'query($s: String! = "\\u0000") { customers(search: $s) { edges { cursor } } }',
        {},
        "customers.search",
    ),
    (
        'query { ...F } fragment F on Query { customers(search: "\\u001f") { edges { cursor } } }',
        {},
        "customers.search",
    ),
]


@pytest.mark.parametrize(("document", "variables", "place"), CONTROL_CASES)
async def test_control_characters_are_refused_before_any_sql_naming_the_argument(
    db: Database, org: OrgInfo, api: Api, document: str, variables: dict[str, Any], place: str
) -> None:
    assert "errors" not in await api.gql("{ me { kind } }")  # the key is cached from here on
    with StatementCounter(db) as counter:
        response = await api.post(document, variables)
    assert response.status_code == 200, response.text
    result = response.json()
    error = refusal(result, place, "control characters are not allowed (U+")
    assert error["extensions"]["field"] == place
    assert result.get("data") is None
    assert counter.count == 0, "a refused request ran SQL"


async def test_every_c0_character_is_refused_and_free_text_takes_tab_and_line_breaks(
    db: Database, org: OrgInfo, member: None, dev: Api
) -> None:
    lookup = "query($v: String) { customer(customerId: $v) { customerId } }"
    for code in range(0x20):
        char = chr(code)
        refusal(await dev.gql(lookup, v=f"c1{char}"), "customer.customerId")
        if char in "\t\n\r":
            # Pasted into a search box: accepted, and the search trims or ignores it.
            found = await dev.gql(SEARCH, s=f"Anita{char}")
            assert "errors" not in found, found
            assert [e["node"]["customerId"] for e in found["data"]["customers"]["edges"]] == ["c1"]
        else:
            refusal(await dev.gql(SEARCH, s=f"Anita{char}"), "customers.search")
    assert (await dev.gql(lookup, v="c1"))["data"]["customer"] == {"customerId": "c1"}


def test_free_text_is_what_the_search_boxes_take() -> None:
    # The report's contains-filters and the member search; exact ids (storeId, source) are not.
    assert FREE_TEXT == {
        "Query.customers.search",
        "InteractionReportFilter.name",
        "InteractionReportFilter.email",
        "InteractionReportFilter.orderId",
        "InteractionReportFilter.coupon",
        "InteractionReportFilter.contentText",
    }


def test_a_free_text_entry_the_schema_lacks_fails_the_build() -> None:
    check_schema(GRAPH)
    with pytest.raises(RuntimeError, match=r"\['InteractionReportFilter.nickname'\]"):
        check_schema(GRAPH, FREE_TEXT | {"InteractionReportFilter.nickname"})


async def test_report_filter_accepts_a_pasted_tab_in_its_search_texts(
    db: Database, org: OrgInfo, member: None, dev: Api
) -> None:
    report = (
        "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
        "{ edges { node { userId } } } }"
    )
    result = await dev.gql(report, f={**WINDOW, "name": "anita\t"})
    assert "errors" not in result, result
    assert {e["node"]["userId"] for e in result["data"]["interactionReport"]["edges"]} == {"c1"}


async def test_a_nul_inside_ingest_events_reaches_the_import_validation(
    db: Database, org: OrgInfo, api: Api
) -> None:
    # JSON arguments are the import format's to check: it names the event and the field.
    mutation = (
        "mutation($e: [JSON!]!) { ingestEvents(events: $e) { applied errors { index field } } }"
    )
    by_variable = await api.gql(mutation, e=[{"type": "no\x00such", "id": "x\x00"}])
    literal = await api.gql(
        'mutation { ingestEvents(events: [{type: "nope", reason: "\\u0000"}]) '
        "{ applied errors { index field } } }"
    )
    for result in (by_variable, literal):
        assert "errors" not in result, result
        assert result["data"]["ingestEvents"] == {
            "applied": 0,
            "errors": [{"index": 0, "field": "type"}],
        }


# Every connection that takes `after` (the test below checks this against the schema).


# Instants no time cursor can hold (the member search's cursor holds a name: any text is one).


# ------------------------------------------------------------------ operation names

TWO = "query A { me { kind } } query B { organization { name } }"


async def test_two_operations_without_a_name_are_a_request_error(
    db: Database, org: OrgInfo, api: Api
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"query": TWO}, "must provide operation name"),
        ({"query": TWO, "operationName": None}, "must provide operation name"),
        ({"query": TWO, "operationName": "C"}, 'unknown operation named "C"'),
        ({"query": "{ me { kind } }", "operationName": "C"}, 'unknown operation named "C"'),
        ({"query": TWO, "operationName": ""}, 'unknown operation named ""'),
        ({"query": TWO, "operationName": 5}, "must be a string"),
    ]
    for body, reason in cases:
        response = await api.client.post("/graphql", json=body, headers=api.auth)
        assert response.status_code == 200, (body, response.text)
        error = refusal(response.json(), "operationName", reason)
        assert error["extensions"]["field"] == "operationName"
        assert "data" not in response.json() or response.json()["data"] is None
    named = await api.client.post(
        "/graphql", json={"query": TWO, "operationName": "B"}, headers=api.auth
    )
    assert named.json() == {"data": {"organization": {"name": org.name}}}
    single = await api.client.post(
        "/graphql", json={"query": "query A { me { kind } }"}, headers=api.auth
    )
    assert single.json() == {"data": {"me": {"kind": "API_KEY"}}}


async def test_two_operations_without_a_name_over_get_are_a_request_error(
    db: Database, org: OrgInfo, dev: Api
) -> None:
    for params, reason in (
        ({"query": TWO}, "must provide operation name"),
        ({"query": TWO, "operationName": "C"}, 'unknown operation named "C"'),
    ):
        response = await dev.client.get("/graphql", params=params, headers=dev.auth)
        assert response.status_code == 200, response.text
        refusal(response.json(), "operationName", reason)
    chosen = await dev.client.get(
        "/graphql", params={"query": TWO, "operationName": "A"}, headers=dev.auth
    )
    assert chosen.json() == {"data": {"me": {"kind": "API_KEY"}}}
