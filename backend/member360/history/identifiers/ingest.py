"""The identifier history's rows (identifier_changes), written inside an import transaction.

An identifier is added on enrollment, on a profile update and on customer.identifierChanged, and
two members' ids are combined on customer.merged;
the importer (member360.ingest.importer) decides when, keeps the member's current identifiers
on its row and hands in the transaction's buffered writes. The history is append-only.
"""

from __future__ import annotations

import datetime as dt

from member360.history.writes import Writes

TABLE = "identifier_changes"


async def changed(
    writes: Writes,
    customer_pk: int,
    at: dt.datetime,
    kind: str,
    value: str,
    action: str,
    source: str | None,
    account: str | None,
) -> None:
    await writes.add(
        TABLE,
        {
            "customer_id": customer_pk,
            "changed_at": at,
            "identifier_type": kind,
            "value": value,
            "action_type": action,
            "source": source,
            "account": account,
        },
    )
