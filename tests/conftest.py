"""Test databases: every test that takes `db` runs on SQLite and on PostgreSQL.

Each run creates its own databases (a temporary SQLite file, a fresh PostgreSQL database named
m360_test_<random>) and drops them afterwards. PostgreSQL is required unless
M360_TEST_BACKENDS leaves it out; an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from member360.db import Database
from member360.migrate import migrate
from member360.orgs.service import OrgInfo, create_org

PG_ADMIN_DSN = os.environ.get("M360_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [
    b.strip()
    for b in os.environ.get("M360_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]


def pytest_report_header(config: pytest.Config) -> str:
    return f"member360 test backends: {', '.join(BACKENDS)}"


async def _create_pg_database() -> str:
    name = f"m360_test_{uuid.uuid4().hex[:12]}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL is required for the tests but {PG_ADMIN_DSN} is unreachable ({exc}). "
            "Start it, or set M360_TEST_BACKENDS=sqlite for a SQLite-only local run."
        ) from exc
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def pg_url(name: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Database]]:
    made: dict[str, Database] = {}
    pg_name: str | None = None
    try:
        if "sqlite" in BACKENDS:
            path: Path = tmp_path_factory.mktemp("sqlite") / "member360.db"
            made["sqlite"] = Database(f"sqlite+aiosqlite:///{path}")
        if "postgresql" in BACKENDS:
            pg_name = await _create_pg_database()
            made["postgresql"] = Database(pg_url(pg_name))
        for db in made.values():
            await migrate(db)
        yield made
    finally:
        for db in made.values():
            await db.dispose()
        if pg_name:
            await _drop_pg_database(pg_name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(databases: dict[str, Database], backend: str) -> Database:
    return databases[backend]


@pytest_asyncio.fixture(loop_scope="session")
async def org(db: Database) -> OrgInfo:
    """A fresh organization per test keeps tests independent without truncating tables."""
    return await create_org(
        db, f"org-{uuid.uuid4().hex[:10]}", name="Acme Loyalty", time_zone="Asia/Kolkata"
    )
