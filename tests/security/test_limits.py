"""GraphQL limits: depth, aliases, tokens, cost, page caps; each refusal has a stable code and
comes before any SQL runs."""

from __future__ import annotations

import time

import pytest
from bench.drive.queries import CUSTOMER_LIST, CUSTOMER_PAGE

from member360.db import Database
from member360.graphql import limits
from member360.graphql.limits import (
    MAX_ALIASES,
    MAX_COST,
    MAX_DEPTH,
    MAX_TOKENS,
    operation_cost,
    parse_document,
)
from member360.graphql.schema import schema
from member360.orgs.service import OrgInfo
from tests.factories import (
    StatementCounter,
    at,
    earn,
    event,
    ingest_ok,
    make_customer,
    purchase,
    redeem,
)
from tests.security.conftest import Api, codes

# 100 members with two histories of 100 each: 20,000 rows from one request.
NESTED_ABUSE = """
{ customers(search: "member", first: 100) { edges { node {
    points { activity(first: 100) { edges { node { points reason } } } }
    transactions(first: 100) { edges { node { orderId amount } } }
} } } }
"""


def nested(depth: int) -> str:
    """A document whose fields nest exactly `depth` deep."""
    return "{ " + "a { " * (depth - 1) + "b" + " }" * depth


async def seed(db: Database, org: OrgInfo, count: int = 3) -> None:
    events = []
    for i in range(count):
        c = f"CUST-{i}"
        events += [
            make_customer(c, when=at(0), name=f"Member {i}"),
            earn(c, 100, when=at(1)),
            redeem(c, 30, when=at(2)),
            purchase(c, f"{c}-o1", 50.0, 5, when=at(3)),
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


async def warm(api: Api) -> None:
    """One request resolves the key; later ones find it cached (no statement)."""
    assert "errors" not in await api.gql("{ me { kind } }")


# ------------------------------------------------------------------------- real pages pass


def test_the_real_pages_fit_the_budget_and_abuse_does_not() -> None:
    graph = schema._schema
    page = operation_cost(graph, parse_document(CUSTOMER_PAGE)).cost
    members = operation_cost(graph, parse_document(CUSTOMER_LIST)).cost
    abuse = operation_cost(graph, parse_document(NESTED_ABUSE))
    assert page < members < MAX_COST / 2, (page, members)
    assert abuse.cost > MAX_COST and abuse.error is not None
    assert abuse.error.extensions == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": abuse.cost,
        "maxCost": MAX_COST,
    }


def test_cost_multiplies_by_first_and_by_the_default_page() -> None:
    graph = schema._schema

    def cost(query: str, **variables: object) -> int:
        return operation_cost(graph, parse_document(query), None, variables).cost

    one = '{ customers(search: "a", first: 1) { edges { node { name } } } }'
    ten = '{ customers(search: "a", first: 10) { edges { node { name } } } }'
    # the connection, then edge and node per row
    assert cost(one) == 1 + 2 and cost(ten) == 1 + 20
    # no `first`: the argument's default (20 on customers)
    assert cost('{ customers(search: "a") { edges { node { name } } } }') == 1 + 40
    # a variable, and its default in the operation
    with_var = (
        'query($n: Int = 5) { customers(search: "a", first: $n) { edges { node { name } } } }'
    )
    assert cost(with_var) == 1 + 10 and cost(with_var, n=7) == 1 + 14
    # pageInfo is once per connection, not per row
    paged = '{ customers(search: "a", first: 10) { pageInfo { hasNextPage } } }'
    assert cost(paged) == 2
    # nested connections multiply; a plain list counts the default page (20) per parent
    nested_query = """{ customers(search: "a", first: 10) { edges { node {
        points { redemptions(first: 5) { edges { node { breakup { points } } } } } } } } }"""
    per_member = 2 + 1 + (1 + 5 * (2 + 20))
    assert cost(nested_query) == 1 + 10 * per_member
    # fragments count like the selections they stand for
    fragment = """{ customers(search: "a", first: 10) { ...C } }
        fragment C on CustomerConnection { edges { node { name } } pageInfo { endCursor } }"""
    assert cost(fragment) == 1 + 1 + 20


