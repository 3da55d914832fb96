"""Row-level security (PostgreSQL): tenancy below the application.

Raw SQL through the app's own role, with no help from the app's scoping: a transaction bound to
one organization reads and writes only that organization's rows, and a transaction bound to
none, or to all ('*', the tables' owner's alone), sees nothing. The app's cross-organization
lookups answer exact questions with ids only. A schema test keeps every table with an org_id
column under both policies, so a new tenant table without RLS fails the suite.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
import pytest_asyncio
from graphql import parse
from graphql.execution.values import get_variable_values
from sqlalchemy import text, update
from sqlalchemy.engine import make_url

from member360.auth.keys import SCOPES, KeyResolver, Principal, create_api_key
from member360.auth.users import Authenticator, create_user
from member360.config import Settings
from member360.crossorg import export_jobs_owing_mail, runnable_export_jobs
from member360.db import ALL_ORGS, ORG_SETTING, Database, is_tenant_table, metadata, rebind
from member360.demo_events import generate_demo_events
from member360.exports.jobs import JobRunner, request_export
from member360.exports.models import ExportJob
from member360.graphql.schema import schema
from member360.ingest.expiry import expire_all
from member360.ingest.importer import Importer
from member360.migrate import AppRoleError, migrate, rls_bypass
from member360.orgs.models import EXTENDED_ATTRIBUTES
from member360.orgs.service import OrgInfo, create_org
from member360.reads.planner import Caller, plan
from tests.conftest import APP_ROLE, OWNER_URLS, PG_ADMIN_DSN, pg_url
from tests.factories import balance, earn, ingest_ok, make_customer

POLICY = "m360_tenant_isolation"
OWNER_POLICY = "m360_owner_all_orgs"


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def tenant_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = 'public' AND c.column_name = 'org_id' "
        "AND t.table_type = 'BASE TABLE' ORDER BY 1"
    )
    return [r[0] for r in rows]


@pytest.fixture
def pg(db: Database, backend: str) -> Database:
    if backend != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    return db


SEED_END = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


async def seed_org(db: Database, settings: Settings) -> OrgInfo:
    """An organization with rows in every tenant table: a small demo program, a key, an export.

    A new tenant table needs a row here too: `two_orgs` checks.
    """
    org = await create_org(
        db,
        f"rls-{uuid.uuid4().hex[:10]}",
        name="RLS",
        time_zone="Asia/Kolkata",
        hierarchy=True,
        surveys=True,
        extended_attributes=list(EXTENDED_ATTRIBUTES),
    )
    # A fixed end: the generator is deterministic for it, and this program has rows of every
    # kind (ending "now", a small program had no lead in some minutes: a flaky seed).
    events = generate_demo_events(
        members=60, days=120, end=SEED_END, has_surveys=True, has_hierarchy=True
    )
    outcome = await Importer(db, org).run(enumerate(events, 1))
    assert outcome.error is None, outcome.error
    await create_api_key(db, org, list(SCOPES), name="rls")
    email = f"{org.slug}@staff.example.com"
    await create_user(db, org, email=email, role="ADMIN", password="rls password 123")
    assert await Authenticator(db, "secret").login(email, "rls password 123", "192.0.2.1")
    principal = Principal(org=org, scopes=frozenset(SCOPES), key_id=1)
    await request_export(
        db,
        settings,
        principal,
        kind="CUSTOMER_TAB",
        params={"tab": "POINTS_ACTIVITY", "customerId": "any"},
        delivery="DOWNLOAD",
        email=None,
    )
    return org


_SEEDED: dict[str, tuple[OrgInfo, OrgInfo]] = {}


@pytest_asyncio.fixture(loop_scope="session")
async def two_orgs(pg: Database) -> tuple[OrgInfo, OrgInfo]:
    """Orgs A and B, both with rows in every tenant table (seeded once per database)."""
    if pg.url not in _SEEDED:
        settings = Settings(_env_file=None, database_url=pg.url)  # type: ignore[call-arg]
        a, b = await seed_org(pg, settings), await seed_org(pg, settings)
        owner = await asyncpg.connect(dsn(OWNER_URLS[pg.url]))
        try:
            for name in await tenant_tables(owner):
                counts = dict(
                    await owner.fetch(
                        f"SELECT org_id, count(*) FROM {name} "
                        "WHERE org_id = ANY($1::bigint[]) GROUP BY org_id",
                        [a.id, b.id],
                    )
                )
                # Otherwise "no row of B" below would prove nothing for this table.
                assert counts.get(a.id) and counts.get(b.id), f"{name}: seed both orgs ({counts})"
        finally:
            await owner.close()
        _SEEDED[pg.url] = (a, b)
    return _SEEDED[pg.url]


@pytest_asyncio.fixture(loop_scope="session")
async def app_conn(pg: Database) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection as the app's role (not the owner, not a superuser)."""
    conn = await asyncpg.connect(dsn(pg.url))
    try:
        assert await conn.fetchval("SELECT current_user") == APP_ROLE
        yield conn
    finally:
        await conn.close()


