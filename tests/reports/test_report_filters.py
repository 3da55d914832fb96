"""The report's filters (alone and combined), paging, totals, access and input errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from member360.auth.keys import create_api_key
from member360.db import Database
from member360.orgs.service import OrgInfo
from member360.reports.interactions import ReportFilter, iter_rows
from tests.factories import StatementCounter, at, earn, ingest_ok, make_customer
from tests.graphql.conftest import GraphQLCall
from tests.reports.dataset import KEYS, REPORT, TOTALS, as_keys, day, expected_rows, seed, window

FILTERS: dict[str, dict[str, Any]] = {
    # alone
    "everything": {},
    "one day": {"from": day(2), "to": day(2)},
    "name": {"name": "rao"},
    "name, any case": {"name": "ALICE r"},
    "name, several members": {"name": "e"},
    "email": {"email": "BOB@EXAMPLE"},
    "order id": {"orderId": "O1"},
    "order id, exact only": {"orderId": "O"},
    "empty order id": {"orderId": ""},
    "action id": {"actionId": 1008},
    "transfers": {"actionId": 176},
    "store id": {"storeId": "S1"},
    "coupon": {"coupon": "Free Coffee"},
    "coupon, exact only": {"coupon": "free coffee"},
    "source": {"source": "APP"},
    "content: store name": {"contentText": "bandra"},
    "content: store region": {"contentText": "BENGALURU"},
    "content: store type": {"contentText": "high st"},
    "content: campaign reason": {"contentText": "diwali"},
    "content: return reason": {"contentText": "- returned"},
    "content: reward and series": {"contentText": "coffee"},
    "content: series": {"contentText": "club"},
    "content: member name": {"contentText": "iyer"},
    "content: user id, sender and receiver": {"contentText": "bob"},
    "content: action name": {"contentText": "birthday"},
    "content: custom id": {"contentText": "k-1"},
    "content: order id": {"contentText": "o3"},
    "content: user role": {"contentText": "staff"},
    "content: email": {"contentText": "carol@example"},
    "content: mobile": {"contentText": "9811100004"},
    "content: store id": {"contentText": "s2"},
    "content: source": {"contentText": "ecom"},
    "content: two letters": {"contentText": "ra"},
    "content: like wildcards are literal": {"contentText": "%"},
    "content: nothing": {"contentText": "zzz"},
    "blank texts are no filter": {"name": " ", "contentText": ""},
    # combined
    "source and action": {"source": "POS", "actionId": 100},
    "name and store": {"name": "alice", "storeId": "S1"},
    "content and order": {"contentText": "diwali", "orderId": "O3"},
    "name, source and coupon": {"name": "bob", "source": "APP", "coupon": "Free Coffee"},
    "content and action": {"contentText": "alice", "actionId": 176},
    "email, day and store": {"email": "dave", "from": day(3), "to": day(3), "storeId": "S1"},
    "all at once": {
        "name": "alice",
        "email": "alice",
        "orderId": "O1",
        "actionId": 100,
        "storeId": "S1",
        "source": "POS",
        "contentText": "bandra",
    },
    "contradiction": {"source": "APP", "storeId": "S1"},
}


@pytest.mark.parametrize("name", list(FILTERS))
async def test_each_filter_alone_and_combined(
    db: Database, org: OrgInfo, backend: str, gql: GraphQLCall, name: str
) -> None:
    # given the program, when filtered
    await seed(db, org)
    filters = {**window(), **FILTERS[name]}
    result = await gql(KEYS, filter=filters, first=500)
    # then exactly the rows the rules give, in report order
    assert "errors" not in result, result
    normalized = {k: v for k, v in filters.items() if not (isinstance(v, str) and not v.strip())}
    assert as_keys(result["data"]["interactionReport"]["edges"]) == await expected_rows(
        db, org, backend, normalized
    )


async def test_the_filters_select_what_they_say(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    # A few filters spelled out, so the reference implementation cannot be wrong alone.
    await seed(db, org)

    async def keys(**filters: Any) -> list[tuple[Any, ...]]:
        result = await gql(KEYS, filter=window(**filters), first=500)
        return [
            (k[1], k[2], k[3], k[5]) for k in as_keys(result["data"]["interactionReport"]["edges"])
        ]

    assert await keys(orderId="O3") == [("alice", 1008, "O3", -30), ("alice", 1008, "O3", 30)]
    assert await keys(contentText="COFFEE") == [("bob", 100, None, 25)]
    assert sorted(await keys(contentText="bob"), key=repr) == [
        ("alice", 176, None, -10),  # the receiver is bob
        ("bob", 100, "O2", 40),
        ("bob", 100, None, 12),
        ("bob", 100, None, 25),
        ("bob", 176, None, 10),
    ]
    assert await keys(name="carol", source="POS") == [("carol", 102, "O4", -5)]
    assert await keys(contentText="mumbai", actionId=1008) == [("alice", 1008, "O3", -30)]


async def test_without_pii_read_email_and_phone_are_withheld_and_not_searchable(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await seed(db, org)
    key = await create_api_key(db, org, ["reports:read"])
    result = await gql(REPORT, key=key, filter=window(name="alice"))
    nodes = [e["node"] for e in result["data"]["interactionReport"]["edges"]]
    assert nodes and all(n["email"] is None and n["phoneNumber"] is None for n in nodes)
    # each withheld value is a FORBIDDEN error at its own path, every other column is there
    paths = {(e["path"][2], e["path"][4]) for e in result["errors"]}
    assert paths == {(i, f) for i in range(len(nodes)) for f in ("email", "phoneNumber")}
    assert {e["extensions"]["code"] for e in result["errors"]} == {"FORBIDDEN"}
    searched = await gql(REPORT, key=key, filter=window(contentText="@example.com"))
    assert searched["data"]["interactionReport"]["edges"] == []
    refused = await gql(REPORT, key=key, filter=window(email="alice"))
    assert refused["data"] is None
    error = refused["errors"][0]
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "filter.email"}
    # with pii:read the same search finds every member's rows
    full = await gql(KEYS, filter=window(contentText="@example.com"), first=500)
    everything = await gql(KEYS, filter=window(), first=500)
    assert full["data"]["interactionReport"] == everything["data"]["interactionReport"]


async def test_the_report_needs_the_reports_read_scope(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    key = await create_api_key(db, org, ["customers:read", "pii:read"])
    result = await gql(REPORT, key=key, filter=window())
    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "reports:read" in result["errors"][0]["message"]


@pytest.mark.parametrize("size", [1, 2, 3, 7])
async def test_paging_returns_every_row_exactly_once_newest_day_first(
    db: Database, org: OrgInfo, backend: str, gql: GraphQLCall, size: int
) -> None:
    # given the program plus several rows per member and day (null, empty and set order ids)
    await seed(db, org)
    await ingest_ok(
        db,
        org,
        earn("dave", 1, when=at(3, 5), orderId="A"),
        earn("dave", 2, when=at(3, 6), orderId="A", customId="Z"),
        earn("dave", 3, when=at(3, 7), customId=""),
    )
    expected = await expected_rows(db, org, backend, window())
    # when walking the pages
    seen: list[tuple[Any, ...]] = []
    after = None
    pages = 0
    while True:
        result = await gql(KEYS, filter=window(), first=size, after=after)
        assert "errors" not in result, result
        report = result["data"]["interactionReport"]
        assert report["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += as_keys(report["edges"])
        pages += 1
        if not report["pageInfo"]["hasNextPage"]:
            break
        assert report["edges"][-1]["cursor"] == report["pageInfo"]["endCursor"]
        after = report["pageInfo"]["endCursor"]
    # then every row once, in the order of one big page, newest day first
    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert [k[0] for k in seen] == sorted((k[0] for k in seen), reverse=True)
    assert pages == max(1, -(-len(expected) // size))


async def test_a_filtered_walk_with_a_cursor_past_the_range(
    db: Database, org: OrgInfo, backend: str, gql: GraphQLCall
) -> None:
    # A cursor from a wider range must not bring rows from outside the new range.
    await seed(db, org)
    first = await gql(KEYS, filter=window(), first=1)
    cursor = first["data"]["interactionReport"]["pageInfo"]["endCursor"]  # a day-5 row
    narrow = window(1, 2)
    result = await gql(KEYS, filter=narrow, first=500, after=cursor)
    assert as_keys(result["data"]["interactionReport"]["edges"]) == await expected_rows(
        db, org, backend, narrow
    )


async def test_totals_cover_every_page_and_are_computed_only_when_asked_for(
    db: Database, org: OrgInfo, backend: str, gql: GraphQLCall
) -> None:
    await seed(db, org)
    for filters in (window(), window(source="POS"), window(contentText="alice"), window(9, 9)):
        expected = await expected_rows(db, org, backend, filters)
        result = await gql(TOTALS, filter=filters)
        assert result["data"]["interactionReport"] == {
            "totalCount": len(expected),
            "totals": {"points": sum(k[5] for k in expected)},
        }
    await gql("{ me { scopes } }")  # the key lookup is cached after the first request
    with StatementCounter(db) as plain:
        await gql(KEYS, filter=window(), first=5)
    with StatementCounter(db) as points_only:
        await gql(
            "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
            "{ edges { cursor } totals { points } } }",
            f=window(),
        )
    with StatementCounter(db) as both:
        await gql(
            "query($f: InteractionReportFilter!) { interactionReport(filter: $f) "
            "{ ...Counts edges { cursor } } } fragment Counts on InteractionReportConnection "
            "{ totalCount totals { points } }",
            f=window(),
        )
    with StatementCounter(db) as totals_alone:
        await gql(TOTALS, filter=window())
    # Each statement runs in its own session (the count and the sum side by side); on PostgreSQL
    # each session's transaction first names its organization for row-level security.
    per_statement = 2 if backend == "postgresql" else 1
    assert (plain.count, points_only.count, both.count, totals_alone.count) == tuple(
        n * per_statement for n in (1, 2, 3, 2)
    )


async def test_first_zero_gives_no_rows_but_says_more_follow(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await seed(db, org)
    result = await gql(KEYS, filter=window(), first=0)
    report = result["data"]["interactionReport"]
    assert report["edges"] == []
    assert report["pageInfo"]["hasNextPage"] is True
    default = await gql(KEYS, filter=window())  # 50 rows: more than the program has
    assert len(default["data"]["interactionReport"]["edges"]) == 13


@pytest.mark.parametrize(
    ("arguments", "field", "code", "words"),
    [
        ({"filter": window(5, 4)}, "filter.to", "BAD_USER_INPUT", "before from"),
        ({"filter": window(0, 366)}, "filter.to", "BAD_USER_INPUT", "at most 366"),
        ({"filter": window(), "first": 501}, "first", "PAGE_TOO_LARGE", "at most 500"),
        ({"filter": window(), "first": -1}, "first", "BAD_USER_INPUT", "negative"),
        ({"filter": window(), "after": "bm90IGEgY3Vyc29y"}, "after", "BAD_USER_INPUT", "cursor"),
        ({"filter": window(name="x" * 201)}, "filter.name", "BAD_USER_INPUT", "200"),
    ],
)
async def test_bad_input_is_an_error_naming_the_field(
    db: Database,
    org: OrgInfo,
    gql: GraphQLCall,
    arguments: dict[str, Any],
    field: str,
    code: str,
    words: str,
) -> None:
    result = await gql(REPORT, **arguments)
    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"] == {"code": code, "field": field}
    assert error["message"].startswith(f"{field}: ")
    assert words in error["message"]


async def test_a_range_of_366_days_is_allowed(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    result = await gql(KEYS, filter=window(0, 365))
    assert "errors" not in result, result


async def test_iter_rows_yields_the_whole_report_in_batches(
    db: Database, org: OrgInfo, backend: str
) -> None:
    # The export's walk: keyset batches, same rows and order as the report.
    await seed(db, org)
    f = ReportFilter(from_=dt.date.fromisoformat(day(0)), to=dt.date.fromisoformat(day(10)))
    batches = [batch async for batch in iter_rows(db, org, f, pii=False, batch=4)]
    assert [len(b) for b in batches] == [4, 4, 4, 1]
    keys = [
        (r.date.isoformat(), r.user_id, r.action_id, r.order_id, r.custom_id, r.points)
        for batch in batches
        for r in batch
    ]
    assert keys == await expected_rows(db, org, backend, window())
    assert all(r.email is None and r.phone_number is None for b in batches for r in b)
    assert ReportFilter.from_params(f.as_params()) == f


async def test_totals_over_a_big_program_pass_the_32_bit_int(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    # Given two members who each hold close to the largest balance (each within an Int)
    largest = 2**31 - 1
    await ingest_ok(
        db,
        org,
        make_customer("BIG-1", when=at(1)),
        make_customer("BIG-2", when=at(1)),
        earn("BIG-1", largest, when=at(2)),
        earn("BIG-2", largest - 1, when=at(2)),
    )
    # When the report sums the program
    result = await gql(TOTALS, filter={"from": day(0), "to": day(3)})
    # Then the total is exact, beyond 32 bits, and no error is raised
    assert "errors" not in result, result
    assert result["data"]["interactionReport"]["totals"] == {"points": 2 * largest - 1}
