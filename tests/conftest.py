"""Test databases: every test that takes `db` runs on SQLite and on PostgreSQL.

Each run creates its own databases (a temporary SQLite file, a fresh PostgreSQL database named
m360_test_<random>) and drops them afterwards. PostgreSQL is required unless
M360_TEST_BACKENDS leaves it out; an unreachable server fails the run instead of skipping.

PostgreSQL runs as in production: the superuser (M360_TEST_PG_DSN) owns the tables and migrates,
and the app connects as a plain role (member360_app: no superuser, no BYPASSRLS) that row-level
security holds to one organization, so every PostgreSQL test also proves RLS lets the app work.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from member360.db import Database
from member360.migrate import migrate
from member360.orgs.service import OrgInfo, create_org

PG_ADMIN_DSN = os.environ.get("M360_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [
    b.strip()
    for b in os.environ.get("M360_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if b.strip()
]


# Role names are cluster-wide: every run shares this one (it owns nothing, so nothing of one run
# outlives the run's database).
APP_ROLE = os.environ.get("M360_TEST_PG_APP_ROLE", "member360_app")
# The owner's URL of each app URL (PostgreSQL): processes the tests start migrate through it.
OWNER_URLS: dict[str, str] = {}


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


def pg_url(name: str, user: str | None = None) -> str:
    url = make_url(PG_ADMIN_DSN).set(drivername="postgresql+asyncpg", database=name)
    if user is not None:
        url = url.set(username=user, password=None)
    return url.render_as_string(hide_password=False)


async def _ensure_app_role() -> None:
    """Creates the app's login role once per cluster; concurrent runs may race to create it."""
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE)
        if not exists:
            try:
                await conn.execute(f'CREATE ROLE "{APP_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS')
            except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                pass  # another run created it between the check and here
        role = await conn.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1",
            APP_ROLE,
        )
    finally:
        await conn.close()
    if role is None or role["rolsuper"] or role["rolbypassrls"] or not role["rolcanlogin"]:
        raise RuntimeError(
            f"test role {APP_ROLE!r} must be a LOGIN role without SUPERUSER or BYPASSRLS, "
            "or row-level security is not tested"
        )


def cli_env(db: Database) -> dict[str, str]:
    """Settings for a member360 process the tests start: the app's URL, the owner's to migrate."""
    env = {"M360_DATABASE_URL": db.url}
    owner = OWNER_URLS.get(db.url)
    if owner is not None:
        env.update(M360_MIGRATION_DATABASE_URL=owner, M360_APP_DB_ROLE=APP_ROLE)
    return env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Database]]:
    made: dict[str, Database] = {}
    pg_name: str | None = None
    try:
        if "sqlite" in BACKENDS:
            path: Path = tmp_path_factory.mktemp("sqlite") / "member360.db"
            made["sqlite"] = Database(f"sqlite+aiosqlite:///{path}")
        if "sqlite" in made:
            await migrate(made["sqlite"])
        if "postgresql" in BACKENDS:
            await _ensure_app_role()
            pg_name = await _create_pg_database()
            owner = Database(pg_url(pg_name), pool_size=1)
            try:
                await migrate(owner, app_role=APP_ROLE, queue_schema=True)
            finally:
                await owner.dispose()
            made["postgresql"] = Database(pg_url(pg_name, APP_ROLE))
            OWNER_URLS[made["postgresql"].url] = owner.url
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
