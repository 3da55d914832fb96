"""A small program with every kind of report row, and the report computed from it in Python.

`expected_rows()` is an independent statement of the report's rules (grouping, filters,
order) over the raw tables, so each filter can be checked alone and in combination.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from member360.db import Database, table
from member360.orgs.service import OrgInfo
from tests.factories import (
    BASE,
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

REPORT = """
query Report($filter: InteractionReportFilter!, $first: Int, $after: String) {
  interactionReport(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      date name userId email actionId actionName orderId customId coupon points groupPoints
      pointsExpirationDate sectionId sectionName surveyId surveyName reason source optInStatus
      senderId receiverId storeId storeName storeRegion storeType phoneNumber userRole
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

KEYS = """
query Keys($filter: InteractionReportFilter!, $first: Int, $after: String) {
  interactionReport(filter: $filter, first: $first, after: $after) {
    edges { cursor node { date userId actionId orderId customId points } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

TOTALS = """
query Totals($filter: InteractionReportFilter!) {
  interactionReport(filter: $filter, first: 0) { totalCount totals { points } }
}
"""


def day(days: int) -> str:
    """The local (Asia/Kolkata) day of at(days): 10:00 UTC is 15:30 the same day."""
    return (BASE + dt.timedelta(days=days)).date().isoformat()


def window(first: int = 0, last: int = 10, **filters: Any) -> dict[str, Any]:
    return {"from": day(first), "to": day(last), **filters}


async def seed(db: Database, org: OrgInfo) -> None:
    """Four members over five local days: purchases, extra earns on the same order, campaign
    benefits and their return, an action-series reward, a transfer, a redemption, empty and
    missing order ids, and an event at 20:00 UTC (the next local day)."""
    await ingest_ok(
        db,
        org,
        event(
            "store.upserted", storeId="S1", name="Bandra West", region="Mumbai", storeType="Mall"
        ),
        event(
            "store.upserted",
            storeId="S2",
            name="Koramangala",
            region="Bengaluru",
            storeType="High Street",
        ),
        event("campaign.defined", campaignId="C1", name="Diwali Bonanza"),
        event("actionSeries.defined", actionSeriesId="AS1", name="Coffee Club"),
        event("action.defined", actionId=201, name="Birthday Bonus"),
        make_customer("alice", name="Alice Rao", userRole="STAFF", mobile="+919811100001"),
        make_customer("bob", name="Bob Iyer", mobile="+919811100002"),
        make_customer("carol", name="Carol Mehta", mobile="+919811100003"),
        make_customer("dave", name="Dave Patel", optedIn=False, mobile="+919811100004"),
        # day 1
        purchase("alice", "O1", 1000.0, 100, when=at(1), storeId="S1", source="POS"),
        earn("alice", 20, when=at(1, 1), orderId="O1", storeId="S1", source="POS"),
        purchase("bob", "O2", 400.0, 40, when=at(1, 2), storeId="S2", source="ECOM"),
        earn("carol", 15, when=at(1, 3), actionId=201, customId="K-1", source="APP"),
        # day 2
        purchase(
            "alice",
            "O3",
            300.0,
            30,
            when=at(2),
            actionId=1008,
            campaignId="C1",
            storeId="S2",
            source="APP",
        ),
        earn(
            "bob", 25, when=at(2, 1), actionSeriesId="AS1", rewardName="Free Coffee", source="APP"
        ),
        transfer("alice", "bob", 10, when=at(2, 2)),
        redeem("carol", 5, when=at(2, 3), orderId="O4", storeId="S1", source="POS"),
        # day 3
        return_("alice", "O3", 300.0, when=at(3), storeId="S1", source="POS"),
        purchase("dave", "O5", 600.0, 60, when=at(3, 1), storeId="S1", source="POS"),
        # A blank order id is no order id: these two share one row (same day, action, custom id).
        earn("dave", 5, when=at(3, 2), orderId="", customId="X"),
        earn("dave", 6, when=at(3, 3), customId="X"),
        earn("dave", 7, when=at(3, 4)),
        # 20:00 UTC on day 4 is 01:30 on day 5 in Asia/Kolkata
        earn("bob", 12, when=at(4, 10), storeId="S2", source="POS"),
    )


async def expected_rows(
    db: Database, org: OrgInfo, backend: str, filters: dict[str, Any], *, pii: bool = True
) -> list[tuple[Any, ...]]:
    """(date, userId, actionId, orderId, customId, points) of the report, in report order."""
    pa, c = table("points_activities"), table("customers")
    async with db.session(org.id) as s:
        activities = (await s.execute(select(pa).where(pa.c.org_id == org.id))).mappings().all()
        members = {r.id: r for r in (await s.execute(select(c).where(c.c.org_id == org.id))).all()}
        catalog: dict[str, dict[Any, Any]] = {}
        for name, key in (
            ("actions", "action_id"),
            ("stores", "store_id"),
            ("surveys", "survey_id"),
        ):
            t = table(name)
            rows = (await s.execute(select(t).where(t.c.org_id == org.id))).all()
            catalog[name] = {getattr(r, key): r for r in rows}
        t = table("survey_sections")
        rows = (await s.execute(select(t).where(t.c.org_id == org.id))).all()
        catalog["sections"] = {(r.survey_id, r.section_id): r for r in rows}

    def contains(value: Any, term: str) -> bool:
        return value is not None and term.lower() in str(value).lower()

    def shows(a: Any, term: str) -> bool:
        m = members[a["customer_id"]]
        texts = [a[k] for k in ("order_id", "custom_id", "reward_name", "reason", "source")]
        texts += [a["store_id"], a["survey_id"], a["section_id"]]
        texts += [m.customer_id, m.name, m.user_role] + ([m.email, m.mobile] if pii else [])
        if a["counterparty_id"] is not None:
            texts.append(members[a["counterparty_id"]].customer_id)
        action = catalog["actions"].get(a["action_id"])
        texts.append(action.name if action else None)
        store = catalog["stores"].get(a["store_id"])
        if store is not None:
            texts += [store.name, store.region, store.store_type]
        survey = catalog["surveys"].get(a["survey_id"])
        texts.append(survey.name if survey else None)
        section = catalog["sections"].get((a["survey_id"], a["section_id"]))
        texts.append(section.name if section else None)
        return any(contains(t, term) for t in texts)

    def matches(a: Any) -> bool:
        m = members[a["customer_id"]]
        f = filters
        checks = [
            day_of(f["from"]) <= a["local_date"] <= day_of(f["to"]),
            "name" not in f or contains(m.name, f["name"]),
            "email" not in f or contains(m.email, f["email"]),
            "orderId" not in f or a["order_id"] == f["orderId"],
            "actionId" not in f or a["action_id"] == f["actionId"],
            "storeId" not in f or a["store_id"] == f["storeId"],
            "coupon" not in f or a["reward_name"] == f["coupon"],
            "source" not in f or a["source"] == f["source"],
            "contentText" not in f or shows(a, f["contentText"]),
        ]
        return all(checks)

    groups: dict[tuple[Any, ...], int] = defaultdict(int)
    for a in activities:
        if matches(a):
            key = (a["local_date"], a["customer_id"], a["action_id"], a["order_id"], a["custom_id"])
            groups[key] += a["points"]
    nulls_first = backend == "postgresql"

    def text_order(v: str | None) -> tuple[int, str]:
        if v is None:
            return (1, "") if nulls_first else (0, "")
        return (0, v) if nulls_first else (1, v)

    ordered = sorted(
        groups, key=lambda k: (k[0], k[1], k[2], text_order(k[3]), text_order(k[4])), reverse=True
    )
    return [
        (k[0].isoformat(), members[k[1]].customer_id, k[2], k[3], k[4], groups[k]) for k in ordered
    ]


def day_of(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def as_keys(edges: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (n["date"], n["userId"], n["actionId"], n["orderId"], n["customId"], n["points"])
        for n in (e["node"] for e in edges)
    ]
