"""The Leads tab, declared: `Customer.leads`, its `Lead` node, the workbook's Leads sheet."""

from __future__ import annotations

import datetime as dt

from strawberry.scalars import JSON

from member360.history.leads.models import Lead
from member360.history.tab import NOT_EXPORTED, Export, HistoryTab, NodeField, Present

LEADS = HistoryTab(
    field_name="leads",
    node_name="Lead",
    table=Lead.__table__,  # type: ignore[attr-defined]
    time_column="created_at",
    fields=(
        NodeField("lead_id", str, Export("Lead ID")),
        NodeField("lead_type", str | None, Export("Type")),
        NodeField("lead_for", str | None, Export("For")),
        NodeField("status", str, Export("Status")),
        NodeField("sub_status", str | None, Export("Sub Status")),
        NodeField("created_at", dt.datetime, Export("Created At"), present=Present.LOCAL_TIME),
        NodeField("updated_at", dt.datetime, Export("Updated At"), present=Present.LOCAL_TIME),
        NodeField(
            "last_follow_up_at",
            dt.datetime | None,
            Export("Last Follow-up"),
            present=Present.LOCAL_TIME,
        ),
        NodeField(
            "next_follow_up_at",
            dt.datetime | None,
            Export("Next Follow-up"),
            present=Present.LOCAL_TIME,
        ),
        # A JSON object of any shape: the SPA shows it compacted, a cell could not hold it.
        NodeField("extended_fields", JSON | None, NOT_EXPORTED, present=Present.JSON),
    ),
    customer_tab="LEADS",
    export_title="Leads",
    spa_tab="leads",
)
