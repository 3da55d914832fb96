"""The Identifier Change History tab, declared: `Customer.identifierHistory`, its
`IdentifierChange` node, the workbook's sheet. Email and mobile values are personal data; the
other identifiers are not, so the rule is per row."""

from __future__ import annotations

import datetime as dt

from member360.history.identifiers.models import IdentifierChange
from member360.history.tab import Export, HistoryTab, NodeField, Present, WithheldWhen

PERSONAL_IDENTIFIERS = frozenset({"EMAIL", "MOBILE"})
WITHHELD = "[withheld]"

IDENTIFIER_HISTORY = HistoryTab(
    field_name="identifier_history",
    node_name="IdentifierChange",
    table=IdentifierChange.__table__,  # type: ignore[attr-defined]
    time_column="changed_at",
    fields=(
        NodeField("changed_at", dt.datetime, Export("Changed At"), present=Present.LOCAL_TIME),
        NodeField("source", str | None, Export("Source")),
        NodeField("account", str | None, Export("Account")),
        NodeField("identifier_type", str, Export("Identifier Type")),
        # The contract's `value: String!` stays non-null, so a value a caller without pii:read
        # may not see reads "[withheld]" (no error: a null here would null the whole page).
        NodeField(
            "value",
            str,
            Export("Value"),
            withheld_when=WithheldWhen("identifier_type", PERSONAL_IDENTIFIERS, WITHHELD),
            description='The identifier\'s value; EMAIL and MOBILE values read "[withheld]" '
            "without pii:read.",
        ),
        NodeField("action_type", str, Export("Action")),
    ),
    customer_tab="IDENTIFIER_HISTORY",
    export_title="Identifier Change History",
    spa_tab="other/identifiers",
    # The v1 sheet's order.
    export_fields=(
        "changed_at",
        "identifier_type",
        "value",
        "action_type",
        "source",
        "account",
    ),
)
