"""Engine, sessions, column types and the fail-closed tenant guard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    any_,
    event,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.util import find_tables
from sqlalchemy.types import JSON, TypeDecorator
from sqlmodel import SQLModel

from member360 import sqlfunctions

UTC = dt.UTC

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

# 64-bit ids on PostgreSQL; on SQLite an INTEGER PRIMARY KEY is the (64-bit) rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores instants in UTC and always hands back aware UTC datetimes.

    SQLite has no time zones, so it keeps naive UTC text; PostgreSQL keeps timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TenantNotBound(RuntimeError):
    """A statement touched a tenant table from a session bound to no organization."""


# Every organization at once: what migrations bind (0005's policy honoured it for any role).
# Since 0007 only the tables' owner sees every organization, bound or not; under the app's
# role this binding shows no tenant row, and the app asks its few cross-organization
# questions through member360.crossorg instead. On SQLite it passes the guard.
ALL_ORGS = "*"
# SQLite has no row-level security: there, member360.crossorg asks its questions as plain
# queries across organizations, and this execution option lets exactly those past the guard.
ACROSS_ORGS = "m360_across_orgs"


def is_tenant_table(table: Any) -> bool:
    return isinstance(table, Table) and bool(table.info.get("tenant"))


def table(name: str) -> Table:
    """The table of that name, for statements in SQLAlchemy Core (every read, the import).

    Model modules put their tables on `metadata` when imported, and member360.models imports
    them all. It is imported on the first lookup rather than at the top of this module, which
    every model module imports: a module can then name any table without importing the
    package that defines it.
    """
    found = metadata.tables.get(name)
    if found is None:
        import member360.models  # noqa: F401  (registers every table on the metadata)

        found = metadata.tables[name]
    return found


class TenantSession(Session):
    """Session whose `info["org_id"]` must be set before any tenant table is touched."""


@event.listens_for(TenantSession, "do_orm_execute")
def _guard_tenant(state: ORMExecuteState) -> None:
    org_id = state.session.info.get("org_id")
    if org_id is not None:
        return
    if state.execution_options.get(ACROSS_ORGS):
        if state.session.get_bind().dialect.name == "sqlite":
            return
    # An ORM execution's statement is always a clause (select, insert, update, delete, text).
    statement = cast(ClauseElement, state.statement)
    tables = find_tables(statement, include_crud=True, include_joins=True, include_aliases=True)
    touched = sorted({t.name for t in tables if is_tenant_table(t)})
    if touched:
        raise TenantNotBound(f"no organization bound for a query on {', '.join(touched)}")


# Row-level security (PostgreSQL, migrations 0005 and 0007): every table with an org_id column
# shows a transaction only the rows of the organization named by this setting, and none when it
# is unset, empty or ALL_ORGS (the tables' owner alone sees every row). It is transaction-local
# (set_config's is_local), so a pooled connection never carries one request's organization
# into the next.
ORG_SETTING = "m360.org_id"
_BIND_ORG = text(f"SELECT set_config('{ORG_SETTING}', :org, true)")


def bind_org(connection: Connection, org_id: int | str | None) -> None:
    """Names the organization the current transaction may see (PostgreSQL; a no-op elsewhere).

    Sessions do this themselves when they begin; raw connections that read or write tenant
    tables (migrations, COPY outside a session) call it inside their transaction.
    """
    if connection.dialect.name != "postgresql":
        return
    connection.execute(_BIND_ORG, {"org": "" if org_id is None else str(org_id)})


@event.listens_for(TenantSession, "after_begin")
def _bind_transaction(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    # One cheap statement per transaction. An unbound session skips it: the setting is then
    # unset (or empty after an earlier transaction on the connection), which RLS reads as "no
    # rows", and the guard above already refuses mapped tenant tables.
    org_id = session.info.get("org_id")
    if org_id is not None:
        bind_org(connection, org_id)


async def rebind(session: AsyncSession, org_id: int | str) -> None:
    """Moves a session, possibly mid-transaction, to another organization (e.g. a new org)."""
    session.sync_session.info["org_id"] = org_id
    if session.in_transaction():
        connection = await session.connection()
        await connection.run_sync(bind_org, org_id)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; busy_timeout makes writers queue, not fail.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # What the compiled reads call where SQLite has no SQL of its own (time zones, base64).
    sqlfunctions.register(dbapi_conn)


class Database:
    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("postgresql"):
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=TenantSession
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, org_id: int | str | None) -> AsyncSession:
        """A new session bound to one organization (None: to none, until `rebind`)."""
        session = self._sessions()
        session.sync_session.info["org_id"] = org_id
        return session

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def refresh_statistics(self) -> None:
        """Gives SQLite's planner fresh table statistics (PostgreSQL's autovacuum does this).

        Without statistics SQLite guesses, and with the report's indexes on points_activities
        it can guess an org-wide index for a member's history (measured: the customer page fell
        to 0.3 req/s on 1M activities until ANALYZE). `analysis_limit` samples a few hundred
        rows per index, so this takes milliseconds even on millions of rows.
        """
        if self.dialect != "sqlite":
            return
        async with self.engine.begin() as conn:
            await conn.exec_driver_sql("PRAGMA analysis_limit=400")
            await conn.exec_driver_sql("ANALYZE")


def one_of(column: ColumnElement[Any], values: Sequence[Any], dialect: str) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL as `= ANY(array)`.

    One array parameter keeps the statement text (and so its prepared plan) the same whatever
    the number of values, and lets the planner use the composite indexes.
    """
    if dialect == "postgresql":
        kind = BigInteger() if values and isinstance(next(iter(values)), int) else String()
        return column == any_(literal(list(values), ARRAY(kind)))
    return column.in_(list(values))


def tenant_table(cls: type) -> type:
    """Class decorator marking a SQLModel table as belonging to an organization."""
    cls.__table__.info["tenant"] = True  # type: ignore[attr-defined]
    return cls
