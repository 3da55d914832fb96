"""Points, Transfers, declared: `PointsHistory.transfers`, its `PointsTransfer` node,
the workbook's Transfers sheet. Each side of a transfer is a row of its member's activity."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from sqlalchemy import case, func

from member360.history.tab import Export, HistoryTab, NodeField, Present
from member360.ledger.activity.tab import ACTIVITIES
from member360.ledger.joins import TRANSFER_PARTIES


@strawberry.enum
class TransferType(Enum):
    DEDUCTION = "DEDUCTION"
    ADDITION = "ADDITION"


POINTS_TRANSFERS = HistoryTab(
    field_name="transfers",
    node_name="PointsTransfer",
    table=ACTIVITIES,
    time_column="occurred_at",
    fields=(
        NodeField(
            "transferred_at",
            dt.datetime,
            Export("Transferred At"),
            column="occurred_at",
            present=Present.LOCAL_TIME,
        ),
        NodeField(
            "transfer_type",
            TransferType,
            Export("Type"),
            expression=lambda t: case((t.c.points < 0, "DEDUCTION"), else_="ADDITION"),
            present=Present.ENUM,
        ),
        NodeField("transfer_id", str, Export("Transfer ID")),
        NodeField("from_customer_id", str | None, Export("From")),
        NodeField("to_customer_id", str | None, Export("To")),
        NodeField("program", str | None, Export("Program")),
        NodeField("points", int, Export("Points"), expression=lambda t: func.abs(t.c.points)),
    ),
    customer_tab="POINTS_TRANSFERS",
    export_title="Points — Transfers",
    spa_tab="points/transfers",
    under="points",
    where=lambda t: (t.c.kind.in_(("TRANSFER_OUT", "TRANSFER_IN")),),
    join=TRANSFER_PARTIES,
)