async def test_customer_page_and_member_list_pass(db: Database, org: OrgInfo, api: Api) -> None:
    await seed(db, org)
    page = await api.gql(CUSTOMER_PAGE, customerId="CUST-1")
    assert "errors" not in page, page
    assert page["data"]["customer"]["customerId"] == "CUST-1"
    members = await api.gql(CUSTOMER_LIST, search="member")
    assert "errors" not in members, members
    assert len(members["data"]["customers"]["edges"]) == 3


async def test_nested_abuse_is_refused_before_any_sql(db: Database, org: OrgInfo, api: Api) -> None:
    await warm(api)
    with StatementCounter(db) as counter:
        result = await api.gql(NESTED_ABUSE)
    assert codes(result) == ["QUERY_TOO_COMPLEX"] and result["data"] is None
    assert counter.count == 0


async def test_a_first_variable_is_priced_per_request(db: Database, org: OrgInfo, api: Api) -> None:
    query = """query($n: Int) { customers(search: "member", first: $n) { edges { node {
        points { activity(first: $n) { edges { node { points } } } }
        transactions(first: $n) { edges { node { orderId } } } } } } }"""
    await seed(db, org)
    assert "errors" not in await api.gql(query, n=5)
    assert codes(await api.gql(query, n=100)) == ["QUERY_TOO_COMPLEX"]
    assert "errors" not in await api.gql(query, n=5)


# ------------------------------------------------------------------------------ page caps


@pytest.mark.parametrize(
    "query",
    [
        '{ customers(search: "a", first: 101) { edges { cursor } } }',
        "{ exportJobs(first: 101) { edges { cursor } } }",
        '{ customer(customerId: "CUST-1") { points { activity(first: 101) { edges { cursor } } } } }',
        '{ customer(customerId: "CUST-1") { coupons { issued(first: 1000) { edges { cursor } } } } }',
        'query($n: Int) { customer(customerId: "CUST-1") { leads(first: $n) { edges { cursor } } } }',
        '{ interactionReport(filter: {from: "2024-01-01", to: "2024-01-31"}, first: 501) { edges { cursor } } }',
    ],
)
async def test_first_is_capped_on_every_connection_before_any_sql(
    db: Database, org: OrgInfo, api: Api, query: str
) -> None:
    await warm(api)
    with StatementCounter(db) as counter:
        result = await api.gql(query, n=101) if "$n" in query else await api.gql(query)
    assert codes(result) == ["PAGE_TOO_LARGE"], result
    assert result["errors"][0]["extensions"]["field"] == "first"
    assert result["errors"][0]["message"].startswith("first: at most ")
    assert counter.count == 0


async def test_the_caps_themselves_pass(db: Database, org: OrgInfo, api: Api) -> None:
    await seed(db, org)
    ok = await api.gql('{ customers(search: "member", first: 100) { edges { cursor } } }')
    assert "errors" not in ok, ok
    report = await api.gql(
        '{ interactionReport(filter: {from: "2024-01-01", to: "2024-01-31"}, first: 500) '
        "{ edges { node { userId points } } } }"
    )
    assert "errors" not in report, report
    # A negative page is the resolver's input error, as before.
    negative = await api.gql('{ customers(search: "member", first: -1) { edges { cursor } } }')
    assert codes(negative) == ["BAD_USER_INPUT"]


# ------------------------------------------------------------------------ depth and shape


async def test_depth_above_10_is_refused(db: Database, api: Api) -> None:
    # The schema nests at most 9 deep, so the deep documents name unknown fields: depth is
    # checked before validation, so the code tells which limit it is.
    assert codes(await api.gql(nested(MAX_DEPTH))) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(await api.gql(nested(MAX_DEPTH + 1))) == ["QUERY_TOO_DEEP"]
    through_fragments = (
        "{ a { ...F } } fragment F on Query { " + "a { " * (MAX_DEPTH - 1) + "b" + " }" * MAX_DEPTH
    )
    assert codes(await api.gql(through_fragments)) == ["QUERY_TOO_DEEP"]


async def test_fragments_nested_past_the_nesting_limit_are_refused(db: Database, api: Api) -> None:
    chain = "".join(f"fragment F{i} on Viewer {{ ...F{i + 1} }}\n" for i in range(45))
    query = "{ me { ...F0 } }\n" + chain + "fragment F45 on Viewer { kind }"
    assert codes(await api.gql(query)) == ["QUERY_TOO_DEEP"]


