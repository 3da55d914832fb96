"""The compiled reads against the Python executor (the reference): identical answers.

Each document runs through both executors over HTTP on the same seeded data (SQLite and
PostgreSQL); the JSON must be equal, and the documents the planner covers must be planned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from graphql import GraphQLEnumType, GraphQLObjectType, get_named_type
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.graphql.schema import schema
from member360.orgs.service import OrgInfo
from member360.reads import execute
from tests.factories import at, earn, event, ingest_ok, make_customer
from tests.graphql.test_customer_history import CUSTOMER_PAGE, seed_full_history

ACTIVITY = """
query Activity($customerId: String!, $first: Int, $after: String) {
  customer(customerId: $customerId) {
    id customerId name email mobile externalId optedIn tier pointsBalance userRole groupId enrolledAt
    __typename
    points {
      activity(first: $first, after: $after) {
        edges { cursor node { occurredAt actionId actionName points runningBalance orderId
          customId reason source storeId category campaignId trackerValue expiresAt
          pointsUnrecovered transferId } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}
"""

EVERY_PLAIN_TAB = """
query Tabs($id: String!) {
  customer(customerId: $id) {
    points {
      expired(first: 20) { edges { cursor node { expiredAt points } } pageInfo { hasNextPage } }
      tierHistory(first: 20) { edges { node { changedAt fromTier toTier reason } } }
      promotions(first: 20) { edges { node { actionId points reason runningBalance } } }
      loyaltyTracker(first: 2) { edges { node { actionId points trackerValue } } }
      transfers(first: 20) { edges { node { transferredAt transferType transferId fromCustomerId
        toCustomerId program points } } }
      redemptions { edges { node { redeemedAt pointsRedeemed pointsReversed orderId } } }
    }
    coupons {
      issued(first: 20) { edges { node { couponId code resendCount } } }
      redemptions(first: 20) { edges { node { couponId orderId redeemedAt } } }
    }
    transactions(first: 20) { edges { node { type orderId amount pointsEarned } } }
    purchases: transactions(type: PURCHASE) { edges { node { type orderId } } }
    sms: interactions(channel: SMS) { edges { node { messageId channel status subject } } }
    email: interactions(channel: EMAIL) { edges { node { messageId } } pageInfo { endCursor } }
    leads(first: 20) { edges { node { leadId status subStatus extendedFields } } }
    segmentHistory(first: 20) { edges { node { segment fromPartition toPartition } } }
    identifierHistory(first: 20) { edges { node { identifierType value actionType source } } }
  }
}
"""

FRAGMENTS = """
fragment Who on Customer { customerId name tier }
query Frag($id: String!) {
  __typename
  a: customer(customerId: $id) { ...Who ... on Customer { pointsBalance } }
  b: customer(customerId: $id) { ... { customerId } nope: name }
  missing: customer(customerId: "nobody") { customerId }
}
"""

SEARCH = """
query List($search: String!, $first: Int, $after: String) {
  customers(search: $search, first: $first, after: $after) {
    edges { cursor node {
      id customerId name email mobile tier pointsBalance
      points { activity(first: 10) { edges { node { occurredAt actionId actionName points
        runningBalance } } } }
      transactions(first: 10) { edges { node { occurredAt type orderId amount pointsEarned } } }
      interactions(first: 10) { edges { node { sentAt messageId channel status subject } } }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

TILL_CODES = """
query Events($id: String!) {
  customer(customerId: $id) { behavioralEvents(first: 50) { edges { node { trackingId tillCode } } } }
}
"""

ORGANIZATION = """
query Organization {
  me { kind email scopes role __typename organization { slug name } }
  organization {
    slug name timeZone __typename
    features { hierarchy surveys extendedAttributes }
    actions { id name }
    stores { storeId name region storeType }
    campaigns { campaignId name }
    sources
  }
}
"""

PLANNED = [
    (ORGANIZATION, {}),
    (CUSTOMER_PAGE, {"customerId": "alice"}),
    (CUSTOMER_PAGE, {"customerId": "bob"}),
    (TILL_CODES, {"id": "alice"}),
    (SEARCH, {"search": "a"}),
    (SEARCH, {"search": "a", "first": 1}),
    (SEARCH, {"search": "alice"}),
    (SEARCH, {"search": "ALICE@EXAMPLE.COM"}),
    (SEARCH, {"search": "%"}),
    (SEARCH, {"search": "_"}),
    (SEARCH, {"search": "nobody-at-all"}),
    (ACTIVITY, {"customerId": "alice"}),
    (ACTIVITY, {"customerId": "alice", "first": 3}),
    (ACTIVITY, {"customerId": "alice", "first": 0}),
    (ACTIVITY, {"customerId": "bob"}),
    (ACTIVITY, {"customerId": "nobody"}),
    (EVERY_PLAIN_TAB, {"id": "alice"}),
    (EVERY_PLAIN_TAB, {"id": "bob"}),
    (FRAGMENTS, {"id": "alice"}),
]


@pytest_asyncio.fixture(loop_scope="session")
async def clients(db: Database, org: OrgInfo) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    await seed_full_history(db, org)
    # Till codes as attributes give them: every JSON type str() reads alike in SQL.
    till_codes: list[object] = ["T-2", "", None, 42, -7, 0, True, False]
    await ingest_ok(
        db,
        org,
        event("store.upserted", storeId="S2", name="Koramangala", region="Bengaluru"),
        event("store.upserted", storeId="S1", name="Bandra West", storeType="Mall"),
        earn("bob", 5, when=at(19), source="APP"),
        *(
            event(
                "event.tracked",
                when=at(20, hours=i),
                customerId="alice",
                trackingId=f"TC{i}",
                event="Till",
                tillCode="own",
                attributes={"tillCode": code},
            )
            for i, code in enumerate(till_codes)
        ),
    )
    key = await create_api_key(db, org, list(SCOPES))
    headers = {"Authorization": f"Bearer {key}"}
    made: dict[str, httpx.AsyncClient] = {}
    for name, compiled in (("compiled", True), ("reference", False)):
        app = create_app(Settings(compiled_reads=compiled), db=db, background=False)
        made[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
        )
    yield made
    for client in made.values():
        await client.aclose()


async def _both(
    clients: dict[str, httpx.AsyncClient], query: str, variables: dict[str, Any]
) -> tuple[Any, Any]:
    body = {"query": query, "variables": variables}
    answers = []
    for name in ("reference", "compiled"):
        response = await clients[name].post("/graphql", json=body)
        assert response.status_code == 200, response.text
        answer = orjson.loads(response.content)
        if "errors" in answer:
            # GraphQL leaves the errors' order open (graphql-core's follows when each field
            # finished): compared as a set.
            answer["errors"] = sorted(answer["errors"], key=orjson.dumps)
        answers.append(answer)
    return answers[0], answers[1]


def differences(reference: Any, compiled: Any, path: str = "") -> list[str]:
    """Where two answers differ (every path), so a failure names the field."""
    if isinstance(reference, dict) and isinstance(compiled, dict):
        if list(reference) != list(compiled):
            return [f"{path}: keys {list(reference)} != {list(compiled)}"]
        return [d for k in reference for d in differences(reference[k], compiled[k], f"{path}.{k}")]
    if isinstance(reference, list) and isinstance(compiled, list):
        if len(reference) != len(compiled):
            return [f"{path}: {len(reference)} items != {len(compiled)}"]
        return [
            d
            for i, (r, c) in enumerate(zip(reference, compiled, strict=True))
            for d in differences(r, c, f"{path}[{i}]")
        ]
    # JSON has one number type: 500 and 500.0 are the same number (PostgreSQL writes a float8
    # 500 as 500, Python as 500.0). Everything else must match in type too (1 is not true).
    numbers = (int, float)
    if (
        isinstance(reference, bool)
        or isinstance(compiled, bool)
        or not (isinstance(reference, numbers) and isinstance(compiled, numbers))
    ):
        if type(reference) is not type(compiled):
            return [f"{path}: {reference!r} != {compiled!r}"]
    if reference != compiled:
        return [f"{path}: {reference!r} != {compiled!r}"]
    return []


@pytest.mark.parametrize(("query", "variables"), PLANNED)
async def test_planned_documents_answer_as_the_reference(
    clients: dict[str, httpx.AsyncClient], query: str, variables: dict[str, Any]
) -> None:
    execute.reset()
    reference, compiled = await _both(clients, query, variables)
    assert execute.STATS["planned"] == 1, "the planner left this document to the reference"
    assert "errors" not in reference
    assert differences(reference, compiled) == []


@pytest.mark.parametrize("code", [2.5, 1.0, {"a": 1}, [1, 2]])
async def test_a_till_code_only_python_states_is_answered_by_python(
    db: Database, org: OrgInfo, clients: dict[str, httpx.AsyncClient], code: object
) -> None:
    member = f"till-{abs(hash(str(code)))}"
    await ingest_ok(
        db,
        org,
        make_customer(member, when=at(0)),
        event(
            "event.tracked",
            when=at(1),
            customerId=member,
            trackingId=f"{member}-1",
            event="Till",
            attributes={"tillCode": code},
        ),
    )
    execute.reset()
    reference, compiled = await _both(clients, TILL_CODES, {"id": member})
    assert execute.STATS == {"fallback": 1}
    assert compiled == reference
    assert compiled["data"]["customer"]["behavioralEvents"]["edges"][0]["node"]["tillCode"] == str(
        code
    )


async def test_search_pages_through_alike(clients: dict[str, httpx.AsyncClient]) -> None:
    after = None
    names = []
    while True:
        reference, compiled = await _both(
            clients, SEARCH, {"search": "o", "first": 1, "after": after}
        )
        assert differences(reference, compiled) == []
        page = compiled["data"]["customers"]
        names += [edge["node"]["name"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == sorted(names) and len(names) >= 2


async def test_cursors_page_through_alike(clients: dict[str, httpx.AsyncClient]) -> None:
    after = None
    seen = []
    while True:
        reference, compiled = await _both(
            clients, ACTIVITY, {"customerId": "alice", "first": 2, "after": after}
        )
        assert differences(reference, compiled) == []
        page = compiled["data"]["customer"]["points"]["activity"]
        seen += [edge["cursor"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) > 4


# ------------------------------------------------------------- generated documents

GRAPH = schema._schema


def _selection(type_name: str, depth: int) -> st.SearchStrategy[str]:
    """A random selection set on an object type: some of its fields (aliased or not, with
    random page sizes and variants), nested objects to `depth`, sometimes inside an inline
    fragment, sometimes with __typename."""
    object_type = GRAPH.type_map[type_name]
    assert isinstance(object_type, GraphQLObjectType)
    names = sorted(
        name
        for name, f in object_type.fields.items()
        if depth > 0 or not isinstance(get_named_type(f.type), GraphQLObjectType)
    )

    @st.composite
    def build(draw: st.DrawFn) -> str:
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5, unique=True))
        parts = []
        for i, name in enumerate(chosen):
            definition = object_type.fields[name]
            alias = draw(st.sampled_from(["", f"{name}{i}: "]))
            arguments = []
            for arg_name, arg in definition.args.items():
                named = get_named_type(arg.type)
                if arg_name == "first":
                    value = draw(st.sampled_from([None, 0, 1, 2, 3, 20]))
                    if value is not None:
                        arguments.append(f"first: {value}")
                elif isinstance(named, GraphQLEnumType) and draw(st.booleans()):
                    arguments.append(f"{arg_name}: {draw(st.sampled_from(sorted(named.values)))}")
            argument_text = f"({', '.join(arguments)})" if arguments else ""
            inner = get_named_type(definition.type)
            sub = ""
            if isinstance(inner, GraphQLObjectType):
                sub = " { " + draw(_selection(inner.name, depth - 1)) + " }"
            parts.append(f"{alias}{name}{argument_text}{sub}")
        if draw(st.booleans()):
            parts.append("__typename")
        body = " ".join(parts)
        wrap = draw(st.sampled_from(["plain", "inline", "typed"]))
        if wrap == "inline":
            return f"... {{ {body} }}"
        if wrap == "typed":
            return f"... on {type_name} {{ {body} }}"
        return body

    return build()


roots = st.sampled_from(
    [
        'customer(customerId: "alice")',
        'customer(customerId: "bob")',
        'customer(email: "ALICE@example.com")',
        'customers(search: "o", first: 3) { edges { cursor node',
    ]
)


@st.composite
def generated_documents(draw: st.DrawFn) -> str:
    root = draw(roots)
    selection = draw(_selection("Customer", 6))
    if root.startswith("customers"):
        return f"{{ {root} {{ {selection} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    return f"{{ {root} {{ {selection} }} }}"


GENERATED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@GENERATED
@given(document=generated_documents())
async def test_generated_documents_answer_as_the_reference(
    clients: dict[str, httpx.AsyncClient], document: str
) -> None:
    execute.reset()
    reference, compiled = await _both(clients, document, {})
    assert differences(reference, compiled) == [], document
    if "errors" not in reference:
        # Every field below Customer is planned for a caller with pii:read (this key).
        assert execute.STATS["planned"] == 1, (document, dict(execute.STATS))


@pytest_asyncio.fixture(loop_scope="session")
async def clients_without_pii(
    db: Database, org: OrgInfo, clients: dict[str, httpx.AsyncClient]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    key = await create_api_key(db, org, [s for s in SCOPES if s != "pii:read"])
    made = {}
    for name, client in clients.items():
        made[name] = httpx.AsyncClient(
            transport=client._transport,
            base_url="http://test",
            headers={"Authorization": f"Bearer {key}"},
        )
    yield made
    for client in made.values():
        await client.aclose()


@GENERATED
@given(document=generated_documents())
async def test_generated_documents_without_pii_answer_as_the_reference(
    clients_without_pii: dict[str, httpx.AsyncClient], document: str
) -> None:
    execute.reset()
    reference, compiled = await _both(clients_without_pii, document, {})
    assert differences(reference, compiled) == [], document
    codes = {e["extensions"]["code"] for e in reference.get("errors", ())}
    if codes <= {"FORBIDDEN"}:
        # Refused personal fields are planned too (null and the error at each path).
        assert execute.STATS["planned"] == 1, (document, dict(execute.STATS))


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (ACTIVITY, {"customerId": "alice"}),
        (SEARCH, {"search": "o"}),
        (EVERY_PLAIN_TAB, {"id": "alice"}),
        (CUSTOMER_PAGE, {"customerId": "alice"}),
    ],
)
async def test_refused_personal_fields_answer_as_the_reference(
    clients_without_pii: dict[str, httpx.AsyncClient], query: str, variables: dict[str, Any]
) -> None:
    execute.reset()
    reference, compiled = await _both(clients_without_pii, query, variables)
    assert execute.STATS["planned"] == 1
    assert differences(reference, compiled) == []
    if "email mobile" in query:  # Customer's personal fields: each refused where it stands
        assert {e["extensions"]["code"] for e in compiled["errors"]} == {"FORBIDDEN"}


async def test_fragments_spread_many_times_are_collected_once(
    clients: dict[str, httpx.AsyncClient],
) -> None:
    # Each fragment spreads the next twice: collected naively, 2^20 field visits.
    names = [f"F{i}" for i in range(20)]
    fragments = [
        f"fragment {a} on Viewer {{ ...{b} ...{b} }}"
        for a, b in zip(names, names[1:], strict=False)
    ]
    fragments.append(f"fragment {names[-1]} on Viewer {{ kind scopes }}")
    document = "{ me { ...F0 } }\n" + "\n".join(fragments)
    execute.reset()
    reference, compiled = await _both(clients, document, {})
    assert differences(reference, compiled) == []
    assert execute.STATS["planned"] == 1 or "errors" in reference


async def test_a_planner_bug_costs_no_answer(
    clients: dict[str, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a planner bug")

    monkeypatch.setattr("member360.reads.execute.plan", broken)
    execute.reset()
    document = '{ customer(customerId: "alice") { customerId tier } }'
    reference, compiled = await _both(clients, document, {})
    assert compiled == reference and "errors" not in compiled
    assert execute.STATS["failed"] == 1 and execute.STATS["planned"] == 0
