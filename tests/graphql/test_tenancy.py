"""Another organization's key sees nothing of this one: not by id, not through nested fields."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from member360.auth.keys import SCOPES, create_api_key
from member360.db import Database, TenantNotBound, table
from member360.orgs.service import OrgInfo, create_org
from tests.graphql.conftest import GraphQLCall
from tests.graphql.test_customer_history import CUSTOMER_PAGE, seed_full_history


async def test_other_org_key_sees_nothing(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await seed_full_history(db, org)
    mine = (await gql(CUSTOMER_PAGE, customerId="alice"))["data"]["customer"]
    other = await create_org(db, f"other-{uuid.uuid4().hex[:8]}", name="Other", time_zone="UTC")
    other_key = await create_api_key(db, other, list(SCOPES))
    q = "query($a: String, $b: String, $c: String, $d: String, $e: ID) { customer(customerId: $a, externalId: $b, mobile: $c, email: $d, id: $e) { customerId } }"
    for variables in (
        {"a": "alice"},
        {"b": "EXT-1"},
        {"c": mine["mobile"]},
        {"d": mine["email"]},
        {"e": mine["id"]},
    ):
        assert (await gql(q, key=other_key, **variables))["data"]["customer"] is None
    search = '{ customers(search: "Alice") { edges { node { customerId } } } }'
    assert (await gql(search, key=other_key))["data"]["customers"]["edges"] == []
    # Even enrolling the same customerId in the other org shows only that org's (empty) history.
    from tests.factories import ingest_ok, make_customer

    await ingest_ok(db, other, make_customer("alice"))
    theirs = (await gql(CUSTOMER_PAGE, key=other_key, customerId="alice"))["data"]["customer"]
    assert theirs["id"] != mine["id"]
    for tab in (
        "activity",
        "redemptions",
        "expired",
        "tierHistory",
        "promotions",
        "loyaltyTracker",
        "transfers",
    ):
        assert theirs["points"][tab]["edges"] == [], tab
    assert theirs["points"]["expirySchedule"] == []
    for tab in ("transactions", "interactions", "behavioralEvents", "leads", "segmentHistory"):
        assert theirs[tab]["edges"] == [], tab
    assert (
        theirs["coupons"]["issued"]["edges"] == []
        and theirs["coupons"]["redemptions"]["edges"] == []
    )
    assert all(
        e["node"]["actionType"] == "ADD" and e["node"]["source"] == "ENROLLMENT"
        for e in theirs["identifierHistory"]["edges"]
    )


def _page_for(argument: str, type_: str) -> str:
    """CUSTOMER_PAGE (every Customer field, every tab) looking the member up by `argument`."""
    header = "query Page($customerId: String!) {\n  customer(customerId: $customerId) {"
    assert header in CUSTOMER_PAGE
    return CUSTOMER_PAGE.replace(
        header, f"query Page($v: {type_}!) {{\n  customer({argument}: $v) {{"
    )


def test_the_customer_page_selects_every_customer_field() -> None:
    from graphql import parse

    from member360.graphql.schema import schema

    document = parse(CUSTOMER_PAGE)
    (customer,) = document.definitions[0].selection_set.selections  # type: ignore[attr-defined]
    selected = {f.name.value for f in customer.selection_set.selections}
    assert selected == set(schema._schema.type_map["Customer"].fields)  # type: ignore[attr-defined]


async def test_other_org_key_reaches_nothing_through_any_customer_field(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await seed_full_history(db, org)
    mine = (await gql(CUSTOMER_PAGE, customerId="alice"))["data"]["customer"]
    other = await create_org(db, f"other-{uuid.uuid4().hex[:8]}", name="Other", time_zone="UTC")
    other_key = await create_api_key(db, other, list(SCOPES))
    for argument, type_, value in (
        ("id", "ID", mine["id"]),
        ("customerId", "String", "alice"),
        ("externalId", "String", "EXT-1"),
        ("mobile", "String", mine["mobile"]),
        ("email", "String", mine["email"]),
    ):
        result = await gql(_page_for(argument, type_), key=other_key, v=value)
        assert result == {"data": {"customer": None}}, argument


async def test_other_org_report_shows_none_of_this_orgs_rows(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await seed_full_history(db, org)
    mine = (await gql(CUSTOMER_PAGE, customerId="alice"))["data"]["customer"]
    from tests.factories import BASE

    window = {
        "from": BASE.date().isoformat(),
        "to": (BASE.date() + dt.timedelta(days=300)).isoformat(),
    }
    report = """query($f: InteractionReportFilter!) { interactionReport(filter: $f, first: 500) {
      totalCount totals { points } edges { node { userId email } } } }"""
    assert (await gql(report, f=window))["data"]["interactionReport"]["totalCount"] > 0
    other = await create_org(db, f"other-{uuid.uuid4().hex[:8]}", name="Other", time_zone="UTC")
    other_key = await create_api_key(db, other, list(SCOPES))
    for f in (
        window,
        {**window, "name": "Alice"},
        {**window, "email": mine["email"]},
        {**window, "contentText": "alice"},
        {**window, "orderId": "O2"},
    ):
        found = (await gql(report, key=other_key, f=f))["data"]["interactionReport"]
        assert found == {"totalCount": 0, "totals": {"points": 0}, "edges": []}, f


async def test_query_on_tenant_table_without_org_fails_before_sql(db: Database) -> None:
    from tests.factories import StatementCounter

    with StatementCounter(db) as counter:
        async with db.session(None) as session:
            with pytest.raises(TenantNotBound, match="customers"):
                await session.execute(select(table("customers")))
    assert counter.count == 0
