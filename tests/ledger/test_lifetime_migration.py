"""Migration 0008 fills each member's lifetime sums from the activities already stored.

Each backend gets a database of its own, since the test takes the schema down to 0007 and back:
a SQLite file, and on PostgreSQL a database owned by a role that is no superuser, so that
row-level security (FORCE) holds the migrating owner too and the backfill must see every
organization through the owner's policy of 0007.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest_asyncio
from alembic import command
from sqlalchemy import inspect

from member360.db import Database
from member360.migrate import alembic_config, migrate
from member360.orgs.service import OrgInfo, create_org
from tests.conftest import APP_ROLE, PG_ADMIN_DSN, pg_url
from tests.factories import (
    at,
    earn,
    event,
    ingest_ok,
    make_customer,
    purchase,
    redeem,
    return_,
    transfer,
)
from tests.ledger.credits import assert_lifetime_sums_kept, lifetime_sums


@pytest_asyncio.fixture(loop_scope="session")
async def databases_to_migrate(
    backend: str, tmp_path: Path
) -> AsyncIterator[tuple[Database, Database]]:
    """(the owner's connection, which migrates; the app's, which imports)."""
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'm360.db'}")
        try:
            await migrate(db)
            yield db, db
        finally:
            await db.dispose()
        return
    suffix = uuid.uuid4().hex[:8]
    owner_role, name = f"m360_owner_{suffix}", f"m360_test_{suffix}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    owner = Database(pg_url(name, owner_role), pool_size=1)
    app = Database(pg_url(name, APP_ROLE))
    try:
        await admin.execute(f'CREATE ROLE "{owner_role}" LOGIN NOSUPERUSER NOBYPASSRLS')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner_role}"')
        await migrate(owner, app_role=APP_ROLE)
        yield owner, app
    finally:
        await owner.dispose()
        await app.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{owner_role}"')
        await admin.close()


async def downgrade_to(db: Database, revision: str) -> None:
    async with db.engine.begin() as conn:

        def run(connection: object) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.downgrade(cfg, revision)

        await conn.run_sync(run)


async def customer_columns(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("customers")}
        )


async def seed(db: Database, slug: str) -> OrgInfo:
    org = await create_org(db, slug, name="Seeded", time_zone="Asia/Kolkata", hierarchy=True)
    await ingest_ok(
        db,
        org,
        *(make_customer(c, when=at(0)) for c in ("a", "b", "c", "idle")),
        earn("a", 100, when=at(1), groupPoints=10),
        purchase("a", "O1", 100.0, 50, when=at(2), groupPoints=6),
        redeem("a", 30, when=at(3), orderId="O1"),
        return_("a", "O1", 50.0, when=at(4)),
        transfer("a", "b", 20, when=at(5)),
        earn("c", 7, when=at(5), groupPoints=1, expiresAt=at(6)),
        event("customer.merged", when=at(7), survivorId="b", mergedId="c"),
    )
    return org


async def test_the_upgrade_backfills_what_the_importer_keeps(
    databases_to_migrate: tuple[Database, Database],
) -> None:
    owner, app = databases_to_migrate
    orgs = [await seed(app, f"seed-{i}-{uuid.uuid4().hex[:6]}") for i in range(2)]
    kept = [await lifetime_sums(app, org) for org in orgs]
    assert {c: s[:2] for c, s in kept[0].items()} == {
        "a": (165, 16),
        "b": (27, 1),
        "c": (0, 0),
        "idle": (0, 0),
    }
    assert kept[1] == kept[0]

    await downgrade_to(owner, "0007")
    assert not {"points_credited", "group_points_credited"} & await customer_columns(owner)
    await migrate(owner, app_role=APP_ROLE if owner is not app else None)

    assert [await lifetime_sums(app, org) for org in orgs] == kept
    for org in orgs:
        await assert_lifetime_sums_kept(app, org)
    # And the importer goes on from the filled sums.
    await ingest_ok(app, orgs[0], earn("a", 5, when=at(8)))
    assert (await lifetime_sums(app, orgs[0]))["a"][0] == 170
