"""Every row an import can write for one organization: what a refused event must leave alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from member360.db import Database, table
from member360.ingest.unit import FLUSH_ORDER
from member360.orgs.service import OrgInfo

CATALOG_TABLES = ("stores", "actions", "campaigns", "action_series", "surveys", "survey_sections")
IMPORT_TABLES = CATALOG_TABLES + FLUSH_ORDER


async def org_rows(db: Database, org: OrgInfo) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows of the organization, every column, in id order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with db.session(org.id) as s:
        for name in IMPORT_TABLES:
            t = table(name)
            rows = await s.execute(select(t).where(t.c.org_id == org.id).order_by(t.c.id))
            found[name] = [tuple(r) for r in rows]
    return found


def changed_tables(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in IMPORT_TABLES if before[name] != after[name]]
