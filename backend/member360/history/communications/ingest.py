"""What communication.sent and communication.statusChanged do to the communications table,
inside an import transaction.

The importer (member360.ingest.importer) parses the events, finds the member an event names and
owns the transaction's buffered writes; it hands those in. A refusal is an InputError naming
the event's field, which the importer reports as that event's error.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from member360.errors import InputError
from member360.history.writes import Writes

TABLE = "communications"
KEY = "message_id"  # the organization's own id of a message: what events name it by
# What a status change updates; everything else is written once.
UPDATE_COLUMNS = ("status", "status_changed_at")


class SentEvent(Protocol):
    @property
    def message_id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def preview(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def account(self) -> str | None: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


class StatusChangedEvent(Protocol):
    @property
    def message_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def occurred_at(self) -> dt.datetime: ...


def _refuse(field: str, reason: str) -> InputError:
    return InputError(f"{field}: {reason}", field=field)


class Messages:
    """The messages one import transaction knows, by message id: those its events name (loaded
    before they apply, `by_id`) and those it records."""

    def __init__(self, writes: Writes) -> None:
        self.writes = writes
        self.by_id: dict[str, dict[str, Any]] = {}

    async def sent(self, e: SentEvent, customer_pk: int) -> None:
        if e.message_id in self.by_id:
            raise _refuse("messageId", f"message {e.message_id!r} is already recorded")
        self.by_id[e.message_id] = await self.writes.add(
            TABLE,
            {
                "customer_id": customer_pk,
                "message_id": e.message_id,
                "channel": e.channel,
                "subject": e.subject,
                "preview": e.preview,
                "status": e.status,
                "account": e.account,
                "sent_at": e.occurred_at,
                "status_changed_at": None,
            },
        )

    def status_changed(self, e: StatusChangedEvent) -> None:
        message = self.by_id.get(e.message_id)
        if message is None:
            raise _refuse("messageId", f"unknown message {e.message_id!r}")
        message.update(status=e.status, status_changed_at=e.occurred_at)
        self.writes.changed(TABLE, message)
