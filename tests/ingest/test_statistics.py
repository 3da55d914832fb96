"""SQLite plans from stored statistics: migrations and bulk imports must leave them fresh."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from member360.db import Database
from member360.demo_events import generate_demo_events
from member360.ingest.importer import STATISTICS_AFTER_EVENTS, Importer
from member360.migrate import migrate
from member360.orgs.service import OrgInfo, create_org


async def _stat_rows(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT tbl, stat FROM sqlite_stat1"))).all()
    counts: dict[str, int] = {}
    for table, stat in rows:
        counts[table] = max(counts.get(table, 0), int(str(stat).split()[0]))
    return counts


async def test_bulk_import_refreshes_sqlite_statistics(tmp_path: Path) -> None:
    # SQLite only (PostgreSQL's autovacuum keeps its own statistics), so its own database.
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}")
    try:
        await migrate(db)
        org = await create_org(db, "stats", name="Stats", time_zone="UTC")
        await _import_and_check(db, org)
    finally:
        await db.dispose()


async def _import_and_check(db: Database, org: OrgInfo) -> None:
    before = (await _stat_rows(db)).get("points_activities", 0)
    events = list(generate_demo_events(members=60, has_surveys=False, has_hierarchy=False))
    assert len(events) >= STATISTICS_AFTER_EVENTS
    outcome = await Importer(db, org).run(enumerate(events, 1))
    assert outcome.error is None
    after = (await _stat_rows(db)).get("points_activities", 0)
    # The recorded row count grew with the import (the planner sees the table as it is now).
    assert after > before
