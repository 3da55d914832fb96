"""Property-based: random event streams near the cap (credits and group points of up to a whole
Int, backdated events, several credits per action and day, returns, transfers, merges). Whatever
the importer accepts, the API then answers every balance, running balance and report row without
an error: each fits GraphQL's Int. Refusals name their field, and the stored lifetime sums stay
those of the activities."""

from __future__ import annotations

import uuid
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from member360.db import Database
from member360.ingest.limits import INT_MAX, INT_MIN
from member360.orgs.service import OrgInfo, create_org
from tests.factories import BASE, at, event, ingest, ingest_ok, make_customer
from tests.ingest.api import QueryCall
from tests.ledger.credits import assert_lifetime_sums_kept, member_view

MEMBERS = ("m1", "m2", "m3")
HALF = INT_MAX // 2 + 1

REPORT = """query($f: InteractionReportFilter!) { interactionReport(filter: $f, first: 500) {
  edges { node { points groupPoints } } } }"""

# Mostly amounts whose sums cross the cap, some small ones to fill the gaps.
near_cap = st.one_of(
    st.sampled_from([INT_MAX, INT_MAX - 1, HALF, HALF - 1, 1]), st.integers(1, INT_MAX)
)
member = st.sampled_from(MEMBERS)
order = st.sampled_from(["O1", "O2"])
# Four days, any hour: events arrive out of occurredAt order and share report rows.
moment = st.tuples(st.integers(0, 3), st.integers(0, 23))

step = st.fixed_dictionaries
operation = st.one_of(
    step(
        {
            "op": st.just("earn"),
            "m": member,
            "points": near_cap,
            "group": st.one_of(st.none(), near_cap),
            "order": st.one_of(st.none(), order),
            "expires": st.booleans(),
        }
    ),
    step({"op": st.just("redeem"), "m": member, "points": near_cap}),
    step(
        {
            "op": st.just("purchase"),
            "m": member,
            "order": order,
            "points": st.one_of(st.just(0), near_cap),
            "group": st.one_of(st.none(), near_cap),
        }
    ),
    step(
        {
            "op": st.just("return"),
            "m": member,
            "order": order,
            "amount": st.sampled_from([1.0, 40.0, 100.0]),
        }
    ),
    step({"op": st.just("transfer"), "m": member, "to": member, "points": near_cap}),
    step({"op": st.just("merge"), "m": member, "to": member}),
)
streams = st.lists(st.tuples(moment, operation), min_size=1, max_size=16)


def to_event(prefix: str, op: dict[str, Any], when: tuple[int, int]) -> dict[str, Any]:
    day, hour = when
    iso = at(day, hours=hour)
    who = f"{prefix}-{op['m']}"
    kind = op["op"]
    if kind == "earn":
        extra: dict[str, Any] = {}
        if op["group"] is not None:
            extra["groupPoints"] = op["group"]
        if op["order"]:
            extra["orderId"] = op["order"]
        if op["expires"]:  # long past: expires within the stream
            extra["expiresAt"] = at(day + 1, hours=hour)
        return event("points.earned", when=iso, customerId=who, points=op["points"],
                     actionId=100, **extra)  # fmt: skip
    if kind == "redeem":
        return event("points.redeemed", when=iso, customerId=who, points=op["points"], actionId=102)
    if kind == "purchase":
        group = {} if op["group"] is None else {"groupPoints": op["group"]}
        return event("transaction.purchased", when=iso, customerId=who, orderId=op["order"],
                     amount=100.0, pointsEarned=op["points"], **group)  # fmt: skip
    if kind == "return":
        return event("transaction.returned", when=iso, customerId=who, orderId=op["order"],
                     amount=op["amount"])  # fmt: skip
    if kind == "transfer":
        return event("points.transferred", when=iso, transferId=f"T-{uuid.uuid4().hex[:10]}",
                     senderId=who, receiverId=f"{prefix}-{op['to']}", points=op["points"],
                     program="P")  # fmt: skip
    return event("customer.merged", when=iso, survivorId=f"{prefix}-{op['to']}", mergedId=who)


@pytest_asyncio.fixture(loop_scope="session")
async def org(db: Database) -> OrgInfo:
    """One organization for every example (each its own members), with group points shown."""
    return await create_org(
        db, f"cap-{uuid.uuid4().hex[:10]}", name="Near the cap", time_zone="Asia/Kolkata",
        hierarchy=True,
    )  # fmt: skip


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stream=streams)
async def test_whatever_is_accepted_the_api_shows_without_error(
    db: Database, org: OrgInfo, graphql: QueryCall, stream: list[tuple[tuple[int, int], dict]]
) -> None:
    prefix = f"p{uuid.uuid4().hex[:10]}"
    await ingest_ok(
        db,
        org,
        *(make_customer(f"{prefix}-{m}", when=at(0), name=f"{prefix} {m}") for m in MEMBERS),
    )
    for when, op in stream:
        outcome = await ingest(db, org, to_event(prefix, op, when))
        if outcome.error is not None:
            assert outcome.error.field and outcome.applied == 0, (op, outcome.error)

    for m in MEMBERS:
        view = await member_view(graphql, f"{prefix}-{m}")
        assert 0 <= view["balance"] <= INT_MAX
        for activity in view["activities"]:
            assert INT_MIN <= activity["runningBalance"] <= INT_MAX
    start = BASE.date().isoformat()
    body = await graphql(REPORT, f={"from": start, "to": at(10)[:10], "name": prefix})
    assert "errors" not in body, body
    for edge in body["data"]["interactionReport"]["edges"]:
        for value in edge["node"].values():  # a row of reversals alone sums below zero
            assert value is None or INT_MIN <= value <= INT_MAX
    await assert_lifetime_sums_kept(db, org)
