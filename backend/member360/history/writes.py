"""What a history type's event handlers (history/<type>/ingest.py) may do inside an import.

The importer (member360.ingest.importer) owns the transaction and hands its buffered writes
(member360.ingest.unit.UnitOfWork) to the handlers; history/ never imports ingest/, so the
handlers see it through this protocol.
"""

from __future__ import annotations

from typing import Any, Protocol


class Writes(Protocol):
    """The import transaction's buffered writes (member360.ingest.unit.UnitOfWork)."""

    async def add(self, name: str, values: dict[str, Any]) -> dict[str, Any]: ...
    def changed(self, name: str, row: dict[str, Any]) -> None: ...
