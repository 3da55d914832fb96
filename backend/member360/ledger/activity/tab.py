"""The points activity tabs, declared: All Activity, Promotions and Loyalty Tracker show rows of
`points_activities` as one node type, `PointsActivity`, each with the member's balance after it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement

from member360.history.tab import NOT_EXPORTED, Export, HistoryTab, NodeField, Present
from member360.ledger.joins import ACTION_NAME
from member360.ledger.models import PointsActivity

ACTIVITIES = PointsActivity.__table__  # type: ignore[attr-defined]

# Fields the v1 workbook leaves out are NOT_EXPORTED (the sheets keep their columns).
ACTIVITY_FIELDS = (
    NodeField("occurred_at", dt.datetime, Export("Date"), present=Present.LOCAL_TIME),
    NodeField("action_id", int, Export("Action ID")),
    NodeField("action_name", str, Export("Action")),
    NodeField("points", int, Export("Points")),
    NodeField("running_balance", int, Export("Running Balance")),
    NodeField("order_id", str | None, Export("Order ID")),
    NodeField("custom_id", str | None, NOT_EXPORTED),
    NodeField("reason", str | None, Export("Reason")),
    NodeField("source", str | None, Export("Source")),
    NodeField("store_id", str | None, Export("Store ID")),
    NodeField("category", str, NOT_EXPORTED),
    NodeField("campaign_id", str | None, NOT_EXPORTED),
    NodeField("tracker_value", float | None, Export("Tracker Value")),
    NodeField("expires_at", dt.datetime | None, Export("Expires At"), present=Present.LOCAL_TIME),
    NodeField("points_unrecovered", int, NOT_EXPORTED),
    NodeField("transfer_id", str | None, NOT_EXPORTED),
)
ACTIVITY_COLUMNS = (
    "occurred_at",
    "action_id",
    "action_name",
    "points",
    "running_balance",
    "order_id",
    "reason",
    "source",
    "store_id",
    "expires_at",
)


def _credits_of(category: str) -> Any:
    def where(t: Any) -> Sequence[ColumnElement[bool]]:
        return (t.c.category == category, t.c.points > 0)

    return where


def _activity_tab(
    field_name: str,
    customer_tab: str,
    export_title: str,
    spa_tab: str,  # tab/sub-tab in the SPA's memberTabs.tsx
    description: str,
    category: str | None = None,
    export_fields: tuple[str, ...] = ACTIVITY_COLUMNS,
) -> HistoryTab:
    return HistoryTab(
        field_name=field_name,
        node_name="PointsActivity",
        table=ACTIVITIES,
        time_column="occurred_at",
        fields=ACTIVITY_FIELDS,
        customer_tab=customer_tab,
        export_title=export_title,
        spa_tab=spa_tab,
        under="points",
        where=_credits_of(category) if category is not None else None,
        join=ACTION_NAME,
        running_balance=True,
        export_fields=export_fields,
        description=description,
    )


POINTS_PROMOTIONS = _activity_tab(
    "promotions",
    "POINTS_PROMOTIONS",
    "Points — Promotions",
    "points/promotions",
    "Points credited under a promotion (campaign benefits).",
    category="PROMOTION",
)
POINTS_LOYALTY_TRACKER = _activity_tab(
    "loyalty_tracker",
    "POINTS_LOYALTY_TRACKER",
    "Points — Loyalty Tracker",
    "points/loyalty-tracker",
    "Points credited by the loyalty tracker.",
    category="TRACKER",
    export_fields=(*ACTIVITY_COLUMNS, "tracker_value"),
)
POINTS_ACTIVITY = _activity_tab(
    "activity",
    "POINTS_ACTIVITY",
    "Points — All Activity",
    "points/activity",
    "Every signed entry, newest first, with the balance after it.",
)
