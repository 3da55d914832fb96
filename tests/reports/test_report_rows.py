"""The All Interactions report's rows: grouping per local day, and every column's rule."""

from __future__ import annotations

import uuid
from typing import Any

from member360.auth.keys import create_api_key
from member360.db import Database
from member360.orgs.service import OrgInfo, create_org
from tests.factories import at, earn, event, ingest_ok, make_customer, purchase, return_
from tests.graphql.conftest import GraphQLCall
from tests.reports.dataset import REPORT, day, seed, window


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in result, result
    return [edge["node"] for edge in result["data"]["interactionReport"]["edges"]]


def only(found: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    hits = [r for r in found if all(r[k] == v for k, v in match.items())]
    assert len(hits) == 1, (match, found)
    return hits[0]


async def test_activities_of_one_order_on_one_local_day_make_one_row(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    # given a purchase and an extra earn on order O1 the same day, O1 again the next day,
    # and another order the same day
    await ingest_ok(
        db,
        org,
        make_customer("alice"),
        purchase("alice", "O1", 500.0, 50, when=at(1)),
        earn("alice", 20, when=at(1, 3), orderId="O1"),
        purchase("alice", "O2", 100.0, 10, when=at(1, 4)),
        earn("alice", 5, when=at(2), orderId="O1"),
    )
    # when
    found = rows(await gql(REPORT, filter=window()))
    # then one row per (day, member, action, order): the same day's O1 points are summed
    assert [(r["date"], r["orderId"], r["points"]) for r in found] == [
        (day(2), "O1", 5),
        (day(1), "O2", 10),
        (day(1), "O1", 70),
    ]


async def test_custom_id_and_action_split_rows_a_blank_order_id_does_not(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await ingest_ok(
        db,
        org,
        event("campaign.defined", campaignId="C1", name="Festive"),
        make_customer("alice"),
        earn("alice", 1, when=at(1)),
        earn("alice", 2, when=at(1, 1)),
        earn("alice", 4, when=at(1, 2), customId="K1"),
        earn("alice", 8, when=at(1, 3), orderId=""),
        earn("alice", 16, when=at(1, 4), actionId=1008, campaignId="C1"),
    )
    found = rows(await gql(REPORT, filter=window()))
    # a blank order id is imported as none, so it joins the no-order row (1 + 2 + 8)
    assert sorted(
        ((r["actionId"], repr(r["orderId"]), repr(r["customId"])), r["points"]) for r in found
    ) == [
        ((100, "None", "'K1'"), 4),
        ((100, "None", "None"), 11),
        ((1008, "None", "None"), 16),
    ]


async def test_2000_utc_is_the_next_local_day_at_utc_plus_0530(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    # given an org in Asia/Kolkata (UTC+05:30), an earn at 18:29 UTC and one at 20:00 UTC
    assert org.time_zone == "Asia/Kolkata"
    await ingest_ok(
        db,
        org,
        make_customer("alice"),
        earn("alice", 1, when=at(1, 8.48)),  # 18:29 UTC = 23:59 local, same day
        earn("alice", 2, when=at(1, 10)),  # 20:00 UTC = 01:30 local, next day
    )
    # when the report covers only the next local day
    next_day = rows(await gql(REPORT, filter=window(2, 2)))
    same_day = rows(await gql(REPORT, filter=window(1, 1)))
    # then the 20:00 UTC earn is on it, and the 18:29 UTC one stays on its own day
    assert [(r["date"], r["points"]) for r in next_day] == [(day(2), 2)]
    assert [(r["date"], r["points"]) for r in same_day] == [(day(1), 1)]


async def test_every_column(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await seed(db, org)
    found = rows(await gql(REPORT, filter=window()))

    purchase_row = only(found, userId="alice", orderId="O1")
    assert purchase_row == {
        "date": day(1),
        "name": "Alice Rao",
        "userId": "alice",
        "email": "alice@example.com",
        "actionId": 100,
        "actionName": "Purchase",
        "orderId": "O1",
        "customId": None,
        "coupon": None,
        "points": 120,
        "groupPoints": None,  # the org does not use hierarchy
        "pointsExpirationDate": day(366),  # the default validity, 365 days from the earn
        "sectionId": None,
        "sectionName": None,
        "surveyId": None,
        "surveyName": None,
        "reason": None,
        "source": "POS",
        "optInStatus": True,
        "senderId": None,
        "receiverId": None,
        "storeId": "S1",
        "storeName": "Bandra West",
        "storeRegion": "Mumbai",
        "storeType": "Mall",
        "phoneNumber": "+919811100001",
        "userRole": "STAFF",
    }
    # campaign benefit: reason is the campaign; its return is "{campaign} - Returned"
    benefit = only(found, userId="alice", actionId=1008, date=day(2))
    assert (benefit["reason"], benefit["points"], benefit["orderId"]) == (
        "Diwali Bonanza",
        30,
        "O3",
    )
    reversal = only(found, userId="alice", actionId=1008, date=day(3))
    assert (reversal["reason"], reversal["points"], reversal["storeId"]) == (
        "Diwali Bonanza - Returned",
        -30,
        "S1",
    )
    assert reversal["pointsExpirationDate"] is None  # a debit credits no lot
    # action-series benefit: the reward in coupon, the series in reason
    series = only(found, userId="bob", date=day(2), actionId=100)
    assert (series["coupon"], series["reason"], series["points"]) == (
        "Free Coffee",
        "Coffee Club",
        25,
    )
    # transfer: the sender's row names the receiver, the receiver's row names the sender
    sent = only(found, userId="alice", actionId=176)
    received = only(found, userId="bob", actionId=176)
    assert (sent["senderId"], sent["receiverId"], sent["points"]) == (None, "bob", -10)
    assert (received["senderId"], received["receiverId"], received["points"]) == ("alice", None, 10)
    assert received["actionName"] == "Point Transfer"
    # a redemption and a custom action
    assert only(found, userId="carol", actionId=102)["points"] == -5
    custom = only(found, userId="carol", actionId=201)
    assert (custom["actionName"], custom["customId"], custom["source"]) == (
        "Birthday Bonus",
        "K-1",
        "APP",
    )
    # the current opt-in status
    assert only(found, userId="dave", orderId="O5")["optInStatus"] is False


async def test_points_expiration_date_is_the_latest_credit_expiry_in_the_org_time_zone(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("alice"),
        # 20:00 UTC is the next local day
        earn("alice", 5, when=at(1), orderId="O1", expiresAt=at(30, 10)),
        earn("alice", 5, when=at(1, 1), orderId="O1", expiresAt=at(20)),
    )
    # (the lots expire later, on days 20 and 31: rows of their own)
    (row,) = rows(await gql(REPORT, filter=window(1, 1)))
    assert row["pointsExpirationDate"] == day(31)


async def test_member_columns_are_the_current_ones(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await ingest_ok(db, org, make_customer("alice", name="Alice Rao"), earn("alice", 5, when=at(1)))
    await ingest_ok(
        db,
        org,
        event(
            "customer.updated",
            when=at(2),
            customerId="alice",
            name="Alice Menon",
            email="alice.menon@example.com",
            mobile="+919999999999",
            optedIn=False,
            userRole="VIP",
        ),
    )
    (row,) = rows(await gql(REPORT, filter=window()))
    assert (
        row["name"],
        row["email"],
        row["phoneNumber"],
        row["optInStatus"],
        row["userRole"],
    ) == ("Alice Menon", "alice.menon@example.com", "+919999999999", False, "VIP")


async def test_a_merged_members_rows_show_the_survivor(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("keep", name="Kept Member"),
        make_customer("gone", name="Gone Member"),
        earn("gone", 7, when=at(1)),
        event(
            "customer.merged",
            when=at(2),
            survivorId="keep",
            mergedId="gone",
            source="CRM",
            account="x",
        ),
    )
    (row,) = rows(await gql(REPORT, filter=window()))
    assert (row["userId"], row["name"], row["points"]) == ("keep", "Kept Member", 7)


async def test_survey_and_section_names(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await ingest_ok(
        db,
        org,
        event(
            "survey.defined",
            surveyId="SV1",
            name="Store Feedback",
            sections=[{"sectionId": "SEC1", "name": "Checkout"}],
        ),
        make_customer("alice"),
        earn("alice", 10, when=at(1), actionId=172, surveyId="SV1"),
        earn("alice", 3, when=at(1, 1), actionId=173, surveyId="SV1", sectionId="SEC1"),
    )
    found = rows(await gql(REPORT, filter=window()))
    survey = only(found, actionId=172)
    section = only(found, actionId=173)
    assert (survey["surveyId"], survey["surveyName"], survey["sectionName"]) == (
        "SV1",
        "Store Feedback",
        None,
    )
    assert (section["sectionId"], section["sectionName"], section["surveyName"]) == (
        "SEC1",
        "Checkout",
        "Store Feedback",
    )
    assert (survey["actionName"], section["actionName"]) == (
        "Survey Completed",
        "Section Completed",
    )


async def test_group_points_are_summed_when_the_org_uses_hierarchy(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    grouped = await create_org(
        db, f"org-{uuid.uuid4().hex[:10]}", name="Groups", time_zone="Asia/Kolkata", hierarchy=True
    )
    key = await create_api_key(db, grouped, ["reports:read", "pii:read"])
    for target in (org, grouped):
        await ingest_ok(
            db,
            target,
            make_customer("alice", groupId="G1"),
            purchase("alice", "O1", 100.0, 10, when=at(1), groupPoints=4),
            earn("alice", 5, when=at(1, 1), orderId="O1", groupPoints=2),
        )
    (with_groups,) = rows(await gql(REPORT, key=key, filter=window()))
    (without,) = rows(await gql(REPORT, filter=window()))
    assert (with_groups["points"], with_groups["groupPoints"]) == (15, 6)
    assert (without["points"], without["groupPoints"]) == (15, None)


async def test_a_return_reverses_into_rows_of_its_own_day(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("alice"),
        purchase("alice", "O1", 100.0, 10, when=at(1)),
        return_("alice", "O1", 100.0, when=at(2), storeId="S9", source="POS"),
    )
    found = rows(await gql(REPORT, filter=window()))
    assert [
        (r["date"], r["actionId"], r["actionName"], r["points"], r["storeId"]) for r in found
    ] == [
        (day(2), 101, "Return", -10, "S9"),
        (day(1), 100, "Purchase", 10, "S1"),
    ]


async def test_rows_are_visible_as_soon_as_ingest_events_returns(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    result = await gql(
        "mutation($events: [JSON!]!) { ingestEvents(events: $events) { applied errors { message } } }",
        events=[make_customer("alice"), earn("alice", 9, when=at(1))],
    )
    assert result["data"]["ingestEvents"] == {"applied": 2, "errors": []}
    (row,) = rows(await gql(REPORT, filter=window()))
    assert (row["userId"], row["points"]) == ("alice", 9)


async def test_another_organizations_rows_never_show(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    other = await create_org(
        db, f"org-{uuid.uuid4().hex[:10]}", name="Other", time_zone="Asia/Kolkata"
    )
    await ingest_ok(db, other, make_customer("alice"), earn("alice", 9, when=at(1), source="X"))
    await ingest_ok(db, org, make_customer("bob"), earn("bob", 3, when=at(1), source="Y"))
    found = rows(await gql(REPORT, filter=window()))
    assert [(r["userId"], r["points"]) for r in found] == [("bob", 3)]
    everything = rows(await gql(REPORT, filter=window(contentText="alice")))
    assert everything == []
    sources = await gql("{ organization { sources } }")
    assert sources["data"]["organization"]["sources"] == ["Y"]


async def test_organization_lists_its_distinct_sources(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await seed(db, org)
    result = await gql("{ organization { sources actions { id name } } }")
    assert result["data"]["organization"]["sources"] == ["APP", "ECOM", "POS"]
    assert {"id": 201, "name": "Birthday Bonus"} in result["data"]["organization"]["actions"]


async def test_filters_find_rows_on_local_days_far_from_utc(db: Database, gql: GraphQLCall) -> None:
    # A member filter also bounds the instants (a day either side of the UTC days): rows
    # at the edges of local days in UTC+14 and UTC-11 must still be found.
    for zone, hours, shift in (("Pacific/Kiritimati", 10.5, 1), ("Pacific/Pago_Pago", -9.5, -1)):
        far = await create_org(db, f"org-{uuid.uuid4().hex[:10]}", name=zone, time_zone=zone)
        key = await create_api_key(db, far, ["reports:read", "pii:read"])
        await ingest_ok(
            db, far, make_customer("alice", name="Alice Rao"), earn("alice", 3, when=at(1, hours))
        )
        local = day(1 + shift)
        for filters in ({"name": "rao"}, {"email": "alice@"}, {"contentText": "alice"}, {}):
            found = rows(await gql(REPORT, key=key, filter={"from": local, "to": local, **filters}))
            assert [(r["date"], r["points"]) for r in found] == [(local, 3)], (zone, filters)
