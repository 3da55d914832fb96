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
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from graphql import GraphQLObjectType, get_named_type

from member360.app import create_app
from member360.auth.routes import CSRF_COOKIE
from member360.auth.users import create_user
from member360.config import Settings
from member360.db import Database
from member360.demo_events import generate_demo_events
from member360.graphql.inputs import FREE_TEXT, check_schema
from member360.graphql.schema import schema
from member360.ingest.limits import EVENTS_PER_CALL
from member360.orgs.service import OrgInfo
from member360.reports.interactions import MAX_TEXT
from tests.factories import (
    StatementCounter,
    at,
    earn,
    ingest_ok,
    make_customer,
    purchase,
    redeem,
)
from tests.security.conftest import Api, codes

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


# ------------------------------------------------------------------ cursors

CUSTOMER = 'query($after: String) { customer(customerId: "c1") { %s } }'
ADMIN_ONLY = {"Query.auditEvents"}
# Every connection that takes `after` (the test below checks this against the schema).
CONNECTIONS: dict[str, str] = {
    "Query.customers": (
        'query($after: String) { customers(search: "Anita", after: $after) { edges { cursor } } }'
    ),
    "Query.interactionReport": (
        "query($after: String) { interactionReport(filter: {" + IN_WINDOW + "}, "
        "after: $after) { edges { cursor } } }"
    ),
    "Query.exportJobs": "query($after: String) { exportJobs(after: $after) { edges { cursor } } }",
    "Query.auditEvents": (
        "query($after: String) { auditEvents(after: $after) { edges { cursor } } }"
    ),
    **{
        f"Customer.{name}": CUSTOMER % f"{name}(after: $after) {{ edges {{ cursor }} }}"
        for name in (
            "transactions",
            "interactions",
            "behavioralEvents",
            "leads",
            "segmentHistory",
            "identifierHistory",
        )
    },
    **{
        f"PointsHistory.{name}": CUSTOMER
        % f"points {{ {name}(after: $after) {{ edges {{ cursor }} }} }}"
        for name in (
            "redemptions",
            "expired",
            "tierHistory",
            "promotions",
            "loyaltyTracker",
            "transfers",
            "activity",
        )
    },
    **{
        f"CouponHistory.{name}": CUSTOMER
        % f"coupons {{ {name}(after: $after) {{ edges {{ cursor }} }} }}"
        for name in ("issued", "redemptions")
    },
}
HUGE = "99999999999999999999999"
BAD_CURSORS = [
    "AHwx",  # the issue's: "\x00|1"
    b64(f"x|{HUGE}"),  # the issue's: an id beyond 64 bits
    b64(f"2026-01-01T00:00:00+00:00|{HUGE}"),
    b64("2026-01-01T00:00:00+00:00|9223372036854775808"),  # one past the 64-bit maximum
    b64("2026-01-01T00:00:00+00:00|-1"),
    b64("2026-01-01T00:00:00+00:00|1_0"),
    b64("\x00\x00|1"),
    b64("no separator"),
    b64(b"\xff\xfe|1"),  # not UTF-8
    "not base64!",
    "AHwx!!",  # base64 with foreign characters (the lenient decoder dropped them)
    "é",
    "",
    b64(json.dumps([WINDOW["to"], 10**23, 100, None, None])),
    b64(json.dumps([WINDOW["to"], 1, 2**31, None, None])),  # action id beyond 32 bits
    b64(json.dumps([WINDOW["to"], 1, 100, "o\x00", None])),
    b64(json.dumps([WINDOW["to"], True, 100, None, None])),
    b64(json.dumps(["0000-01-01", 1, 100, None, None])),
    b64(json.dumps({"day": WINDOW["to"]})),
    b64("[" * 5000 + "]" * 5000),
]


# Instants no time cursor can hold (the member search's cursor holds a name: any text is one).
BAD_TIME_CURSORS = [
    b64("0001-01-01T00:00:00+05:00|1"),  # before year 1 in UTC
    b64("9999-12-31T23:59:59-05:00|1"),  # after year 9999 in UTC
    b64("yesterday|1"),
]
TEXT_CURSORS = {"Query.customers"}


