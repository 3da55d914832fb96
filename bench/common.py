"""Paths, database URLs and the manifest a generated data set leaves for `bench.drive.run`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / "datasets"  # git-ignored: databases, import files, manifests
RESULTS = BENCH / "results"  # git-ignored: raw wrk output, profiles, results JSON
VENV_BIN = ROOT / ".venv" / "bin"

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_PG_DB = "m360_bench"
DEFAULT_SQLITE = DATA / "bench.db"
ORG_SLUG = "bench"
TIME_ZONE = "Asia/Kolkata"


# The bench's own connections name themselves, so that pg_stat_activity tells them from the app's.
DRIVER_APPLICATION_NAME = "m360-bench-driver"


def pg_url(database: str, server: str = PG_SERVER) -> str:
    return f"{server.rstrip('/')}/{database}"


def asyncpg_dsn(url: str) -> str:
    """postgresql+asyncpg://… or postgresql://… -> the plain libpq form asyncpg takes."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def connect_all_orgs(url: str, *, connect_timeout: float = 10.0) -> Any:
    """An asyncpg connection of the bench itself that sees every organization's rows.

    Tenant tables are under forced row-level security, which binds the tables' owner too unless
    it is a superuser, and a connection that names no organization sees no row. The bench reads
    across organizations (which org has members, export jobs by status) over the owner's URL:
    since migration 0007 the owner's own policy shows it every organization, and ALL_ORGS,
    set here for the whole session, does the same on a database still at 0005 (whose policy
    honoured it for any role; under 0007 it shows every other role nothing).
    """
    import asyncpg

    from member360.db import ALL_ORGS, ORG_SETTING

    return await asyncpg.connect(
        asyncpg_dsn(url),
        timeout=connect_timeout,
        server_settings={ORG_SETTING: ALL_ORGS, "application_name": DRIVER_APPLICATION_NAME},
    )


def sqlalchemy_url(url: str) -> str:
    """The URL the application takes (async drivers)."""
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


def database_name(url: str) -> str:
    return urlsplit(asyncpg_dsn(url)).path.lstrip("/")


def admin_dsn(url: str) -> str:
    """The same server's maintenance database, to create or drop `url`'s database."""
    parts = urlsplit(asyncpg_dsn(url))
    return urlunsplit(parts._replace(path="/postgres"))


async def recreate_pg_database(url: str) -> None:
    import asyncpg

    name = database_name(url)
    conn = await asyncpg.connect(admin_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_pg_database(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class Manifest:
    """What `bench.data.generate` made, so `bench.drive.run` can aim at it."""

    dialect: str  # postgresql | sqlite
    url: str  # SQLAlchemy (async) URL the app uses
    org_slug: str
    org_id: int
    time_zone: str
    members: int
    customer_id_format: str  # printf format of the member ids, numbered from 1
    search_terms: list[str]
    rows: dict[str, int]
    seconds: float
    seed: int
    generated_at: str
    now: str
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def path_for(dialect: str, url: str) -> Path:
        if dialect == "postgresql":
            return DATA / f"manifest-pg-{database_name(url)}.json"
        return DATA / f"manifest-sqlite-{sqlite_path(url).stem}.json"

    def save(self) -> Path:
        path = self.path_for(self.dialect, self.url)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))
        return path

    @classmethod
    def load(cls, dialect: str, url: str) -> Manifest:
        path = cls.path_for(dialect, url)
        if not path.exists():
            raise SystemExit(
                f"no generated data for {url} ({path} is missing): run "
                f"`python -m bench.data.generate --db {dialect}` first"
            )
        return cls(**json.loads(path.read_text()))
