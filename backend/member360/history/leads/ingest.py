"""What lead.created and lead.updated do to the leads table, inside an import transaction.

The importer (member360.ingest.importer) parses the events, finds the member an event names and
owns the transaction's buffered writes; it hands those in. A refusal is an InputError naming
the event's field, which the importer reports as that event's error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from member360.errors import InputError
from member360.history.writes import Writes

TABLE = "leads"
KEY = "lead_id"  # the organization's own id of a lead: what events name it by
# What lead.updated may change: the fields it gives (it is partial), and its time.
UPDATABLE = (
    "lead_type",
    "lead_for",
    "status",
    "sub_status",
    "last_follow_up_at",
    "next_follow_up_at",
    "extended_fields",
)
UPDATE_COLUMNS = (*UPDATABLE, "updated_at")


class LeadEvent(Protocol):
    """What the handlers read of a lead.created / lead.updated event."""

    @property
    def lead_id(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...
    @property
    def lead_type(self) -> str | None: ...
    @property
    def lead_for(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def sub_status(self) -> str | None: ...
    @property
    def last_follow_up_at(self) -> dt.datetime | None: ...
    @property
    def next_follow_up_at(self) -> dt.datetime | None: ...
    @property
    def extended_fields(self) -> dict[str, Any] | None: ...


def _refuse(field: str, reason: str) -> InputError:
    return InputError(f"{field}: {reason}", field=field)


class Leads:
    """The leads one import transaction knows, by lead id: those its events name (loaded
    before they apply, `by_id`) and those it creates."""

    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.by_id: dict[str, dict[str, Any]] = {}

    async def created(self, e: LeadEvent, customer_pk: int) -> None:
        if e.lead_id in self.by_id:
            raise _refuse("leadId", f"lead {e.lead_id!r} already exists")
        self.by_id[e.lead_id] = await self.writes.add(
            TABLE,
            {
                "customer_id": customer_pk,
                "lead_id": e.lead_id,
                "lead_type": e.lead_type,
                "lead_for": e.lead_for,
                "status": e.status,
                "sub_status": e.sub_status,
                "created_at": e.occurred_at,
                "updated_at": e.occurred_at,
                "last_follow_up_at": e.last_follow_up_at,
                "next_follow_up_at": e.next_follow_up_at,
                "extended_fields": e.extended_fields,
            },
        )

    def updated(
        self,
        e: LeadEvent,
        customer_pk: int,
        given: set[str],
        owner_of: Callable[[int], int | None],
    ) -> None:
        """Applies the fields the event gives (`given`, snake_case).

        `owner_of(customer_pk)` is the member a lead's row now belongs to after merges, or None
        when the transaction has not loaded that member (then the owner is not checked).
        """
        lead = self.by_id.get(e.lead_id)
        if lead is None:
            raise _refuse("leadId", f"unknown lead {e.lead_id!r}")
        owner = owner_of(lead["customer_id"])
        if owner is not None and owner != customer_pk:
            raise _refuse("customerId", f"lead {e.lead_id!r} belongs to another customer")
        for attr in given & set(UPDATABLE):
            lead[attr] = getattr(e, attr)
        lead["updated_at"] = e.occurred_at
        self.writes.changed(TABLE, lead)
