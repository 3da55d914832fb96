"""Brings a database to the newest schema (used by `serve`, `worker`, the CLI and tests).

On PostgreSQL the tables' owner migrates (M360_MIGRATION_DATABASE_URL) and the app connects as
another role (M360_APP_DB_ROLE) that row-level security holds to one organization per
transaction; after every upgrade that role is granted what the app needs on every table and
sequence and the cross-organization lookups (member360.crossorg), so tables and lookups added
by later migrations follow. When the app's URL (M360_DATABASE_URL) carries that role's
password, migrate also creates the role if it is missing and sets its password, so a
deployment needs no separate step to make it (nor to change its password).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from member360.config import Settings
from member360.db import Database

log = logging.getLogger("member360.migrate")

INI = Path(__file__).with_name("alembic.ini")
# PostgreSQL's SQLSTATE for "insufficient privilege".
INSUFFICIENT_PRIVILEGE = "42501"

# Serializes concurrent migrations (several `serve`/`worker` processes start together): their
# upgrades would be read-only at heads, but concurrent GRANTs on one table can fail.
MIGRATION_LOCK = 0x6D333630  # "m360"


class AppRoleError(RuntimeError):
    """M360_APP_DB_ROLE names a role that is missing or that row-level security would not bind."""


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(INI))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    # "heads": independent branches (e.g. report indexes, export tables) all apply.
    command.upgrade(cfg, "heads")


def ensure_app_role(connection: Connection, role: str, password: str) -> None:
    """Creates the app's login role if missing (no superuser, no BYPASSRLS, owning nothing) and
    sets its password to `password`.

    The password travels as a parameter and the server quotes it into the statement inside a
    DO block, so it appears in no statement text (not in a log_statement=ddl log either).
    Setting it needs the migrating role to manage roles (superuser, or CREATEROLE with admin
    rights on the role); without that an existing role keeps its password, with a warning.
    """
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).scalar()
    connection.execute(
        text("SELECT set_config('m360.app_role_password', :password, true)"),
        {"password": password},
    )
    # `role` is a plain identifier (Settings checks it); %I and %L quote both anyway.
    if exists:
        statement = "ALTER ROLE %I WITH LOGIN PASSWORD %L"
    else:
        statement = (
            "CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD %L"
        )
    block = (
        "DO $m360$ BEGIN EXECUTE format("
        f"'{statement}', '{role}', current_setting('m360.app_role_password')); END $m360$"
    )
    try:
        with connection.begin_nested():
            connection.execute(text(block))
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        if not exists:
            raise AppRoleError(
                f"M360_APP_DB_ROLE: role {role!r} does not exist and the migrating role may not "
                f"create it; create it first (CREATE ROLE {role} LOGIN PASSWORD '...')"
            ) from None
        log.warning(
            "M360_APP_DB_ROLE: the migrating role may not set the password of %r; if it "
            "changed, set it yourself (ALTER ROLE %s PASSWORD '...')",
            role,
            role,
        )
    finally:
        connection.execute(text("SELECT set_config('m360.app_role_password', '', true)"))


def grant_app_role(connection: Connection, role: str) -> None:
    """What the app role may do: read and write rows, draw ids; never change the schema.

    Idempotent. The role must log in without superuser or BYPASSRLS, which skip row-level
    security; owning nothing, it cannot switch RLS off either.
    """
    found = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    ).one_or_none()
    if found is None:
        raise AppRoleError(f"M360_APP_DB_ROLE: role {role!r} does not exist (create it first)")
    if found.rolsuper or found.rolbypassrls:
        what = "a superuser" if found.rolsuper else "a BYPASSRLS role"
        raise AppRoleError(
            f"M360_APP_DB_ROLE: role {role!r} is {what}, so row-level security would not "
            "apply to the app; use a plain LOGIN role"
        )
    # The all-organizations policy (0007) and the tables' ownership belong to the role
    # migrating: an app role that is (or may act as) it could read every organization.
    owner = connection.execute(
        text("SELECT current_user AS name, pg_has_role(:role, current_user, 'MEMBER') AS member"),
        {"role": role},
    ).one()
    if owner.member:
        raise AppRoleError(
            f"M360_APP_DB_ROLE: role {role!r} is, or is a member of, {owner.name!r}, the "
            "tables' owner, so it could read every organization; use a plain LOGIN role "
            "that owns nothing"
        )
    tables = connection.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename"
        )
    ).scalars()
    quoted = f'"{role}"'  # the setting admits plain identifiers only
    connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {quoted}"))
    for table in tables:
        connection.execute(
            text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public."{table}" TO {quoted}')
        )
    # Read-only: lets a CLI command run with the app's URL alone find the schema up to date.
    connection.execute(text(f"GRANT SELECT ON TABLE public.alembic_version TO {quoted}"))
    connection.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}"))
    # The cross-organization lookups of member360.crossorg (0007): no one else may call them.
    for function in lookup_functions(connection):
        connection.execute(text(f"GRANT EXECUTE ON FUNCTION {function} TO {quoted}"))


def lookup_functions(connection: Connection) -> list[str]:
    """The app's SECURITY DEFINER lookups (public.m360_*), as GRANT names them."""
    return list(
        connection.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND p.proname LIKE 'm360\\_%' ORDER BY 1"
            )
        ).scalars()
    )


async def migrate(
    db: Database,
    *,
    app_role: str | None = None,
    app_password: str | None = None,
    queue_schema: bool = False,
) -> None:
    """Upgrades `db` (connected as the tables' owner) to every head.

    app_password: create `app_role` if missing and set its password (see ensure_app_role).
    queue_schema: also apply procrastinate's schema (PostgreSQL), before the grants so that the
    app role may use its tables too.
    """
    postgresql = db.dialect == "postgresql"
    if queue_schema and postgresql:
        from member360.exports.queue import apply_queue_schema

        await apply_queue_schema(db.url)
    async with db.engine.begin() as conn:
        if postgresql:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_upgrade)
        if app_role and postgresql:
            if app_password:
                await conn.run_sync(ensure_app_role, app_role, app_password)
            await conn.run_sync(grant_app_role, app_role)
    # New indexes (and a database imported by an older version) need statistics on SQLite.
    await db.refresh_statistics()


async def rls_bypass(db: Database) -> str | None:
    """Why row-level security would not bind `db`'s role (PostgreSQL), or None."""
    if db.dialect != "postgresql":
        return None
    async with db.engine.connect() as conn:
        role = (
            await conn.execute(
                text(
                    "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user"
                )
            )
        ).one()
    if role.rolsuper or role.rolbypassrls:
        what = "a superuser" if role.rolsuper else "a BYPASSRLS role"
        return (
            f"M360_DATABASE_URL logs in as {role.rolname!r}, {what}: row-level security does "
            "not apply to the app (connect as a plain role, see M360_APP_DB_ROLE)"
        )
    return None


def app_role_password(settings: Settings) -> str | None:
    """The app role's password, when the app's own URL logs in as that role with one."""
    if not settings.app_db_role or settings.migration_database_url is None:
        return None
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql" or url.username != settings.app_db_role:
        return None
    return url.password  # type: ignore[no-any-return]


async def migrate_for(settings: Settings) -> None:
    """What `serve`, `worker` and the CLI do first: migrate through the owner's URL."""
    owner = Database(settings.migration_url, pool_size=1)
    try:
        await migrate(
            owner,
            app_role=settings.app_db_role,
            app_password=app_role_password(settings),
            queue_schema=settings.job_queue == "procrastinate",
        )
    finally:
        await owner.dispose()
