"""The customer page through GraphQL: every tab, newest first, in the org's time zone."""

from __future__ import annotations

import datetime as dt

import httpx

from member360.auth.keys import create_api_key
from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.factories import (
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
from tests.graphql.conftest import GraphQLCall

CUSTOMER_PAGE = """
query Page($customerId: String!) {
  customer(customerId: $customerId) {
    id customerId name email mobile externalId optedIn tier pointsBalance userRole groupId enrolledAt
    points {
      redemptions(first: 20) { edges { node { redeemedAt pointsRedeemed pointsReversed orderId
        breakup { lotEarnedAt points expiresAt reason } } } }
      expirySchedule { expiresOn points }
      expired(first: 20) { edges { node { expiredAt points } } }
      tierHistory(first: 20) { edges { node { changedAt fromTier toTier reason } } }
      promotions(first: 20) { edges { node { actionId points reason } } }
      loyaltyTracker(first: 20) { edges { node { actionId points } } }
      transfers(first: 20) { edges { node { transferType transferId fromCustomerId toCustomerId program points } } }
      activity(first: 20) { edges { cursor node { occurredAt actionId actionName points runningBalance } }
        pageInfo { hasNextPage endCursor } }
    }
    coupons {
      issued(first: 20) { edges { node { couponId code status resendCount } } }
      redemptions(first: 20) { edges { node { couponId orderId redeemedAt } } }
    }
    transactions(first: 20) { edges { node { type orderId amount pointsEarned } } }
    interactions(first: 20) { edges { node { messageId channel status subject } } }
    behavioralEvents(first: 20) { edges { node { trackingId event tillCode attributes } } }
    leads(first: 20) { edges { node { leadId status subStatus extendedFields } } }
    segmentHistory(first: 20) { edges { node { segment fromPartition toPartition } } }
    identifierHistory(first: 20) { edges { node { identifierType value actionType source } } }
  }
}
"""


def nodes(connection: dict) -> list[dict]:
    return [edge["node"] for edge in connection["edges"]]


async def seed_full_history(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        event("campaign.defined", when=at(0), campaignId="C1", name="Festive Bonus"),
        make_customer("alice", when=at(0), name="Alice Rao", tier="Silver"),
        make_customer("bob", when=at(0), name="Bob Iyer"),
        purchase("alice", "O1", 1000.0, 100, when=at(1)),
        earn("alice", 30, when=at(2), actionId=1008, campaignId="C1"),
        earn("alice", 7, when=at(3), category="TRACKER", trackerValue=3.5),
        redeem("alice", 50, when=at(4), orderId="O2"),
        transfer("alice", "bob", 10, when=at(5)),
        event(
            "tier.changed",
            when=at(6),
            customerId="alice",
            fromTier="Silver",
            toTier="Gold",
            reason="Spend",
        ),
        event(
            "coupon.issued",
            when=at(7),
            couponId="CP1",
            code="SAVE-1",
            customerId="alice",
            series="Welcome",
            expiresAt=at(160),
        ),
        event(
            "coupon.issued",
            when=at(7),
            couponId="CP2",
            code="SAVE-2",
            customerId="alice",
            series="Welcome",
            expiresAt=at(160),
        ),
        event("coupon.redeemed", when=at(8), couponId="CP2", orderId="O3", storeId="S1"),
        event(
            "communication.sent",
            when=at(9),
            messageId="M1",
            customerId="alice",
            channel="SMS",
            subject="Hi",
            preview="Hello",
            status="SENT",
        ),
        event(
            "communication.statusChanged", when=at(9, hours=1), messageId="M1", status="DELIVERED"
        ),
        event(
            "event.tracked",
            when=at(10),
            customerId="alice",
            trackingId="TRK1",
            event="App Open",
            source="APP",
            tillCode="T-9",
            attributes={"tillCode": "T-1", "screen": "home"},
        ),
        event(
            "lead.created",
            when=at(11),
            leadId="L1",
            customerId="alice",
            leadType="Upgrade",
            leadFor="Gold Card",
            status="OPEN",
            extendedFields={"budget": 10},
        ),
        event(
            "lead.updated",
            when=at(12),
            leadId="L1",
            customerId="alice",
            status="WON",
            subStatus="Signed",
        ),
        event(
            "segment.changed",
            when=at(13),
            customerId="alice",
            segment="Value",
            fromPartition="Low",
            toPartition="High",
        ),
        event(
            "customer.identifierChanged",
            when=at(14),
            customerId="alice",
            identifierType="EXTERNAL_ID",
            value="EXT-1",
            source="CRM",
            account="ops",
        ),
        return_("alice", "O1", 500.0, when=at(15)),
        earn("alice", 5, when=at(-400), expiresAt=at(-300)),  # long expired
    )


async def test_customer_page_shows_every_tab(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await seed_full_history(db, org)
    data = (await gql(CUSTOMER_PAGE, customerId="alice"))["data"]["customer"]
    assert data["name"] == "Alice Rao" and data["tier"] == "Gold" and data["externalId"] == "EXT-1"
    points = data["points"]
    activity = nodes(points["activity"])
    # Newest first, and the running balance is the balance right after each entry.
    times = [a["occurredAt"] for a in activity]
    assert times == sorted(times, reverse=True)
    assert activity[0]["runningBalance"] == data["pointsBalance"]
    for newer, older in zip(activity, activity[1:], strict=False):
        assert newer["runningBalance"] == older["runningBalance"] + newer["points"]
    assert activity[0]["occurredAt"].endswith("+05:30")
    assert {a["actionName"] for a in activity} >= {
        "Purchase",
        "Campaign Benefit",
        "Redemption",
        "Point Transfer",
        "Return",
        "Points Expired",
    }
    redemption = nodes(points["redemptions"])[0]
    assert redemption["pointsRedeemed"] == 50
    assert sum(part["points"] for part in redemption["breakup"]) == 50
    assert nodes(points["expired"]) == [
        {"expiredAt": points["expired"]["edges"][0]["node"]["expiredAt"], "points": 5}
    ]
    assert sum(b["points"] for b in points["expirySchedule"]) == data["pointsBalance"]
    assert [t["toTier"] for t in nodes(points["tierHistory"])] == ["Gold", "Silver"]
    assert nodes(points["promotions"]) == [
        {"actionId": 1008, "points": 30, "reason": "Festive Bonus"}
    ]
    assert nodes(points["loyaltyTracker"]) == [{"actionId": 100, "points": 7}]
    transfer_row = nodes(points["transfers"])[0]
    assert (
        transfer_row["transferType"],
        transfer_row["fromCustomerId"],
        transfer_row["toCustomerId"],
        transfer_row["points"],
    ) == ("DEDUCTION", "alice", "bob", 10)
    coupons = data["coupons"]
    assert {c["couponId"]: c["status"] for c in nodes(coupons["issued"])} == {
        "CP1": "ACTIVE",
        "CP2": "REDEEMED",
    }
    assert [c["couponId"] for c in nodes(coupons["redemptions"])] == ["CP2"]
    assert [(t["type"], t["orderId"]) for t in nodes(data["transactions"])] == [
        ("RETURN", "O1"),
        ("PURCHASE", "O1"),
    ]
    assert nodes(data["interactions"])[0] == {
        "messageId": "M1",
        "channel": "SMS",
        "status": "DELIVERED",
        "subject": "Hi",
    }
    assert nodes(data["behavioralEvents"])[0]["tillCode"] == "T-1"  # the attribute wins
    assert nodes(data["leads"])[0] == {
        "leadId": "L1",
        "status": "WON",
        "subStatus": "Signed",
        "extendedFields": {"budget": 10},
    }
    assert nodes(data["segmentHistory"]) == [
        {"segment": "Value", "fromPartition": "Low", "toPartition": "High"}
    ]
    idents = nodes(data["identifierHistory"])
    assert idents[0] == {
        "identifierType": "EXTERNAL_ID",
        "value": "EXT-1",
        "actionType": "ADD",
        "source": "CRM",
    }


async def test_paging_walks_every_row_once(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await ingest_ok(
        db, org, make_customer("c1", when=at(0)), *[earn("c1", i + 1, when=at(1)) for i in range(7)]
    )
    query = """query($after: String) { customer(customerId: "c1") { points { activity(first: 3, after: $after) {
      edges { cursor node { points } } pageInfo { hasNextPage endCursor } } } } }"""
    seen, after = [], None
    while True:
        page = (await gql(query, after=after))["data"]["customer"]["points"]["activity"]
        seen += [e["node"]["points"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Same instant: the later-applied event comes first.
    assert seen == [7, 6, 5, 4, 3, 2, 1]


async def test_customer_by_every_identifier(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0), email="Asha@Example.com", mobile="+919800000001"),
        event(
            "customer.identifierChanged",
            when=at(1),
            customerId="c1",
            identifierType="EXTERNAL_ID",
            value="X-1",
        ),
    )
    q = "query($a: String, $b: String, $c: String, $d: String, $e: ID) { customer(customerId: $a, externalId: $b, mobile: $c, email: $d, id: $e) { id customerId } }"
    by_cid = (await gql(q, a="c1"))["data"]["customer"]
    for variables in (
        {"b": "X-1"},
        {"c": "+919800000001"},
        {"d": "asha@example.COM"},
        {"e": by_cid["id"]},
    ):
        assert (await gql(q, **variables))["data"]["customer"] == by_cid
    assert (await gql(q, a="nobody"))["data"]["customer"] is None
    both = await gql(q, a="c1", b="X-1")
    assert both["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_merged_member_resolves_to_survivor(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("keep", when=at(0)),
        make_customer("gone", when=at(0), mobile="+91777"),
        earn("gone", 9, when=at(1)),
        event(
            "customer.merged",
            when=at(2),
            survivorId="keep",
            mergedId="gone",
            source="CRM",
            account="ops",
        ),
    )
    q = "query($m: String) { customer(mobile: $m) { customerId pointsBalance identifierHistory(first: 5) { edges { node { actionType value } } } } }"
    found = (await gql(q, m="+91777"))["data"]["customer"]
    assert found["customerId"] == "keep" and found["pointsBalance"] == 9
    assert {"actionType": "COMBINE", "value": "gone"} in [
        e["node"] for e in found["identifierHistory"]["edges"]
    ]


async def test_search_by_name_and_identifiers(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0), name="Priya Sharma", mobile="+919811111111"),
        make_customer("c2", when=at(0), name="Rahul Sharma"),
        make_customer("c3", when=at(0), name="John 100%"),
    )
    q = "query($s: String!, $f: Int) { customers(search: $s, first: $f) { edges { node { customerId name } } pageInfo { hasNextPage } } }"
    result = (await gql(q, s="sharma", f=1))["data"]["customers"]
    assert [e["node"]["name"] for e in result["edges"]] == ["Priya Sharma"] and result["pageInfo"][
        "hasNextPage"
    ]
    assert [
        e["node"]["customerId"]
        for e in (await gql(q, s="+919811111111"))["data"]["customers"]["edges"]
    ] == ["c1"]
    assert [
        e["node"]["customerId"] for e in (await gql(q, s="0%"))["data"]["customers"]["edges"]
    ] == ["c3"]


async def test_missing_or_wrong_credentials_get_401(http: httpx.AsyncClient) -> None:
    body = {"query": "{ me { scopes } }"}
    assert (await http.post("/graphql", json=body)).status_code == 401
    assert (
        await http.post("/graphql", json=body, headers={"Authorization": "Bearer m360_wrong"})
    ).status_code == 401
    assert (
        await http.post("/graphql", json=body, headers={"Authorization": "Basic abc"})
    ).status_code == 401


async def test_missing_scope_is_forbidden(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    key = await create_api_key(db, org, ["events:write"])
    result = await gql('{ customer(customerId: "x") { name } }', key=key)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert result["data"] == {"customer": None}


async def test_personal_data_needs_pii_scope(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await ingest_ok(db, org, make_customer("c1", when=at(0), email="p@example.com"))
    key = await create_api_key(db, org, ["customers:read"])
    q = '{ customer(customerId: "c1") { email mobile identifierHistory(first: 5) { edges { node { identifierType value } } } } }'
    result = await gql(q, key=key)
    found = result["data"]["customer"]
    assert found["email"] is None and found["mobile"] is None
    assert {e["node"]["value"] for e in found["identifierHistory"]["edges"]} == {"[withheld]"}
    # Each withheld value is a FORBIDDEN error at its path (tests/security covers every field).
    refused = {tuple(e["path"]) for e in result["errors"]}
    assert ("customer", "email") in refused and ("customer", "mobile") in refused
    assert {e["extensions"]["code"] for e in result["errors"]} == {"FORBIDDEN"}


async def test_ingest_events_mutation(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    m = "mutation($events: [JSON!]!) { ingestEvents(events: $events) { applied duplicates errors { index field message eventId } } }"
    events = [
        make_customer("c1", when=at(0)),
        earn("c1", 5, when=at(1)),
        earn("c1", 5, when=at(1), actionId=31337),
    ]
    result = (await gql(m, events=events))["data"]["ingestEvents"]
    assert result["applied"] == 2
    assert result["errors"] == [
        {
            "index": 2,
            "field": "actionId",
            "message": "action 31337 is not defined",
            "eventId": events[2]["id"],
        }
    ]
    again = (await gql(m, events=events[:2]))["data"]["ingestEvents"]
    assert (again["applied"], again["duplicates"], again["errors"]) == (0, 2, [])


async def test_dates_follow_the_org_time_zone(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    when = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=when.isoformat()),
        earn("c1", 5, when=when.isoformat(), expiresAt=(when + dt.timedelta(days=400)).isoformat()),
    )
    q = '{ customer(customerId: "c1") { points { activity(first: 1) { edges { node { occurredAt } } } expirySchedule { expiresOn } } } }'
    data = (await gql(q))["data"]["customer"]["points"]
    assert data["activity"]["edges"][0]["node"]["occurredAt"] == "2026-03-02T01:30:00+05:30"
    assert data["expirySchedule"] == [{"expiresOn": "2027-04-06"}]