async def test_exponential_fragments_are_checked_quickly(db: Database, api: Api) -> None:
    # 2^30 paths through the fragments; every check must measure each fragment once.
    chain = "".join(f"fragment F{i} on Viewer {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(30))
    query = "{ me { ...F0 } }\n" + chain + "fragment F30 on Viewer { kind }"
    started = time.perf_counter()
    result = await api.gql(query)
    assert time.perf_counter() - started < 5
    assert "errors" not in result and result["data"]["me"]["kind"] == "API_KEY"


async def test_aliases_above_15_are_refused(db: Database, api: Api) -> None:
    fifteen = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES)) + " }"
    result = await api.gql(fifteen)
    assert "errors" not in result and len(result["data"]) == MAX_ALIASES
    sixteen = "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }"
    assert codes(await api.gql(sixteen)) == ["TOO_MANY_ALIASES"]
    # aliases inside fragments count too
    spread = "{ ...F } fragment F on Query { " + " ".join(
        f"a{i}: __typename" for i in range(MAX_ALIASES + 1)
    )
    assert codes(await api.gql(spread + " }")) == ["TOO_MANY_ALIASES"]


def test_the_token_limit_is_exact() -> None:
    def tokens(n: int) -> str:  # "{", n - 2 names, "}"
        return "{" + " a" * (n - 2) + " }"

    parse_document(tokens(MAX_TOKENS))
    with pytest.raises(limits.GraphQLError) as refused:
        parse_document(tokens(MAX_TOKENS + 1))
    assert refused.value.extensions == {"code": "QUERY_TOO_LONG"}


async def test_long_documents_are_refused(db: Database, api: Api) -> None:
    many_tokens = "{" + " __typename" * MAX_TOKENS + " }"
    assert codes(await api.gql(many_tokens)) == ["QUERY_TOO_LONG"]
    # A comment is no token, but the document still has a length limit.
    long_comment = "# " + "x" * limits.MAX_QUERY_CHARS + "\n{ __typename }"
    assert codes(await api.gql(long_comment)) == ["QUERY_TOO_LONG"]
    # One long string is one token.
    long_string = (
        '{ customers(search: "' + "x" * limits.MAX_QUERY_CHARS + '") { edges { cursor } } }'
    )
    assert codes(await api.gql(long_string)) == ["QUERY_TOO_LONG"]


async def test_documents_nested_past_the_parser_limit_are_refused(db: Database, api: Api) -> None:
    query = "{" + " a {" * 300 + " b" + " }" * 301
    assert codes(await api.gql(query)) == ["QUERY_TOO_DEEP"]


async def test_syntax_errors_have_a_code(db: Database, api: Api) -> None:
    assert codes(await api.gql("{ me { ")) == ["GRAPHQL_PARSE_FAILED"]
    assert codes(await api.gql("{ me { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]
    bad_variable = await api.gql(
        'query($n: Int) { customers(search: "a", first: $n) { edges { cursor } } }', n="ten"
    )
    assert codes(bad_variable) == ["BAD_USER_INPUT"]


async def test_limits_hold_for_mutations(db: Database, org: OrgInfo, api: Api) -> None:
    aliases = "mutation { " + " ".join(
        f'a{i}: resendCoupon(couponId: "x") {{ code }}' for i in range(MAX_ALIASES + 1)
    )
    await warm(api)
    with StatementCounter(db) as counter:
        result = await api.gql(aliases + " }")
    assert codes(result) == ["TOO_MANY_ALIASES"] and counter.count == 0


async def test_every_operation_of_a_document_is_priced_as_it_runs(
    db: Database, org: OrgInfo, api: Api
) -> None:
    small = "query Small { me { kind } }"
    abuse = "query Abuse " + NESTED_ABUSE.strip()
    # Without an operationName neither runs: the spec makes that a request error.
    assert codes(await api.gql(abuse + "\n" + small)) == ["BAD_USER_INPUT"]
    named = (await api.post(small + "\n" + abuse, operationName="Abuse")).json()
    assert codes(named) == ["QUERY_TOO_COMPLEX"]
    fine = (await api.post(small + "\n" + abuse, operationName="Small")).json()
    assert fine == {"data": {"me": {"kind": "API_KEY"}}}
