"""`migrate` makes the app's PostgreSQL role from the app's URL: no init script, no manual step.

Roles are PostgreSQL's (cluster-wide), so this runs on the session's PostgreSQL database with a
role name of its own, dropped afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from member360.config import Settings
from member360.db import Database
from member360.migrate import app_role_password, migrate_for
from tests.conftest import OWNER_URLS, PG_ADMIN_DSN


def scram_matches(verifier: str, password: str) -> bool:
    """Whether PostgreSQL's stored SCRAM-SHA-256 verifier is the one of `password` (RFC 5802)."""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256", verifier
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


@pytest.fixture
def pg_database(databases: dict[str, Database]) -> Database:
    if "postgresql" not in databases:
        pytest.fail("PostgreSQL is required: roles are PostgreSQL's")
    return databases["postgresql"]


@pytest_asyncio.fixture(loop_scope="session")
async def new_role(pg_database: Database) -> AsyncIterator[str]:
    role = f"m360_app_{uuid.uuid4().hex[:10]}"
    yield role
    admin = await asyncpg.connect(
        make_url(OWNER_URLS[pg_database.url]).set(drivername="postgresql").render_as_string(False)
    )
    try:
        if await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await admin.execute(f'DROP OWNED BY "{role}"')
            await admin.execute(f'DROP ROLE "{role}"')
    finally:
        await admin.close()


def settings_for(pg_database: Database, role: str, password: str | None) -> Settings:
    app_url = make_url(pg_database.url).set(username=role, password=password)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=app_url.render_as_string(hide_password=False),
        migration_database_url=OWNER_URLS[pg_database.url],
        app_db_role=role,
    )


async def _role(role: str) -> asyncpg.Record | None:
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        return await admin.fetchrow(
            "SELECT rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolpassword"
            " FROM pg_authid WHERE rolname = $1",
            role,
        )
    finally:
        await admin.close()


async def test_migrate_creates_the_app_role_then_follows_its_password(
    pg_database: Database, new_role: str
) -> None:
    assert await _role(new_role) is None
    await migrate_for(settings_for(pg_database, new_role, "first-Pa55word-with'quote"))
    made = await _role(new_role)
    assert made is not None
    assert made["rolcanlogin"] and not made["rolsuper"] and not made["rolbypassrls"]
    assert not made["rolcreaterole"] and not made["rolcreatedb"]
    assert scram_matches(made["rolpassword"], "first-Pa55word-with'quote")

    # It is the app's role: it reads the tables the grants gave it, under row-level security.
    app = Database(settings_for(pg_database, new_role, None).database_url)
    try:
        async with app.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT count(*) FROM customers")
    finally:
        await app.dispose()

    # A new password in the deployment's environment takes effect at the next migrate.
    await migrate_for(settings_for(pg_database, new_role, "second-Pa55word"))
    changed = await _role(new_role)
    assert changed is not None and scram_matches(changed["rolpassword"], "second-Pa55word")
    assert not scram_matches(changed["rolpassword"], "first-Pa55word-with'quote")


async def test_without_a_password_a_missing_role_is_still_an_error(
    pg_database: Database, new_role: str
) -> None:
    from member360.migrate import AppRoleError

    with pytest.raises(AppRoleError, match="does not exist"):
        await migrate_for(settings_for(pg_database, new_role, None))
    assert await _role(new_role) is None


def test_the_password_comes_only_from_the_app_roles_own_url() -> None:
    def settings(**values: str) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    owner = "postgresql://owner:owner-pw@db/member360"
    assert (
        app_role_password(
            settings(
                database_url="postgresql://app:app-pw@db/member360",
                migration_database_url=owner,
                app_db_role="app",
            )
        )
        == "app-pw"
    )
    # Another user in the URL, no owner URL (the app is the owner) or no role: nothing to set.
    for values in (
        {"database_url": "postgresql://other:pw@db/m", "migration_database_url": owner},
        {"database_url": "postgresql://app:pw@db/m"},
        {
            "database_url": "postgresql://app:pw@db/m",
            "migration_database_url": owner,
            "app_db_role": "",
        },
    ):
        assert app_role_password(settings(**{"app_db_role": "app", **values})) is None