def connections_with_after() -> set[str]:
    return {
        f"{type_.name}.{name}"
        for type_ in GRAPH.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if "after" in field.args
    }


def test_every_connection_with_after_is_tried() -> None:
    assert set(CONNECTIONS) == connections_with_after()


async def admin_session(db: Database, org: OrgInfo) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Posts as a signed-in admin user (the audit log is theirs only)."""
    email = f"{uuid.uuid4().hex[:10]}@staff.example.com"
    await create_user(db, org, email=email, role="ADMIN", password="correct horse battery")
    app = create_app(Settings(_env_file=None), db=db, background=False)  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        login = await client.post(
            "/auth/login", json={"email": email, "password": "correct horse battery"}
        )
        assert login.status_code == 200, login.text

        async def post(query: str, variables: dict[str, Any]) -> Any:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"X-CSRF-Token": client.cookies.get(CSRF_COOKIE, "")},
            )
            assert response.status_code == 200, response.text
            return response.json()

        yield post


async def test_every_connection_refuses_every_bad_cursor(
    db: Database, org: OrgInfo, member: None, dev: Api
) -> None:
    sessions = admin_session(db, org)
    as_admin = await anext(sessions)
    failures = []
    try:
        for label, document in CONNECTIONS.items():
            post = as_admin if label in ADMIN_ONLY else None
            extra = [] if label in TEXT_CURSORS else BAD_TIME_CURSORS
            for cursor in BAD_CURSORS + extra:
                if post is not None:
                    result = await post(document, {"after": cursor})
                else:
                    result = await dev.gql(document, after=cursor)
                errors = result.get("errors") or []
                ok = (
                    len(errors) == 1
                    and errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
                    and errors[0]["message"].startswith("after: invalid cursor")
                    and errors[0]["path"][-1] == label.split(".")[1]
                )
                if not ok:
                    failures.append((label, cursor[:40], errors))
    finally:
        await sessions.aclose()
    assert failures == []


async def test_a_bad_cursor_beside_other_tabs_leaves_no_connection_behind(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    # The failing tab is non-null: graphql-core cancels its siblings while their dataloader
    # batches still read on the request's connection. The request waits for those reads
    # before it closes its session (it used to leak a pooled connection per request).
    tabs = CUSTOMER % (
        "points { redemptions(after: $after) { edges { cursor } } expired { edges { cursor } } "
        "activity { edges { cursor } } } transactions { edges { cursor } } "
        "leads { edges { cursor } }"
    )
    pool = db.engine.sync_engine.pool
    for _ in range(5):
        result = await api.gql(tabs, after="not a cursor")
        error = refusal(result, "after", "invalid cursor")
        assert error["path"] == ["customer", "points", "redemptions"]
        assert result["data"] == {"customer": None}
        assert pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_the_issue_cursor_requests_as_written(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    for after in ("AHwx", b64(f"x|{HUGE}")):
        result = await api.gql(
            f'{{ customers(search: "Anita", after: "{after}") {{ edges {{ cursor }} }} }}'
        )
        refusal(result, "after", "invalid cursor")
        assert result["errors"][0]["path"] == ["customers"]


async def test_cursors_the_connections_return_still_page(
    db: Database, org: OrgInfo, member: None, dev: Api
) -> None:
    await ingest_ok(db, org, make_customer("c2", when=at(0), name="Anita Second"))
    page = (
        'query($after: String) { customers(search: "Anita", first: 1, after: $after) '
        "{ edges { node { customerId } } pageInfo { endCursor hasNextPage } } }"
    )
    first = (await dev.gql(page))["data"]["customers"]
    second = (await dev.gql(page, after=first["pageInfo"]["endCursor"]))["data"]["customers"]
    assert [first["edges"][0]["node"]["customerId"], second["edges"][0]["node"]["customerId"]] == [
        "c1",
        "c2",
    ]
    activity = CUSTOMER % "points { activity(first: 1, after: $after) { edges { cursor } } }"
    cursor = (await dev.gql(activity))["data"]["customer"]["points"]["activity"]["edges"][0]
    more = await dev.gql(activity, after=cursor["cursor"])
    assert "errors" not in more and more["data"]["customer"]["points"]["activity"]["edges"]


# ------------------------------------------------------------------ ids


def id_arguments() -> set[str]:
    return {
        f"{type_.name}.{name}.{arg_name}"
        for type_ in GRAPH.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        for arg_name, arg in field.args.items()
        if get_named_type(arg.type).name == "ID"
    }


def test_every_id_argument_is_tried() -> None:
    assert id_arguments() == {
        "Query.customer.id",
        "Query.exportJob.id",
        "Mutation.resendCoupon.couponId",
    }


BAD_CUSTOMER_IDS = [
    b64(f"Customer:{HUGE}"),  # the issue's: beyond 64 bits
    b64("Customer:9223372036854775808"),
    b64("Order:1"),  # another type
    b64("Customer:1:2"),  # wrong arity
    b64("Customer"),
    b64("Customer:"),
    b64("Customer:-1"),
    b64("Customer:0"),
    b64("Customer: 1"),
    b64("Customer:\uff11"),  # a full-width digit, which int() takes
    b64(b"\xffCustomer:1"),
    "Q3VzdG9tZXI6MQ==!",  # Customer:1 with a foreign character
    "not base64",
    "",
]


async def test_customer_id_that_is_no_global_id_is_invalid_id(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    query = "query($id: ID) { customer(id: $id) { customerId } }"
    for value in BAD_CUSTOMER_IDS:
        result = await api.gql(query, id=value)
        error = refusal(result, "id", "invalid id")
        assert error["path"] == ["customer"] and error["extensions"]["field"] == "id"
    # As the issue wrote it: a literal.
    refusal(await api.gql(f'{{ customer(id: "{BAD_CUSTOMER_IDS[0]}") {{ name }} }}'), "id")
    # A well-formed id of no member is no error, and a member's own id finds it.
    assert await api.gql(query, id=b64("Customer:9223372036854775807")) == {
        "data": {"customer": None}
    }
    own = (await api.gql('{ customer(customerId: "c1") { id } }'))["data"]["customer"]["id"]
    assert (await api.gql(query, id=own))["data"]["customer"] == {"customerId": "c1"}


async def test_export_job_id_and_coupon_id_refuse_junk_naming_the_argument(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    job = "query($id: ID!) { exportJob(id: $id) { id } }"
    for value in ("nope", "0" * 31, "G" * 32, "0" * 33, b64(f"x|{HUGE}"), ""):
        refusal(await api.gql(job, id=value), "id", "invalid id")
    assert await api.gql(job, id="0" * 32) == {"data": {"exportJob": None}}
    coupon = "mutation($c: ID!) { resendCoupon(couponId: $c) { code } }"
    for value in ("nope", HUGE, "x" * 10_000):
        refusal(await api.gql(coupon, c=value), "couponId", "unknown coupon")


# ------------------------------------------------------------------ search lengths


async def test_search_texts_are_capped_at_200_characters(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    assert MAX_TEXT == 200
    fits = await api.gql(SEARCH, s="a" * 200)
    assert fits == {"data": {"customers": {"edges": []}}}
    for size in (201, 1_000_000):
        error = refusal(await api.gql(SEARCH, s="a" * size), "search", "at most 200 characters")
        assert error["path"] == ["customers"]
    # Trimmed first: what the search runs counts.
    assert "errors" not in await api.gql(SEARCH, s=" " * 500 + "Anita" + " " * 500)


@pytest.mark.parametrize(
    "field", ["name", "email", "orderId", "coupon", "source", "contentText", "storeId"]
)
async def test_report_filter_texts_are_capped_at_200_characters(
    db: Database, org: OrgInfo, member: None, dev: Api, field: str
) -> None:
    report = (
        "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
        "{ edges { cursor } totalCount } }"
    )
    assert "errors" not in await dev.gql(report, f={**WINDOW, field: "a" * 200})
    for size in (201, 1_000_000):
        error = refusal(
            await dev.gql(report, f={**WINDOW, field: "a" * size}),
            f"filter.{field}",
            "at most 200 characters",
        )
        assert error["path"] == ["interactionReport"]
    export = "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }"
    refusal(
        await dev.gql(export, i={"interactionReport": {**WINDOW, field: "a" * 201}}),
        f"input.interactionReport.{field}",
        "at most 200 characters",
    )


async def test_the_issue_10_mb_search_is_refused_by_the_body_limit(
    db: Database, org: OrgInfo, api: Api
) -> None:
    response = await api.post(SEARCH, {"s": "x" * 10_000_000})
    assert response.status_code == 413, response.text[:300]
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


# ------------------------------------------------------------------ body size


def small_limit_app(db: Database, limit: int = 65_536) -> httpx.AsyncClient:
    app = create_app(
        Settings(_env_file=None, max_body_bytes=limit),  # type: ignore[call-arg]
        db=db,
        background=False,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def padded(size: int) -> bytes:
    """A GraphQL request body of exactly `size` bytes."""
    head = b'{"query": "{ me { kind } }", "variables": {"pad": "'
    tail = b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def test_bodies_over_the_limit_get_413_before_anything_reads_them(
    db: Database, org: OrgInfo, api_key: str
) -> None:
    auth = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    async with small_limit_app(db) as client:
        at_limit = await client.post("/graphql", content=padded(65_536), headers=auth)
        assert at_limit.status_code == 200 and at_limit.json() == {
            "data": {"me": {"kind": "API_KEY"}}
        }
        over = await client.post("/graphql", content=padded(65_537), headers=auth)
        assert over.status_code == 413
        assert over.json() == {
            "errors": [
                {
                    "message": "the request body is larger than 65536 bytes",
                    "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                }
            ]
        }
        assert over.headers["connection"] == "close"
        assert over.headers["x-content-type-options"] == "nosniff"  # the usual headers too
        # Before authentication: no credential needed to be refused, none looked up.
        anonymous = await client.post(
            "/graphql", content=padded(70_000), headers={"Content-Type": "application/json"}
        )
        assert anonymous.status_code == 413
        # Sign-in posts too.
        login = await client.post(
            "/auth/login",
            content=b'{"email": "a@example.com", "password": "' + b"x" * 70_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        assert login.status_code == 413


async def test_a_chunked_body_is_counted_as_it_arrives(
    db: Database, org: OrgInfo, api_key: str
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ me { kind } }", "variables": {"pad": "'
        for _ in range(100):
            sent += 1
            yield b"x" * 16_384
        yield b'"}}'

    async with small_limit_app(db) as client:
        response = await client.post(
            "/graphql",
            content=chunks(),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        )
    assert response.status_code == 413, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    # Refused at the chunk that passed 64 KiB: the other 96 were never read.
    assert sent == 4


async def test_a_chunked_body_under_the_limit_is_served(
    db: Database, org: OrgInfo, api_key: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ me '
        yield b'{ kind } }"}'

    async with small_limit_app(db) as client:
        response = await client.post(
            "/graphql",
            content=chunks(),
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
        )
    assert response.status_code == 200 and response.json() == {"data": {"me": {"kind": "API_KEY"}}}


async def test_the_default_limit_takes_the_largest_ingest_batch(
    db: Database, org: OrgInfo, dev: Api
) -> None:
    # 5,000 events (one call's maximum) of the demo program's largest kind, pretty-printed.
    demo = generate_demo_events(members=60, end=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    sample = [e for e in demo if e["type"] == "lead.created"]
    assert sample
    events = [dict(sample[i % len(sample)]) for i in range(EVENTS_PER_CALL)]
    events[0] = {"type": "no.such", "id": "first"}  # the importer stops at once: a cheap check
    body = json.dumps(
        {
            "query": "mutation($e: [JSON!]!) { ingestEvents(events: $e) "
            "{ applied errors { index field } } }",
            "variables": {"e": events},
        },
        indent=2,
    ).encode()
    assert 2_500_000 < len(body) <= Settings(_env_file=None).max_body_bytes  # type: ignore[call-arg]
    response = await dev.client.post(
        "/graphql", content=body, headers={**dev.auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text[:300]
    assert response.json()["data"]["ingestEvents"] == {
        "applied": 0,
        "errors": [{"index": 0, "field": "type"}],
    }


def test_the_limit_setting_refuses_values_that_would_break_ordinary_requests() -> None:
    with pytest.raises(ValueError, match="M360_MAX_BODY_BYTES must be at least 65536"):
        Settings(_env_file=None, max_body_bytes=1000)  # type: ignore[call-arg]


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


# ------------------------------------------------------------------ extreme values


async def test_page_sizes_out_of_range_are_refused(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    refusal(
        await api.gql('{ customers(search: "Anita", first: -1) { edges { cursor } } }'), "first"
    )
    history = CUSTOMER % "points { activity(first: $first) { edges { cursor } } }"
    history = history.replace("$after: String", "$first: Int")
    refusal(await api.gql(history, first=-5), "first", "must not be negative")
    assert codes(await api.gql(history, first=101)) == ["PAGE_TOO_LARGE"]
    # Pricing sees a huge page first; beyond 32 bits graphql-core refuses the value itself.
    assert codes(await api.gql(history, first=2**31)) == ["PAGE_TOO_LARGE"]
    beyond = await api.gql(history, first=-(2**31) - 1)
    assert codes(beyond) == ["BAD_USER_INPUT"] and "$first" in beyond["errors"][0]["message"]
    literal = await api.gql(
        '{ customers(search: "a", first: 9223372036854775808) { edges { cursor } } }'
    )
    assert codes(literal) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_report_days_out_of_range_are_refused(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    report = (
        "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
        "{ edges { cursor } totalCount totals { points } } }"
    )
    for window, field in (
        ({"from": "9999-12-31", "to": "9999-12-31", "name": "a"}, "filter.from"),
        ({"from": "9998-12-31", "to": "9999-01-01", "contentText": "a"}, "filter.to"),
        ({"from": "0001-01-01", "to": "0001-01-02", "email": "a"}, "filter.from"),
        ({"from": "1899-12-31", "to": "1900-01-01"}, "filter.from"),
    ):
        error = refusal(await api.gql(report, f=window), field, "")
        assert "outside the days a report can cover" in error["message"]
    # The last day it covers still runs, with the day arithmetic of a name search.
    edge = await api.gql(report, f={"from": "9998-12-31", "to": "9998-12-31", "name": "a"})
    assert "errors" not in edge, edge
    # Year 0 and the day after 9999-12-31 are no dates at all: the Date scalar refuses them.
    for day in ("0000-01-01", "10000-01-01", "9999-12-32"):
        result = await api.gql(report, f={"from": day, "to": day})
        # (graphql-core reports `from` and `to` apart: an error each.)
        assert codes(result) == ["BAD_USER_INPUT"] * 2
        assert all("$f" in e["message"] for e in result["errors"])
    export = "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }"
    refusal(
        await api.gql(export, i={"interactionReport": {"from": "9999-12-31", "to": "9999-12-31"}}),
        "input.interactionReport.from",
    )


async def test_audit_filter_instants_at_the_ends_of_time_are_refused(
    db: Database, org: OrgInfo
) -> None:
    sessions = admin_session(db, org)
    as_admin = await anext(sessions)
    try:
        query = "query($f: AuditEventFilter) { auditEvents(filter: $f) { edges { cursor } } }"
        for name, value in (("from", "0001-01-01T00:00:00"), ("to", "9999-12-31T23:59:59-05:00")):
            result = await as_admin(query, {"f": {name: value}})
            error = refusal(result, f"filter.{name}", "")
            assert "out of range" in error["message"]
        fine = await as_admin(
            query, {"f": {"from": "0001-01-02T00:00:00", "to": "9999-12-30T00:00:00"}}
        )
        assert "errors" not in fine, fine
    finally:
        await sessions.aclose()


async def test_export_email_is_checked_before_it_is_stored(
    db: Database, org: OrgInfo, member: None, api: Api
) -> None:
    export = "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }"
    tab = {"customerId": "c1", "tab": "LEADS"}
    for email, place, reason in (
        ("a\x00@example.com", "requestExport.input.email", "control characters"),
        ("x" * 300 + "@example.com", "email", "at most 254 characters"),
        ("x" * 1_000_000, "email", "at most 254 characters"),
        ("not an address", "email", ""),
    ):
        result = await api.gql(export, i={"customerTab": tab, "delivery": "EMAIL", "email": email})
        error = refusal(result, place, reason)
        assert len(error["message"]) < 300  # no echo of a long value
