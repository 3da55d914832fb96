"""The Transactions tab, declared: `Customer.transactions(type:)`, its `Transaction` node, the
workbook's Transactions sheet (every type: the sheet is not filtered)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from member360.history.tab import Export, HistoryTab, NodeField, Present, Variants
from member360.history.transactions.models import Transaction


@strawberry.enum
class TransactionType(Enum):
    PURCHASE = "PURCHASE"
    RETURN = "RETURN"


TRANSACTIONS = HistoryTab(
    field_name="transactions",
    node_name="Transaction",
    table=Transaction.__table__,  # type: ignore[attr-defined]
    time_column="occurred_at",
    fields=(
        NodeField("occurred_at", dt.datetime, Export("Date"), present=Present.LOCAL_TIME),
        NodeField("type", TransactionType, Export("Type"), present=Present.ENUM),
        NodeField("order_id", str, Export("Order ID")),
        NodeField("amount", float, Export("Amount")),
        NodeField("store_id", str | None, Export("Store ID")),
        NodeField("source", str | None, Export("Source")),
        NodeField("points_earned", int, Export("Points Earned")),
        NodeField("points_unrecovered", int, Export("Points Unrecovered")),
    ),
    customer_tab="TRANSACTIONS",
    export_title="Transactions",
    spa_tab="transactions",
    variants=Variants("type", TransactionType, "type"),
)
