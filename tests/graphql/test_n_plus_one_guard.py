"""N+1 guard generated from the schema: one query selects every field reachable from Customer
(every list and connection, nested), and its statement count must not grow with the number of
members. A new list field without a dataloader makes this fail, and so does a declared tab
(history/registry.py) that the query does not reach or the seed leaves empty.

It runs on both executors: the Python one (the reference, one statement per batched list) and
the compiled reads, which answer the whole query with one statement (on PostgreSQL the
statement names its organization for row-level security itself)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.graphql.schema import schema
from member360.history.registry import HISTORY_TABS
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
    return_,
    transfer,
)


def unwrap(kind):  # type: ignore[no-untyped-def]
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def selection(kind: GraphQLObjectType, depth: int = 0) -> tuple[str, list[str]]:
    """Every field of `kind`, nested objects included; returns (selection, list-field paths)."""
    parts: list[str] = []
    lists: list[str] = []
    for name, field in kind.fields.items():
        target = unwrap(field.type)
        if any(
            isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
            for arg in field.args.values()
        ):
            continue  # needs an argument we cannot invent
        args = "(first: 3)" if "first" in field.args else ""
        if isinstance(target, GraphQLScalarType | GraphQLEnumType):
            parts.append(name)
            continue
        if depth >= 5:
            continue
        inner, nested = selection(target, depth + 1)
        if isinstance(unwrap_list(field.type), GraphQLList) or "first" in field.args:
            lists.append(name)
        lists += [f"{name}.{n}" for n in nested]
        parts.append(f"{name}{args} {{ {inner} }}")
    return " ".join(parts), lists


def _at(node: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        node = node[part]
    return node


def unwrap_list(kind):  # type: ignore[no-untyped-def]
    return kind.of_type if isinstance(kind, GraphQLNonNull) else kind


def everything_query() -> tuple[str, list[str]]:
    customer = schema._schema.type_map["Customer"]
    assert isinstance(customer, GraphQLObjectType)
    inner, lists = selection(customer)
    return (
        f"query($s: String!) {{ customers(search: $s, first: 50) {{ edges {{ node {{ {inner} }} }} }} }}",
        lists,
    )


async def seed(db: Database, org: OrgInfo, prefix: str, count: int) -> None:
    events = [event("campaign.defined", when=at(0), campaignId=f"{prefix}C", name="Camp")]
    for i in range(count):
        c, friend = f"{prefix}{i}", f"{prefix}{i}f"
        events += [
            make_customer(c, when=at(0), name=f"{prefix} member {i}", tier="Silver"),
            make_customer(friend, when=at(0), name=f"zz friend {prefix}{i}"),
            purchase(c, f"{c}-o1", 100.0, 40, when=at(1)),
            earn(c, 10, when=at(1), actionId=1008, campaignId=f"{prefix}C"),
            earn(c, 5, when=at(1), category="TRACKER", trackerValue=1.0),
            earn(c, 3, when=at(-400), expiresAt=at(-300)),
            redeem(c, 20, when=at(2), orderId=f"{c}-o1"),
            return_(c, f"{c}-o1", 50.0, when=at(3)),
            transfer(c, friend, 5, when=at(4)),
            event("tier.changed", when=at(5), customerId=c, toTier="Gold"),
            event(
                "coupon.issued",
                when=at(5),
                couponId=f"{c}-cp",
                code="X",
                customerId=c,
                expiresAt=at(200),
            ),
            event(
                "coupon.issued",
                when=at(5),
                couponId=f"{c}-cp2",
                code="Y",
                customerId=c,
                expiresAt=at(200),
            ),
            event("coupon.redeemed", when=at(6), couponId=f"{c}-cp2"),
            event(
                "communication.sent",
                when=at(6),
                messageId=f"{c}-m",
                customerId=c,
                channel="SMS",
                status="SENT",
            ),
            event("event.tracked", when=at(6), customerId=c, trackingId=f"{c}-t", event="Open"),
            event("lead.created", when=at(6), leadId=f"{c}-l", customerId=c, status="OPEN"),
            event("segment.changed", when=at(6), customerId=c, segment="S"),
        ]
    await ingest_ok(db, org, *events)


@pytest.mark.parametrize("compiled", [False, True], ids=["python-executor", "compiled"])
async def test_every_list_field_is_batched(db: Database, org: OrgInfo, compiled: bool) -> None:
    query, lists = everything_query()
    # The guard must actually reach the nested lists (a broken generator would prove nothing).
    for path in (
        "points.activity",
        "points.redemptions.edges.node.breakup",
        "coupons.issued",
        "interactions",
        "leads",
        "points.expirySchedule",
    ):
        assert any(p.startswith(path) for p in lists), path
    declared = [tab.path for tab in HISTORY_TABS]
    for path in declared:
        assert path in lists, f"the guard does not reach the declared tab {path}"
    await seed(db, org, f"few{compiled:d}", 2)
    await seed(db, org, f"many{compiled:d}", 8)
    key = await create_api_key(db, org, list(SCOPES))
    app = create_app(Settings(compiled_reads=compiled), db=db, background=False)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {key}"},
    )

    async def gql(document: str, **variables: Any) -> dict[str, Any]:
        response = await client.post("/graphql", json={"query": document, "variables": variables})
        assert response.status_code == 200, response.text
        return dict(response.json())

    await gql("{ me { scopes } }")
    counts = {}
    for prefix in (f"few{compiled:d}", f"many{compiled:d}"):
        with StatementCounter(db) as counter:
            result = await gql(query, s=f"{prefix} member")
        assert "errors" not in result, result["errors"][:2]
        members = result["data"]["customers"]["edges"]
        assert len(members) == (2 if prefix.startswith("few") else 8)
        for path in declared:  # every member has rows in each declared tab: seed() adds them
            assert all(_at(m["node"], path)["edges"] for m in members), path
        counts[prefix] = counter.count
    await client.aclose()
    few, many = counts.values()
    assert few == many, counts
    if compiled:
        assert many == 1, counts
    else:
        assert many >= 15, counts  # one per list field (sanity: the lists were queried)
