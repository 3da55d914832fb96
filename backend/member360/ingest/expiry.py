"""Expiry of due lots for every organization: after each import and, while serving, on a timer.

Expiring writes the ledger through the importer (Importer.expire_due: the same unit of work,
lock and balance rules as an event), so the sweep lives with the import, not in ledger/.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from member360.crossorg import orgs_with_due_lots
from member360.db import Database
from member360.ingest.importer import Importer
from member360.orgs.service import get_org

log = logging.getLogger("member360.expiry")


async def expire_all(db: Database, now: dt.datetime | None = None) -> int:
    """Expires every due lot of every organization; returns the points expired."""
    now = now or dt.datetime.now(dt.UTC)
    total = 0
    # Only organizations that have something due: a sweep over many idle tenants stays cheap.
    # Each is then expired under its own binding (row-level security shows no other).
    async with db.session(None) as session:
        due = await orgs_with_due_lots(session, now)
    for org_id in due:
        org = await get_org(db, org_id=org_id)
        total += await Importer(db, org).expire_due(now)
    return total


async def expiry_loop(db: Database, interval: float) -> None:
    while True:
        try:
            expired = await expire_all(db)
            if expired:
                log.info("expired %d points", expired)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed sweep must not stop the next one
            log.exception("expiry sweep failed")
        await asyncio.sleep(interval)
