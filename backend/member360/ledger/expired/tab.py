"""Points, Expired, declared: `PointsHistory.expired`, its `ExpiredPoints` node, the
workbook's Expired sheet."""

from __future__ import annotations

import datetime as dt

from member360.history.tab import Export, HistoryTab, NodeField, Present
from member360.ledger.activity.tab import ACTIVITIES

POINTS_EXPIRED = HistoryTab(
    field_name="expired",
    node_name="ExpiredPoints",
    table=ACTIVITIES,
    time_column="occurred_at",
    fields=(
        NodeField(
            "expired_at",
            dt.datetime,
            Export("Expired At"),
            column="occurred_at",
            present=Present.LOCAL_TIME,
        ),
        # Expiry is a debit: its points are stored negative.
        NodeField("points", int, Export("Points"), expression=lambda t: -t.c.points),
    ),
    customer_tab="POINTS_EXPIRED",
    export_title="Points — Expired",
    spa_tab="points/expired",
    under="points",
    where=lambda t: (t.c.kind == "EXPIRY",),
)
