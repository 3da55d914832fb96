"""Key use in the audit log, without a row per request.

The rule: an API key's first use in each clock hour (UTC) writes one `api_key.used` event.
KeyResolver looks a key up at most once per cache period (10 s) per process, and already
stamps `api_keys.last_used_at` then; when the stamp it read lies before the current hour, it
moves the stamp with a conditional UPDATE (`... WHERE last_used_at < hour start`) and only the
process whose UPDATE changed the row writes the event. So a key in constant use by any number
of API processes yields one event per hour, a key used once yields one event, and requests
served from the cache cost nothing extra.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from member360.audit.models import AuditEvent
from member360.auth.models import ApiKey

ACTION = "api_key.used"


def hour_start(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


async def stamp_key_use(
    session: AsyncSession,
    *,
    key_id: int,
    org_id: int,
    name: str | None,
    last_used_at: dt.datetime | None,
    now: dt.datetime,
) -> bool:
    """Stamps last_used_at; True when this was the key's first use this hour (event written)."""
    hour = hour_start(now)
    if last_used_at is None or last_used_at < hour:
        result = await session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,  # type: ignore[arg-type]
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < hour),  # type: ignore[union-attr, operator, arg-type]
            )
            .values(last_used_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.add(
                AuditEvent(
                    org_id=org_id,
                    at=now,
                    actor=f"api-key:{key_id}",
                    action=ACTION,
                    target=f"api-key:{key_id}",
                    detail={"name": name} if name else None,
                )
            )
            return True
    await session.execute(
        update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)  # type: ignore[arg-type]
    )
    return False
