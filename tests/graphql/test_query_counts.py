"""No N+1: the statements for a page of members do not grow with the number of members."""

from __future__ import annotations

from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.factories import StatementCounter, at, earn, event, ingest_ok, make_customer, redeem
from tests.graphql.conftest import GraphQLCall

MEMBERS_WITH_HISTORY = """
query($search: String!) {
  customers(search: $search, first: 50) {
    edges { node {
      customerId pointsBalance
      points {
        activity(first: 10) { edges { node { points runningBalance actionName } } }
        redemptions(first: 10) { edges { node { pointsRedeemed breakup { points reason } } } }
        expirySchedule { expiresOn points }
      }
      coupons { issued(first: 10) { edges { node { couponId status } } } }
      transactions(first: 10) { edges { node { orderId } } }
      interactions(first: 10) { edges { node { messageId } } }
      identifierHistory(first: 10) { edges { node { value } } }
    } }
  }
}
"""


async def seed(db: Database, org: OrgInfo, prefix: str, count: int) -> None:
    events = []
    for i in range(count):
        cid = f"{prefix}{i}"
        events += [
            make_customer(cid, when=at(0), name=f"{prefix.title()} Member {i}"),
            earn(cid, 50, when=at(1)),
            redeem(cid, 20, when=at(2)),
            event(
                "coupon.issued",
                when=at(3),
                couponId=f"{cid}-cp",
                code="X",
                customerId=cid,
                expiresAt=at(90),
            ),
            event(
                "communication.sent",
                when=at(3),
                messageId=f"{cid}-m",
                customerId=cid,
                channel="EMAIL",
                status="SENT",
            ),
            event(
                "transaction.purchased",
                when=at(4),
                customerId=cid,
                orderId=f"{cid}-o",
                amount=10.0,
                pointsEarned=1,
            ),
        ]
    await ingest_ok(db, org, *events)


async def test_statement_count_is_flat_from_5_to_50_members(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    await seed(db, org, "few", 5)
    await seed(db, org, "many", 50)
    await gql("{ me { scopes } }")  # the key lookup is cached after the first request
    counts = {}
    for prefix, expected in (("few", 5), ("many", 50)):
        with StatementCounter(db) as counter:
            result = await gql(MEMBERS_WITH_HISTORY, search=prefix)
        assert "errors" not in result, result
        assert len(result["data"]["customers"]["edges"]) == expected
        assert all(
            e["node"]["points"]["redemptions"]["edges"][0]["node"]["breakup"]
            for e in result["data"]["customers"]["edges"]
        )
        counts[prefix] = counter.count
    assert counts["few"] == counts["many"], counts
    # The compiled reads answer the page with one statement (the Python executor's count, one
    # per nested list, is tests/graphql/test_n_plus_one_guard.py's), which on PostgreSQL also
    # names the organization for row-level security (no transaction of its own).
    assert counts["many"] == 1, counts
