"""The Points tab's Tier History, declared: `PointsHistory.tierHistory`, its `TierChange` node,
the workbook's Tier History sheet."""

from __future__ import annotations

import datetime as dt

from member360.history.tab import Export, HistoryTab, NodeField, Present
from member360.history.tiers.models import TierChange

POINTS_TIER_HISTORY = HistoryTab(
    field_name="tier_history",
    node_name="TierChange",
    table=TierChange.__table__,  # type: ignore[attr-defined]
    time_column="changed_at",
    fields=(
        NodeField("changed_at", dt.datetime, Export("Changed At"), present=Present.LOCAL_TIME),
        NodeField("from_tier", str | None, Export("From Tier")),
        NodeField("to_tier", str, Export("To Tier")),
        NodeField("reason", str | None, Export("Reason")),
    ),
    customer_tab="POINTS_TIER_HISTORY",
    export_title="Points — Tier History",
    spa_tab="points/tier-history",
    under="points",
    description='Tier ("slab") history.',
)
