"""The Segment History tab, declared: `Customer.segmentHistory`, its `SegmentChange` node, the
workbook's Segment History sheet."""

from __future__ import annotations

import datetime as dt

from member360.history.segments.models import SegmentChange
from member360.history.tab import Export, HistoryTab, NodeField, Present

SEGMENT_HISTORY = HistoryTab(
    field_name="segment_history",
    node_name="SegmentChange",
    table=SegmentChange.__table__,  # type: ignore[attr-defined]
    time_column="changed_at",
    fields=(
        NodeField("changed_at", dt.datetime, Export("Changed At"), present=Present.LOCAL_TIME),
        NodeField("segment", str, Export("Segment")),
        NodeField("from_partition", str | None, Export("From Partition")),
        NodeField("to_partition", str | None, Export("To Partition")),
    ),
    customer_tab="SEGMENT_HISTORY",
    export_title="Segment History",
    spa_tab="segments",
)
