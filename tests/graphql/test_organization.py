from __future__ import annotations

from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.factories import at, event, ingest_ok
from tests.graphql.conftest import GraphQLCall


async def test_me_and_organization(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    await ingest_ok(
        db,
        org,
        event("action.defined", when=at(0), actionId=200, name="Profile Completed"),
        event(
            "action.defined", when=at(0), actionId=100, name="Store Purchase"
        ),  # renames a built-in
        event(
            "store.upserted",
            when=at(0),
            storeId="S1",
            name="Indiranagar",
            region="South",
            storeType="Mall",
        ),
        event(
            "store.upserted",
            when=at(1),
            storeId="S1",
            name="Indiranagar 100ft Rd",
            region="South",
            storeType="Flagship",
        ),
        event("campaign.defined", when=at(0), campaignId="C1", name="Diwali"),
    )
    data = (
        await gql(
            "{ me { kind scopes organization { slug } } organization { name timeZone features { hierarchy surveys extendedAttributes } actions { id name } stores { storeId name region storeType } campaigns { campaignId name } } }"
        )
    )["data"]
    assert data["me"]["kind"] == "API_KEY" and "customers:read" in data["me"]["scopes"]
    assert data["me"]["organization"]["slug"] == org.slug
    organization = data["organization"]
    assert (organization["name"], organization["timeZone"]) == ("Acme Loyalty", "Asia/Kolkata")
    actions = {a["id"]: a["name"] for a in organization["actions"]}
    assert (
        actions[100] == "Store Purchase"
        and actions[200] == "Profile Completed"
        and actions[1008] == "Campaign Benefit"
    )
    assert set(actions) >= {100, 101, 102, 103, 172, 173, 176, 1008}
    assert organization["stores"] == [
        {
            "storeId": "S1",
            "name": "Indiranagar 100ft Rd",
            "region": "South",
            "storeType": "Flagship",
        }
    ]
    assert organization["campaigns"] == [{"campaignId": "C1", "name": "Diwali"}]
