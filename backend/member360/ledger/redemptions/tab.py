"""Points, Redemptions, declared: `PointsHistory.redemptions`, its `Redemption` node
(with the lots each redemption drew from), the workbook's Redemptions sheet."""

from __future__ import annotations

import datetime as dt

from member360.history.tab import NOT_EXPORTED, Export, HistoryTab, NodeField, Present
from member360.ledger.activity.tab import ACTIVITIES
from member360.ledger.joins import ACTION_NAME
from member360.ledger.redemptions.breakup import BREAKUP_LIST
from member360.ledger.redemptions.types import RedemptionExtras

POINTS_REDEMPTIONS = HistoryTab(
    field_name="redemptions",
    node_name="Redemption",
    table=ACTIVITIES,
    time_column="occurred_at",
    fields=(
        NodeField(
            "redeemed_at",
            dt.datetime,
            Export("Redeemed At"),
            column="occurred_at",
            present=Present.LOCAL_TIME,
        ),
        # A redemption is a debit: its points are stored negative.
        NodeField(
            "points_redeemed", int, Export("Points Redeemed"), expression=lambda t: -t.c.points
        ),
        NodeField("points_reversed", int, Export("Points Reversed")),
        NodeField("order_id", str | None, Export("Order ID")),
        NodeField("store_id", str | None, Export("Store ID")),
        NodeField("source", str | None, Export("Source")),
        # The v1 workbook has no action columns.
        NodeField("action_id", int, NOT_EXPORTED),
        NodeField("action_name", str, NOT_EXPORTED),
    ),
    customer_tab="POINTS_REDEMPTIONS",
    export_title="Points — Redemptions",
    spa_tab="points/redemptions",
    under="points",
    where=lambda t: (t.c.kind == "REDEEM",),
    join=ACTION_NAME,
    extends=RedemptionExtras,
    keeps=("id",),
    lists=(BREAKUP_LIST,),
)
