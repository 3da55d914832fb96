"""The bench's scale tools connect as the deployment does: the app role under row-level
security, the owner to migrate, and the bench's own reads with every organization in view."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from bench.common import asyncpg_dsn, connect_all_orgs
from bench.drive.loadmix import prepare
from bench.topology.loopback import (
    DEFAULT_APP_ROLE,
    DEFAULT_URL,
    Deployment,
    DeploymentError,
    Topology,
    ensure_app_role,
    resolve_deployment,
)
from bench.topology.scale_demo import app_logins, has_members

from member360.auth.keys import list_api_keys
from member360.db import Database
from member360.orgs.service import OrgInfo, create_org
from tests.conftest import APP_ROLE, OWNER_URLS, PG_ADMIN_DSN
from tests.factories import ingest_ok, make_customer

OWNER = "postgresql://postgres:secret@db.example:5433/m360"
APP = "postgresql://member360_app:apppw@db.example:5433/m360"


def test_the_readmes_production_settings_are_taken_as_they_are() -> None:
    env = {
        "M360_DATABASE_URL": APP,
        "M360_MIGRATION_DATABASE_URL": OWNER,
        "M360_APP_DB_ROLE": "member360_app",
    }
    deployment = resolve_deployment(environ=env)
    assert deployment == Deployment(owner_url=OWNER, app_url=APP, app_role="member360_app")
    assert deployment.env() == env


def test_by_default_the_app_logs_in_as_the_app_role_under_rls() -> None:
    deployment = resolve_deployment(environ={})
    assert deployment.owner_url == DEFAULT_URL
    assert deployment.app_role == DEFAULT_APP_ROLE
    assert deployment.app_url == DEFAULT_URL.replace("postgres@", f"{DEFAULT_APP_ROLE}@")


def test_an_owners_url_alone_gives_the_app_the_roles_name_and_no_password() -> None:
    deployment = resolve_deployment(url=OWNER, app_role="member360_app", environ={})
    assert deployment.owner_url == OWNER
    assert deployment.app_url == "postgresql://member360_app@db.example:5433/m360"
    # The same, from the settings an older `M360_DATABASE_URL=<owner> make scale-demo` used.
    assert resolve_deployment(environ={"M360_DATABASE_URL": OWNER}).app_url == (
        "postgresql://member360_app@db.example:5433/m360"
    )


def test_settings_that_would_not_run_as_a_deployment_are_refused() -> None:
    with pytest.raises(DeploymentError, match="give the owner's URL too"):
        resolve_deployment(url=APP, app_role="member360_app", environ={})
    with pytest.raises(DeploymentError, match="logs in as 'postgres' but the app role is"):
        resolve_deployment(
            environ={
                "M360_DATABASE_URL": OWNER.replace("db.example", "other.example"),
                "M360_MIGRATION_DATABASE_URL": OWNER,
                "M360_APP_DB_ROLE": "member360_app",
            }
        )
    with pytest.raises(DeploymentError, match="plain role name"):
        resolve_deployment(url=OWNER, app_role="app; DROP TABLE x", environ={})


def test_no_app_role_connects_the_app_as_the_owner_whatever_the_environment_says() -> None:
    deployment = resolve_deployment(url=OWNER, app_role="", environ={"M360_APP_DB_ROLE": "x"})
    assert deployment == Deployment(owner_url=OWNER, app_url=OWNER)
    # Blank settings override inherited ones in the child processes (config reads "" as unset).
    assert deployment.env() == {
        "M360_DATABASE_URL": OWNER,
        "M360_MIGRATION_DATABASE_URL": "",
        "M360_APP_DB_ROLE": "",
    }


def test_the_topologys_processes_get_the_deployments_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("M360_MIGRATION_DATABASE_URL", "postgresql://stale@elsewhere/db")
    deployment = Deployment(owner_url=OWNER, app_url=APP, app_role="member360_app")
    with Topology(deployment) as topo:
        assert topo.env["M360_DATABASE_URL"] == APP
        assert topo.env["M360_MIGRATION_DATABASE_URL"] == OWNER
        assert topo.env["M360_APP_DB_ROLE"] == "member360_app"
        assert topo.database_url == OWNER  # the bench's own reads


async def test_a_superuser_is_refused_as_the_app_role() -> None:
    deployment = Deployment(owner_url=PG_ADMIN_DSN, app_url=PG_ADMIN_DSN, app_role="postgres")
    with pytest.raises(DeploymentError, match="without SUPERUSER or BYPASSRLS"):
        await ensure_app_role(deployment)
    # The plain role the tests use passes, unchanged.
    await ensure_app_role(
        Deployment(owner_url=PG_ADMIN_DSN, app_url=PG_ADMIN_DSN, app_role=APP_ROLE)
    )


# The scale tools and row-level security are PostgreSQL's: no SQLite variant.
@pytest.fixture
def db(databases: dict[str, Database]) -> Database:
    if "postgresql" not in databases:
        pytest.skip("M360_TEST_BACKENDS leaves PostgreSQL out")
    return databases["postgresql"]


@pytest.fixture
async def org(db: Database) -> OrgInfo:
    return await create_org(db, f"scale-{uuid.uuid4().hex[:10]}", name="Scale", time_zone="UTC")


@pytest.fixture
def deployment(db: Database) -> Deployment:
    return Deployment(owner_url=OWNER_URLS[db.url], app_url=db.url, app_role=APP_ROLE)


async def test_the_org_is_found_through_rls_where_the_app_role_sees_nothing(
    db: Database, org: OrgInfo, deployment: Deployment
) -> None:
    await ingest_ok(db, org, *(make_customer(f"scale-{i}") for i in range(3)))
    # What scale-demo used to do: the app's connection names no organization, so it sees none
    # of the members (row-level security) and took the database for empty.
    blind = await asyncpg.connect(asyncpg_dsn(deployment.app_url))
    try:
        assert await blind.fetchval("SELECT count(*) FROM customers") == 0
    finally:
        await blind.close()
    assert await has_members(deployment)
    sample = await prepare(deployment, org.slug)
    assert (sample.org_id, sample.slug, sample.members) == (org.id, org.slug, 3)
    assert sorted(sample.customer_ids) == ["scale-0", "scale-1", "scale-2"]
    # The key is made through the app, as `member360 api-key create` does.
    assert [k.name for k in await list_api_keys(db, org)] == ["bench.drive.loadmix"]


async def test_the_bench_sees_the_apps_logins_but_not_its_own(
    db: Database, org: OrgInfo, deployment: Deployment
) -> None:
    await ingest_ok(db, org, make_customer("scale-login"))  # the app's pool holds a connection
    before = await app_logins(deployment)
    own = [await connect_all_orgs(deployment.owner_url) for _ in range(2)]
    try:
        during = await app_logins(deployment)
    finally:
        for conn in own:
            await conn.close()
    assert during.get(APP_ROLE, 0) >= 1
    # The bench's connections (owner's URL) name themselves and are left out.
    assert during.get("postgres", 0) == before.get("postgres", 0)
