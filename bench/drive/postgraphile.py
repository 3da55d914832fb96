"""The benchmark's two reads written for PostGraphile v5's schema (bench/postgraphile/server.mjs),
and the answers of both APIs reduced to the values they share, so that they can be compared.

The documents ask PostGraphile for what bench/drive/queries.py asks Member360:

- MEMBER_ACTIVITY: the member by its unique key (org_id, customer_id), and its 20 newest
  activities (occurred_at desc, id desc) with cursors and pageInfo; actionName and
  runningBalance are the computed columns of bench/postgraphile/schema.sql.
- CUSTOMER_LIST: 50 members whose lower(name) contains the search term, by name then id, skipping
  merged members, each with 10 activities, 10 transactions and 10 communications, newest first.
  The filter is the connection filter plugin's `includesInsensitive` (ILIKE '%term%') on the
  computed column `nameLower` (lower(name)): PostgreSQL inlines the function and uses the app's
  trigram index on lower(name), as Member360's search does. The same filter on `name` gives the
  same members but scans the table (ILIKE on the column matches no index). Member360's search
  also matches a customer id, external id, mobile or email exactly; the benchmark's search
  terms are names, which match none of those, so the two return the same members.

PostGraphile has no API key naming an organization: the documents name it (`orgId`), the
number substituted for ORG_ID by `member_activity(org_id)` and `customer_list(org_id)`.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

ORG_ID = "__ORG_ID__"

_MEMBER_ACTIVITY = """
query MemberActivity($customerId: String!) {
  customerByOrgIdAndCustomerId(orgId: "__ORG_ID__", customerId: $customerId) {
    rowId customerId name tier pointsBalance
    pointsActivities(first: 20, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) {
      edges { cursor node { rowId occurredAt actionId actionName points runningBalance } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

_CUSTOMER_LIST = """
query List($search: String!) {
  customers(
    first: 50
    orderBy: [NAME_ASC, ROW_ID_ASC]
    filter: {orgId: {equalTo: "__ORG_ID__"}, mergedIntoId: {isNull: true},
             nameLower: {includesInsensitive: $search}}
  ) {
    edges { cursor node {
      rowId customerId name email mobile tier pointsBalance
      pointsActivities(first: 10, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) {
        edges { node { occurredAt actionId actionName points runningBalance } } }
      transactions(first: 10, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) {
        edges { node { occurredAt type orderId amount pointsEarned } } }
      communications(first: 10, orderBy: [SENT_AT_DESC, ROW_ID_DESC]) {
        edges { node { sentAt messageId channel status subject } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def member_activity(org_id: int) -> str:
    return _MEMBER_ACTIVITY.replace(ORG_ID, str(org_id))


def customer_list(org_id: int) -> str:
    return _CUSTOMER_LIST.replace(ORG_ID, str(org_id))


# ---------------------------------------------------------------------- comparable values


def _instant(value: str) -> str:
    """A timestamp as its UTC instant: Member360 writes the organization's zone, PostGraphile
    the session's (UTC here), so the same instant is spelt differently."""
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC).isoformat()


def _decoded(opaque: str) -> str:
    return base64.urlsafe_b64decode(opaque + "=" * (-len(opaque) % 4)).decode()


def _member360_row_id(global_id: str) -> int:
    """Member360's node id is base64 of "Customer:<row id>"."""
    return int(_decoded(global_id).split(":", 1)[1])


def _member360_activity_id(cursor: str) -> int:
    """Member360's activity cursor is base64 of "<occurred_at, UTC>|<row id>"."""
    return int(_decoded(cursor).rsplit("|", 1)[1])


def _activity(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "occurredAt": _instant(node["occurredAt"]),
        "actionId": node["actionId"],
        "actionName": node["actionName"],
        "points": node["points"],
        "runningBalance": node["runningBalance"],
    }


def _transaction(node: dict[str, Any]) -> dict[str, Any]:
    return {**node, "occurredAt": _instant(node["occurredAt"])}


def _communication(node: dict[str, Any]) -> dict[str, Any]:
    return {**node, "sentAt": _instant(node["sentAt"])}


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


def member360_member(data: dict[str, Any]) -> dict[str, Any] | None:
    """MEMBER_ACTIVITY's answer from Member360 (or the floor), reduced to comparable values."""
    member = data["customer"]
    if member is None:
        return None
    activity = member["points"]["activity"]
    return {
        "rowId": _member360_row_id(member["id"]),
        "customerId": member["customerId"],
        "name": member["name"],
        "tier": member["tier"],
        "pointsBalance": member["pointsBalance"],
        "activity": [
            {"rowId": _member360_activity_id(edge["cursor"]), **_activity(edge["node"])}
            for edge in activity["edges"]
        ],
        "hasNextPage": activity["pageInfo"]["hasNextPage"],
    }


def postgraphile_member(data: dict[str, Any]) -> dict[str, Any] | None:
    """The same values from PostGraphile's answer to `member_activity()`."""
    member = data["customerByOrgIdAndCustomerId"]
    if member is None:
        return None
    activity = member["pointsActivities"]
    return {
        "rowId": int(member["rowId"]),  # BigInt: a string in GraphQL
        "customerId": member["customerId"],
        "name": member["name"],
        "tier": member["tier"],
        "pointsBalance": member["pointsBalance"],
        "activity": [{"rowId": int(node["rowId"]), **_activity(node)} for node in _nodes(activity)],
        "hasNextPage": activity["pageInfo"]["hasNextPage"],
    }


def member360_list(data: dict[str, Any]) -> dict[str, Any]:
    """CUSTOMER_LIST's answer from Member360 (or the floor), reduced to comparable values."""
    page = data["customers"]
    members = []
    for member in _nodes(page):
        members.append(
            {
                "rowId": _member360_row_id(member["id"]),
                **{k: member[k] for k in ("customerId", "name", "email", "mobile", "tier")},
                "pointsBalance": member["pointsBalance"],
                "activity": [_activity(n) for n in _nodes(member["points"]["activity"])],
                "transactions": [_transaction(n) for n in _nodes(member["transactions"])],
                "communications": [_communication(n) for n in _nodes(member["interactions"])],
            }
        )
    return {"members": members, "hasNextPage": page["pageInfo"]["hasNextPage"]}


def postgraphile_list(data: dict[str, Any]) -> dict[str, Any]:
    """The same values from PostGraphile's answer to `customer_list()`."""
    page = data["customers"]
    members = []
    for member in _nodes(page):
        members.append(
            {
                "rowId": int(member["rowId"]),
                **{k: member[k] for k in ("customerId", "name", "email", "mobile", "tier")},
                "pointsBalance": member["pointsBalance"],
                "activity": [_activity(n) for n in _nodes(member["pointsActivities"])],
                "transactions": [_transaction(n) for n in _nodes(member["transactions"])],
                "communications": [_communication(n) for n in _nodes(member["communications"])],
            }
        )
    return {"members": members, "hasNextPage": page["pageInfo"]["hasNextPage"]}