async def test_the_app_role_cannot_bypass_row_level_security(app_conn: asyncpg.Connection) -> None:
    role = await app_conn.fetchrow(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert not role["rolsuper"] and not role["rolbypassrls"]
    owned = await app_conn.fetchval(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    )
    assert owned == 0, "the app role must own no table (an owner could switch RLS off)"


async def test_every_org_id_table_has_row_level_security_forced_with_the_policy(
    app_conn: asyncpg.Connection,
) -> None:
    tables = await tenant_tables(app_conn)
    assert "customers" in tables and "audit_events" in tables
    rows = {
        r["relname"]: r
        for r in await app_conn.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "array_agg(p.polname) FILTER (WHERE p.polname IS NOT NULL) AS policies "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' GROUP BY 1, 2, 3"
        )
    }
    missing = [
        f"{t}: {'' if rows[t]['relrowsecurity'] else 'RLS not enabled '}"
        f"{'' if rows[t]['relforcerowsecurity'] else 'RLS not forced '}"
        f"{'' if POLICY in (rows[t]['policies'] or []) else 'no ' + POLICY}"
        f"{'' if OWNER_POLICY in (rows[t]['policies'] or []) else ' no ' + OWNER_POLICY}"
        for t in tables
        if not (
            rows[t]["relrowsecurity"]
            and rows[t]["relforcerowsecurity"]
            and {POLICY, OWNER_POLICY} <= set(rows[t]["policies"] or [])
        )
    ]
    assert missing == [], "tenant tables without row-level security: " + "; ".join(missing)
    # '*' is honoured for the tables' owner alone: never PUBLIC (0), never the app's role.
    grantees = {
        r["relname"]: (r["roles"], r["owner"])
        for r in await app_conn.fetch(
            "SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, "
            "array(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END "
            "FROM unnest(p.polroles) AS r) AS roles "
            "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.polname = $1",
            OWNER_POLICY,
        )
    }
    assert set(grantees) == set(tables)
    assert {t: roles for t, (roles, owner) in grantees.items() if roles != [owner]} == {}
    # The app's own fail-closed guard and RLS cover the same tables.
    marked = sorted(t.name for t in metadata.sorted_tables if is_tenant_table(t))
    assert sorted(set(tables) & {t.name for t in metadata.sorted_tables}) == marked


async def bound(conn: asyncpg.Connection, org_id: int | str) -> None:
    await conn.execute("SELECT set_config($1, $2, true)", ORG_SETTING, str(org_id))


