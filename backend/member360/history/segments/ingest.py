"""What segment.changed does to the segment_changes table, inside an import transaction.

The importer (member360.ingest.importer) parses the event, finds the member it names and owns
the transaction's buffered writes; it hands those in. The history is append-only.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from member360.history.writes import Writes

TABLE = "segment_changes"


class SegmentEvent(Protocol):
    """What the handler reads of a segment.changed event."""

    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def segment(self) -> str: ...
    @property
    def from_partition(self) -> str | None: ...
    @property
    def to_partition(self) -> str | None: ...


async def changed(writes: Writes, e: SegmentEvent, customer_pk: int) -> None:
    await writes.add(
        TABLE,
        {
            "customer_id": customer_pk,
            "changed_at": e.occurred_at,
            "segment": e.segment,
            "from_partition": e.from_partition,
            "to_partition": e.to_partition,
        },
    )
