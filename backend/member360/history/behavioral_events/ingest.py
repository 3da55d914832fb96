"""What event.tracked does to the behavioral_events table, inside an import transaction.

The importer (member360.ingest.importer) parses the event, finds the member it names and owns
the transaction's buffered writes; it hands those in. The history is append-only, and keeps
the integration's till code and the attributes as given (the tab works out which code wins).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from member360.history.writes import Writes

TABLE = "behavioral_events"


class TrackedEvent(Protocol):
    """What the handler reads of an event.tracked event."""

    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def tracking_id(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def source(self) -> str | None: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def till_code(self) -> str | None: ...
    @property
    def attributes(self) -> dict[str, Any] | None: ...


async def tracked(writes: Writes, e: TrackedEvent, customer_pk: int) -> None:
    await writes.add(
        TABLE,
        {
            "customer_id": customer_pk,
            "tracking_id": e.tracking_id,
            "event": e.event,
            "source": e.source,
            "account_id": e.account_id,
            "till_code": e.till_code,
            "attributes": e.attributes,
            "occurred_at": e.occurred_at,
        },
    )