async def test_bound_to_org_a_raw_sql_sees_no_row_of_org_b(
    app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    a, b = two_orgs
    for name in await tenant_tables(app_conn):
        async with app_conn.transaction():
            await bound(app_conn, a.id)
            # No WHERE on org_id: the policy alone decides what this statement sees.
            seen = dict(await app_conn.fetch(f"SELECT org_id, count(*) FROM {name} GROUP BY 1"))
        assert seen.get(a.id), f"{name}: org A's own rows must stay visible"
        assert b.id not in seen and set(seen) == {a.id}, f"{name}: other orgs' rows under A: {seen}"


async def test_all_orgs_binding_shows_the_app_role_no_row(
    app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    # What SQL injected through the app's connection would try first.
    for name in await tenant_tables(app_conn):
        async with app_conn.transaction():
            await app_conn.execute("SELECT set_config('m360.org_id', '*', true)")
            assert await app_conn.fetchval(f"SELECT count(*) FROM {name}") == 0, name
    a, _ = two_orgs
    async with app_conn.transaction():
        await bound(app_conn, "*")
        changed = await app_conn.execute("UPDATE customers SET name = 'taken'")
        assert changed == "UPDATE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with app_conn.transaction():
            await bound(app_conn, "*")
            await app_conn.execute(
                "INSERT INTO audit_events (org_id, at, actor, action) "
                "VALUES ($1, now(), 'intruder', 'rls.probe')",
                a.id,
            )
    # Nor can the app's role become the owner, for whom '*' is honoured.
    owner = await app_conn.fetchval(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'customers'"
    )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await app_conn.execute(f'SET ROLE "{owner}"')


async def test_app_sessions_bind_their_org_to_every_transaction(
    pg: Database, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    a, b = two_orgs
    # Text SQL escapes the app's guard (it sees no mapped table): RLS alone scopes it.
    orgs_of = text("SELECT DISTINCT org_id FROM customers")
    async with pg.session(a.id) as session:
        assert set((await session.scalars(orgs_of)).all()) == {a.id}
        await session.commit()
        # A new transaction in the same session is bound again.
        assert set((await session.scalars(orgs_of)).all()) == {a.id}
    async with pg.session(ALL_ORGS) as session:  # the owner's binding: nothing for the app
        assert (await session.scalars(orgs_of)).all() == []
    async with pg.session(None) as session:
        assert (await session.scalars(orgs_of)).all() == []
    async with pg.session(None) as session, session.begin():
        assert (await session.scalars(orgs_of)).all() == []
        await rebind(session, b.id)  # mid-transaction, as creating an org does
        assert set((await session.scalars(orgs_of)).all()) == {b.id}


async def test_without_a_binding_every_tenant_table_is_empty(
    app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    for name in await tenant_tables(app_conn):
        # Outside any binding, and after a bound transaction ended (the setting is local).
        assert await app_conn.fetchval(f"SELECT count(*) FROM {name}") == 0, name
        async with app_conn.transaction():
            await bound(app_conn, two_orgs[0].id)
        assert await app_conn.fetchval(f"SELECT count(*) FROM {name}") == 0, name
        async with app_conn.transaction():
            await bound(app_conn, "")
            assert await app_conn.fetchval(f"SELECT count(*) FROM {name}") == 0, name


async def test_writes_of_org_b_rows_under_org_a_are_refused(
    pg: Database, app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    a, b = two_orgs
    # INSERT of a row naming org B: the policy's check refuses it.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with app_conn.transaction():
            await bound(app_conn, a.id)
            await app_conn.execute(
                "INSERT INTO audit_events (org_id, at, actor, action) "
                "VALUES ($1, now(), 'intruder', 'rls.probe')",
                b.id,
            )
    # UPDATE and DELETE of org B's rows: they are not there to change.
    async with app_conn.transaction():
        await bound(app_conn, a.id)
        updated = await app_conn.execute(
            "UPDATE customers SET name = 'taken' WHERE org_id = $1", b.id
        )
        deleted = await app_conn.execute("DELETE FROM api_keys WHERE org_id = $1", b.id)
    assert (updated, deleted) == ("UPDATE 0", "DELETE 0")
    # Moving one of A's rows to org B is refused too.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with app_conn.transaction():
            await bound(app_conn, a.id)
            await app_conn.execute(
                "UPDATE customers SET org_id = $2 WHERE id = "
                "(SELECT min(id) FROM customers WHERE org_id = $1)",
                a.id,
                b.id,
            )
    # Unbound: nothing may be written at all.
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with app_conn.transaction():
            await app_conn.execute(
                "INSERT INTO audit_events (org_id, at, actor, action) "
                "VALUES ($1, now(), 'intruder', 'rls.probe')",
                a.id,
            )
    owner = await asyncpg.connect(dsn(OWNER_URLS[pg.url]))
    try:
        assert (
            await owner.fetchval(
                "SELECT count(*) FROM customers WHERE org_id = $1 AND name = 'taken'", b.id
            )
            == 0
        )
        assert await owner.fetchval("SELECT count(*) FROM api_keys WHERE org_id = $1", b.id) > 0
    finally:
        await owner.close()


async def test_migrate_refuses_an_app_role_that_would_bypass_rls(pg: Database) -> None:
    owner = Database(OWNER_URLS[pg.url], pool_size=1)
    try:
        await migrate(owner, app_role=APP_ROLE)  # again: the grants are idempotent
        superuser = make_url(OWNER_URLS[pg.url]).username
        with pytest.raises(AppRoleError, match="superuser, so row-level security"):
            await migrate(owner, app_role=superuser)
        with pytest.raises(AppRoleError, match="does not exist"):
            await migrate(owner, app_role=f"m360_missing_{uuid.uuid4().hex[:8]}")
    finally:
        await owner.dispose()


def test_settings_migration_url_and_app_role() -> None:
    plain = Settings(_env_file=None, database_url="postgresql://app@h/db")  # type: ignore[call-arg]
    assert plain.migration_url == "postgresql+asyncpg://app@h/db"
    split = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url="postgresql://app@h/db",
        migration_database_url="postgres://owner@h/db",
        app_db_role="member360_app",
    )
    assert split.migration_url == "postgresql+asyncpg://owner@h/db"
    assert split.app_db_role == "member360_app"
    with pytest.raises(ValueError, match="M360_APP_DB_ROLE must be a plain role name"):
        Settings(_env_file=None, app_db_role='app"; DROP TABLE customers; --')  # type: ignore[call-arg]


async def test_email_lookup_and_text_search_keep_their_indexes_under_rls(
    pg: Database, app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    # Under RLS only LEAKPROOF conditions may be index conditions; migration 0005 marks lower(),
    # LIKE and || so (as a superuser, as here). Without it these fall back to a filter over the
    # organization's every member.
    a, _ = two_orgs
    # The email lookup's index leads with org_id, so its plan does not depend on statistics.
    async with app_conn.transaction():
        await bound(app_conn, a.id)
        await app_conn.execute("SET LOCAL enable_seqscan = off")
        explained = await app_conn.fetch(
            f"EXPLAIN SELECT id FROM customers WHERE org_id = {a.id} "
            "AND lower(email) = 'x@example.com'"
        )
    plan = "\n".join(r[0] for r in explained)
    conds = [line for line in plan.splitlines() if "Index Cond" in line]
    assert "ix_customers_org_email" in plan and any("lower((email)" in c for c in conds), plan
    # The trigram search's plan does: the policy's org_id condition (0007) can use the org
    # index too, and whether it wins depends on how many organizations the shared test
    # database holds by then. What lets the trigram index serve it at all is that every
    # function the condition calls is LEAKPROOF, so that is what is checked.
    for function in ("lower(text)", "textlike(text, text)", "textcat(text, text)"):
        leakproof = await app_conn.fetchval(
            "SELECT proleakproof FROM pg_proc WHERE oid = $1::regprocedure", function
        )
        assert leakproof, f"{function} is not LEAKPROOF: text searches scan the organization"


async def test_rls_bypass_names_a_superuser_connection_and_passes_the_app_role(
    pg: Database,
) -> None:
    assert await rls_bypass(pg) is None
    owner = Database(OWNER_URLS[pg.url], pool_size=1)
    try:
        reason = await rls_bypass(owner)
    finally:
        await owner.dispose()
    assert reason is not None and "a superuser: row-level security does not apply" in reason


LOOKUPS = {
    "m360_org_of_api_key": "SELECT key_hash FROM api_keys",
    "m360_org_of_session": "SELECT token_hash FROM user_sessions",
    "m360_org_of_user": "SELECT email FROM users",
}
DISCOVERY = ("m360_orgs_with_due_lots", "m360_runnable_export_jobs", "m360_export_jobs_owing_mail")


async def test_lookups_answer_only_an_exact_match_and_only_with_its_org_id(
    app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    a, b = two_orgs
    for function, own_values in LOOKUPS.items():
        async with app_conn.transaction():
            await bound(app_conn, a.id)
            value = await app_conn.fetchval(own_values + " ORDER BY 1 LIMIT 1")
        # Asked with no binding, and with another org's or the owner's binding: the same answer.
        for binding in ("", str(b.id), "*"):
            async with app_conn.transaction():
                await bound(app_conn, binding)
                assert await app_conn.fetchval(f"SELECT {function}($1)", value) == a.id
        # Nothing but the exact value answers: no pattern, prefix, case, empty or injected match.
        probes = (None, "", "%", "_%", "*", value[:-1], value[:8] + "%", value + "%",
                  value.upper(), f"{value}' OR true --", f"x' OR org_id = {b.id} --")  # fmt: skip
        for probe in probes:
            found = await app_conn.fetchval(f"SELECT {function}($1)", probe)
            assert found is None, (function, probe, found)


async def test_lookup_functions_are_narrow_definer_functions_only_the_app_may_call(
    app_conn: asyncpg.Connection, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    rows = await app_conn.fetch(
        "SELECT p.proname, p.prosecdef, p.proconfig, p.provolatile::text AS volatility, "
        "pg_get_function_result(p.oid) AS result, "
        "has_function_privilege('public', p.oid, 'EXECUTE') AS public_may, "
        "has_function_privilege(current_user, p.oid, 'EXECUTE') AS app_may "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'public' AND p.proname LIKE 'm360\\_%'"
    )
    assert sorted(r["proname"] for r in rows) == sorted([*LOOKUPS, *DISCOVERY])
    for r in rows:
        assert r["prosecdef"] and r["volatility"] == "s", r["proname"]
        assert r["app_may"] and not r["public_may"], r["proname"]
        # A caller's objects cannot stand in for the ones the function reads.
        assert r["proconfig"] == ["search_path=pg_catalog, pg_temp"], r["proname"]
        # Ids only, never a tenant row's content.
        assert r["result"] in ("bigint", "SETOF bigint", "TABLE(org_id bigint, job_id bigint)")
    # What the discovery functions tell the app: where work is, as ids.
    a, b = two_orgs
    runnable = await app_conn.fetch("SELECT * FROM m360_runnable_export_jobs(now(), NULL)")
    assert {a.id, b.id} <= {r["org_id"] for r in runnable}
    assert all(isinstance(r["job_id"], int) for r in runnable)


async def test_cross_org_work_finds_every_organization(db: Database) -> None:
    """The expiry sweep and export take-over, under the app's role on PostgreSQL."""
    settings = Settings(_env_file=None, database_url=db.url, job_lease_seconds=30)  # type: ignore[call-arg]
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    orgs, jobs = [], []
    for _ in range(2):
        org = await create_org(db, f"sys-{uuid.uuid4().hex[:10]}", name="Sys", time_zone="UTC")
        expiring = earn("c1", 9, when=(soon - dt.timedelta(days=1)).isoformat(),
                        expiresAt=soon.isoformat())  # fmt: skip
        await ingest_ok(db, org, make_customer("c1"), expiring)
        principal = Principal(org=org, scopes=frozenset(SCOPES), key_id=1)
        job = await request_export(
            db,
            settings,
            principal,
            kind="CUSTOMER_TAB",
            params={"tab": "POINTS_ACTIVITY", "customerId": "c1"},
            delivery="EMAIL",
            email="ops@example.com",
        )
        orgs.append(org)
        jobs.append(job)

    assert await expire_all(db, soon + dt.timedelta(seconds=1)) >= 18
    assert [await balance(db, org, "c1") for org in orgs] == [0, 0]

    async with db.session(None) as session:
        found = await runnable_export_jobs(session, dt.datetime.now(dt.UTC))
    assert {(job.org_id, job.id) for job in jobs} <= set(found)
    crashed = JobRunner(db, settings)
    # A task without its organization (deferred before 0007) finds its job through the lookup.
    first = await crashed.claim(jobs[0].id)
    assert first is not None and (first.org_id, first.attempts) == (orgs[0].id, 1)
    # Its runner dies: once the lease lapses another runner takes the job over.
    async with db.session(orgs[0].id) as session, session.begin():
        await session.execute(
            update(ExportJob)
            .where(ExportJob.id == first.id)
            .values(lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    other = JobRunner(db, settings)
    taken = await other.claim(jobs[0].id, orgs[0].id)
    assert taken is not None and (taken.worker_id, taken.attempts) == (other.worker_id, 2)
    second = await other.claim(jobs[1].id, orgs[1].id)
    assert second is not None and second.org_id == orgs[1].id
    # Both fail for good: each requester is owed a mail, found across organizations.
    for job in jobs:
        async with db.session(job.org_id) as session, session.begin():
            await session.execute(
                update(ExportJob)
                .where(ExportJob.id == job.id)
                .values(status="FAILED", run_after=dt.datetime.now(dt.UTC))
            )
    async with db.session(None) as session:
        owed = await export_jobs_owing_mail(
            session, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        )
    assert {(job.org_id, job.id) for job in jobs} <= set(owed)


async def test_under_an_owner_that_is_no_superuser_lookups_and_sweeps_still_work(
    pg: Database,
) -> None:
    """Managed PostgreSQL: the tables' owner is held to row-level security itself (FORCE)."""
    suffix = uuid.uuid4().hex[:8]
    owner_role, member_role, name = (
        f"m360_owner_{suffix}",
        f"m360_member_{suffix}",
        f"m360_test_{suffix}",
    )
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    owner = Database(pg_url(name, owner_role), pool_size=1)
    app = Database(pg_url(name, APP_ROLE))
    try:
        await admin.execute(f'CREATE ROLE "{owner_role}" LOGIN NOSUPERUSER NOBYPASSRLS')
        await admin.execute(f'CREATE ROLE "{member_role}" LOGIN IN ROLE "{owner_role}"')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner_role}"')
        await migrate(owner, app_role=APP_ROLE)
        # An app role that may act as the owner would see every organization.
        with pytest.raises(AppRoleError, match="member of"):
            await migrate(owner, app_role=member_role)

        soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        orgs, keys = [], []
        for _ in range(2):
            org = await create_org(app, f"own-{uuid.uuid4().hex[:8]}", name="O", time_zone="UTC")
            expiring = earn("c1", 5, when=(soon - dt.timedelta(days=1)).isoformat(),
                            expiresAt=soon.isoformat())  # fmt: skip
            await ingest_ok(app, org, make_customer("c1"), expiring)
            keys.append(await create_api_key(app, org, ["customers:read"]))
            orgs.append(org)
        email = f"{orgs[1].slug}@staff.example.com"
        await create_user(app, orgs[1], email=email, role="AGENT", password="owner password 1")

        resolver = KeyResolver(app)
        assert [(await resolver.resolve(k)).org.id for k in keys] == [o.id for o in orgs]  # type: ignore[union-attr]
        users = Authenticator(app, "secret")
        signed_in = await users.login(email, "owner password 1", "192.0.2.7")
        assert signed_in is not None and signed_in.principal.org.id == orgs[1].id
        resolved = await users.resolve(signed_in.token)
        assert resolved is not None and resolved.principal.org.id == orgs[1].id
        assert await expire_all(app, soon + dt.timedelta(seconds=1)) == 10

        owner_conn = await asyncpg.connect(dsn(owner.url))
        app_raw = await asyncpg.connect(dsn(app.url))
        try:
            for conn, expected in ((owner_conn, {o.id for o in orgs}), (app_raw, set())):
                async with conn.transaction():
                    await bound(conn, "*")
                    seen = {r[0] for r in await conn.fetch("SELECT DISTINCT org_id FROM api_keys")}
                assert seen == expected
        finally:
            await owner_conn.close()
            await app_raw.close()
    finally:
        await owner.dispose()
        await app.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{member_role}"')
        await admin.execute(f'DROP ROLE IF EXISTS "{owner_role}"')
        await admin.close()


async def test_a_compiled_read_sees_only_the_organization_it_names(
    pg: Database, two_orgs: tuple[OrgInfo, OrgInfo]
) -> None:
    """The compiled statement (member360.reads) binds its organization for row-level security
    itself: bound to A it finds A's members; told to filter on A but bound to B, row-level
    security leaves it nothing, whatever its own conditions say."""
    a, b = two_orgs
    document = parse('{ customers(search: "a", first: 5) { edges { node { customerId } } } }')
    variables = get_variable_values(schema._schema, (), {})
    caller = Caller(pii=True, scopes=frozenset(SCOPES))
    chosen = plan(schema._schema, document, None, variables, "postgresql", caller)
    now = dt.datetime.now(dt.UTC)

    async def members(org_id: int, named: int) -> list[object]:
        values = chosen.parameters(variables, org_id, "UTC", now) | {"org_text": str(named)}
        async with pg.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            data = (await autocommit.execute(chosen.statement, values)).scalar_one()
        return list(orjson.loads(data)["customers"]["edges"])

    assert await members(a.id, a.id)
    assert await members(a.id, b.id) == []
