"""`bench.drive.postgraphile` reduces Member360's and PostGraphile's answers to the same values.

The comparison run trusts these reductions to tell agreeing answers from differing ones: the
same member read by both APIs (spelt each API's way) must reduce to equal values, and a member
whose activity differs in one value, or comes in another order, must not.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from bench.drive.postgraphile import (
    customer_list,
    member360_list,
    member360_member,
    member_activity,
    postgraphile_list,
    postgraphile_member,
)
from bench.drive.run import _diff


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


ACTIVITY = [  # (row id, occurred at in UTC, Asia/Kolkata spelling, points, balance)
    (52288, "2026-12-04T23:55:27+00:00", "2026-12-05T05:25:27+05:30", -105, 350),
    (52287, "2026-12-04T19:59:09+00:00", "2026-12-05T01:29:09+05:30", -170, 455),
]


def member360_answer() -> dict[str, Any]:
    edges = [
        {
            "cursor": _b64(f"{utc}|{row}"),
            "node": {
                "occurredAt": local,
                "actionId": 103,
                "actionName": "Points Expired",
                "points": points,
                "runningBalance": balance,
            },
        }
        for row, utc, local, points, balance in ACTIVITY
    ]
    return {
        "customer": {
            "id": _b64("Customer:5"),
            "customerId": "CUST-0000005",
            "name": "Deepak Dsouza",
            "tier": "Base",
            "pointsBalance": 350,
            "points": {
                "activity": {
                    "edges": edges,
                    "pageInfo": {"hasNextPage": True, "endCursor": edges[-1]["cursor"]},
                }
            },
        }
    }


def postgraphile_answer() -> dict[str, Any]:
    edges = [
        {
            "cursor": "WyJjMDgzYjc4ZTQxIl0=",
            "node": {
                "rowId": str(row),
                "occurredAt": utc.replace("+00:00", ".000000+00:00"),
                "actionId": 103,
                "actionName": "Points Expired",
                "points": points,
                "runningBalance": balance,
            },
        }
        for row, utc, _, points, balance in ACTIVITY
    ]
    return {
        "customerByOrgIdAndCustomerId": {
            "rowId": "5",
            "customerId": "CUST-0000005",
            "name": "Deepak Dsouza",
            "tier": "Base",
            "pointsBalance": 350,
            "pointsActivities": {
                "edges": edges,
                "pageInfo": {"hasNextPage": True, "endCursor": "WyJ4Il0="},
            },
        }
    }


def test_the_same_member_reduces_to_the_same_values() -> None:
    mine = member360_member(member360_answer())
    assert _diff(mine, postgraphile_member(postgraphile_answer())) is None


def test_a_differing_value_or_order_is_found() -> None:
    changed = postgraphile_answer()
    changed["customerByOrgIdAndCustomerId"]["pointsActivities"]["edges"][1]["node"]["points"] = 1
    found = _diff(member360_member(member360_answer()), postgraphile_member(changed))
    assert found == ".activity[1].points: -170 vs 1"

    swapped = postgraphile_answer()
    edges = swapped["customerByOrgIdAndCustomerId"]["pointsActivities"]["edges"]
    edges.reverse()
    found = _diff(member360_member(member360_answer()), postgraphile_member(swapped))
    assert found is not None and found.startswith(".activity[0].")


def test_the_list_reduces_to_the_same_values() -> None:
    member = member360_answer()["customer"]
    theirs = postgraphile_answer()["customerByOrgIdAndCustomerId"]
    contact = {"email": "d@example.com", "mobile": "+910000000005"}
    transaction = {"type": "PURCHASE", "orderId": "ORD-1", "amount": 120.5, "pointsEarned": 12}
    message = {"messageId": "M-1", "channel": "EMAIL", "status": "SENT", "subject": "Hi"}
    mine_node = {
        **{k: member[k] for k in ("id", "customerId", "name", "tier", "pointsBalance")},
        **contact,
        "points": {"activity": {"edges": copy.deepcopy(member["points"]["activity"]["edges"])}},
        "transactions": {
            "edges": [{"node": {"occurredAt": "2026-12-05T05:25:27+05:30", **transaction}}]
        },
        "interactions": {"edges": [{"node": {"sentAt": "2026-12-05T01:29:09+05:30", **message}}]},
    }
    their_node = {
        **{k: theirs[k] for k in ("rowId", "customerId", "name", "tier", "pointsBalance")},
        **contact,
        "pointsActivities": {"edges": theirs["pointsActivities"]["edges"]},
        "transactions": {
            "edges": [{"node": {"occurredAt": "2026-12-04T23:55:27.000000+00:00", **transaction}}]
        },
        "communications": {
            "edges": [{"node": {"sentAt": "2026-12-04T19:59:09.000000+00:00", **message}}]
        },
    }
    page_info = {"hasNextPage": False, "endCursor": None}
    mine = {"customers": {"edges": [{"node": mine_node}], "pageInfo": page_info}}
    their = {"customers": {"edges": [{"node": their_node}], "pageInfo": page_info}}
    assert _diff(member360_list(mine), postgraphile_list(their)) is None


def test_the_documents_name_the_organization() -> None:
    assert 'orgId: "7"' in member_activity(7)
    assert 'orgId: {equalTo: "7"}' in customer_list(7)
