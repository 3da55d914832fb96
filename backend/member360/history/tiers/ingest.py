"""The tier history's rows (tier_changes), written inside an import transaction.

A tier changes on enrollment, on a profile update and on tier.changed; the importer
(member360.ingest.importer) decides when, keeps the member's current tier on its row and hands
in the transaction's buffered writes. The history is append-only.
"""

from __future__ import annotations

import datetime as dt

from member360.history.writes import Writes

TABLE = "tier_changes"


async def changed(
    writes: Writes,
    customer_pk: int,
    at: dt.datetime,
    from_tier: str | None,
    to_tier: str,
    reason: str | None,
) -> None:
    await writes.add(
        TABLE,
        {
            "customer_id": customer_pk,
            "changed_at": at,
            "from_tier": from_tier,
            "to_tier": to_tier,
            "reason": reason,
        },
    )
