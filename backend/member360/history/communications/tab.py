"""The Interactions tab, declared: `Customer.interactions(channel:)`, its `Communication` node,
the workbook's Interactions sheet (every channel: the sheet is not filtered)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from member360.history.communications.models import Communication
from member360.history.tab import Export, HistoryTab, NodeField, Present, Variants


@strawberry.enum
class Channel(Enum):
    SMS = "SMS"
    EMAIL = "EMAIL"
    WECHAT = "WECHAT"
    WEBENGAGE = "WEBENGAGE"
    SURVEY = "SURVEY"


INTERACTIONS = HistoryTab(
    field_name="interactions",
    node_name="Communication",
    table=Communication.__table__,  # type: ignore[attr-defined]
    time_column="sent_at",
    fields=(
        NodeField("sent_at", dt.datetime, Export("Sent At"), present=Present.LOCAL_TIME),
        NodeField("message_id", str, Export("Message ID")),
        NodeField("channel", Channel, Export("Channel"), present=Present.ENUM),
        NodeField("subject", str | None, Export("Subject")),
        NodeField("preview", str | None, Export("Preview")),
        NodeField("status", str, Export("Status")),
        NodeField(
            "status_changed_at",
            dt.datetime | None,
            Export("Status Changed At"),
            present=Present.LOCAL_TIME,
        ),
        NodeField("account", str | None, Export("Account")),
    ),
    customer_tab="INTERACTIONS",
    export_title="Interactions",
    spa_tab="interactions",
    variants=Variants("channel", Channel, "channel"),
    # The v1 sheet's order: the channel before the message id.
    export_fields=(
        "sent_at",
        "channel",
        "message_id",
        "subject",
        "preview",
        "status",
        "status_changed_at",
        "account",
    ),
)
