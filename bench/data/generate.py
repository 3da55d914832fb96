"""Generates the benchmark data set: members with two years of history, written directly.

    python -m bench.data.generate --db postgresql --members 100000 --activities 5000000
    python -m bench.data.generate --db sqlite --members 20000 --activities 1000000

The database is created from scratch with the project's Alembic migration and one organization
(`member360.orgs.service.create_org`); the simulator (`bench.data.simulate`) applies the ledger
rules and worker processes simulate chunks of members while the main process writes them: COPY
(asyncpg `copy_records_to_table`) on PostgreSQL, executemany on SQLite. Secondary indexes are
dropped during the load and rebuilt from their own definitions afterwards; sequences are set
past the ids written; then VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite). Memory stays
bounded: at most workers + 1 chunks exist at any time. `--check` verifies the ledger invariants
in SQL once the data is in.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import datetime as dt
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bench.common import (
    DEFAULT_PG_DB,
    DEFAULT_SQLITE,
    ORG_SLUG,
    TIME_ZONE,
    Manifest,
    asyncpg_dsn,
    pg_url,
    recreate_pg_database,
    sqlalchemy_url,
    sqlite_path,
    sqlite_url,
)
from bench.data.simulate import (
    CATALOG_COLUMNS,
    COLUMNS,
    SEARCH_TERMS,
    TABLES,
    Simulator,
    catalog_rows,
    shift_ids,
)
from member360.db import UTCDateTime, table

# ---------------------------------------------------------------------- simulation workers

_SIM: Simulator | None = None


def _init_worker(params: dict[str, Any]) -> None:
    global _SIM
    _SIM = Simulator(**params)


def _simulate(start: int, count: int) -> dict[str, list[list[Any]]]:
    assert _SIM is not None
    return _SIM.chunk(start, count).rows


# ---------------------------------------------------------------------- writers


class PostgresWriter:
    def __init__(self, url: str) -> None:
        self.url = url
        self.indexes: list[tuple[str, str]] = []

    async def open(self) -> None:
        import asyncpg

        self.conn = await asyncpg.connect(asyncpg_dsn(self.url))
        # Rows are generated consistent; skipping the foreign-key triggers makes COPY ~2x faster.
        await self.conn.execute("SET session_replication_role = replica")
        await self.conn.execute("SET maintenance_work_mem = '512MB'")

    async def drop_indexes(self) -> None:
        rows = await self.conn.fetch(
            """
            SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
            FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
            WHERE t.relname = ANY($1::text[]) AND NOT i.indisprimary AND NOT i.indisunique
            """,
            list(TABLES),
        )
        self.indexes = [(r["name"], r["def"]) for r in rows]
        for name, _ in self.indexes:
            await self.conn.execute(f"DROP INDEX {name}")

    async def write(self, rows: dict[str, list[list[Any]]]) -> None:
        for name in TABLES:
            if rows[name]:
                await self.conn.copy_records_to_table(
                    name, records=rows[name], columns=list(COLUMNS[name])
                )

    async def finish(self, echo: Callable[[str], None]) -> None:
        for name, definition in self.indexes:
            started = time.monotonic()
            await self.conn.execute(definition)
            echo(f"  index {name}: {time.monotonic() - started:.1f} s")
        for name in TABLES:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT max(id) FROM {name}))"
            )
        started = time.monotonic()
        await self.conn.execute("VACUUM ANALYZE")
        echo(f"  VACUUM ANALYZE: {time.monotonic() - started:.1f} s")
        await self.conn.close()


def _sqlite_converters(name: str) -> list[Callable[[Any], Any] | None]:
    def instant(v: dt.datetime | None) -> str | None:
        # What SQLAlchemy's SQLite DATETIME stores for the app's UTCDateTime: naive UTC text.
        return None if v is None else v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def day(v: dt.date | None) -> str | None:
        return None if v is None else v.isoformat()

    def flag(v: bool | None) -> int | None:
        return None if v is None else int(v)

    out: list[Callable[[Any], Any] | None] = []
    for column in table(name).columns:
        if isinstance(column.type, UTCDateTime):
            out.append(instant)
        elif isinstance(column.type, sa.Date):
            out.append(day)
        elif isinstance(column.type, sa.Boolean):
            out.append(flag)
        else:
            out.append(None)
    return out


class SqliteWriter:
    def __init__(self, url: str) -> None:
        self.path = sqlite_path(url)
        self.indexes: list[tuple[str, str]] = []
        self.converters = {name: _sqlite_converters(name) for name in TABLES}

    async def open(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in ("synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY"):
            self.conn.execute(f"PRAGMA {pragma}")

    async def drop_indexes(self) -> None:
        marks = ",".join("?" * len(TABLES))
        rows = self.conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks})",
            TABLES,
        ).fetchall()
        self.indexes = [(name, sql) for name, sql in rows]
        for name, _ in self.indexes:
            self.conn.execute(f"DROP INDEX {name}")

    async def write(self, rows: dict[str, list[list[Any]]]) -> None:
        self.conn.execute("BEGIN")
        for name in TABLES:
            table_rows = rows[name]
            if not table_rows:
                continue
            convert = [(i, f) for i, f in enumerate(self.converters[name]) if f is not None]
            for row in table_rows:
                for i, f in convert:
                    row[i] = f(row[i])
            cols = COLUMNS[name]
            self.conn.executemany(
                f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                table_rows,
            )
        self.conn.execute("COMMIT")

    async def finish(self, echo: Callable[[str], None]) -> None:
        for name, definition in self.indexes:
            started = time.monotonic()
            self.conn.execute(definition)
            echo(f"  index {name}: {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        echo(f"  ANALYZE: {time.monotonic() - started:.1f} s")
        self.conn.close()


# ---------------------------------------------------------------------- checks

CHECKS = {
    "members whose balance differs from their activities or lots, or is negative": """
        WITH a AS (SELECT customer_id, sum(points) AS s FROM points_activities
                   GROUP BY customer_id),
             l AS (SELECT customer_id, sum(remaining) AS s FROM lots GROUP BY customer_id)
        SELECT count(*) FROM customers c
        LEFT JOIN a ON a.customer_id = c.id LEFT JOIN l ON l.customer_id = c.id
        WHERE c.points_balance < 0 OR c.points_balance <> coalesce(a.s, 0)
           OR c.points_balance <> coalesce(l.s, 0)
    """,
    "lots not created by an EARN or TRANSFER_IN activity": """
        SELECT count(*) FROM lots l JOIN points_activities a ON a.id = l.activity_id
        WHERE a.kind NOT IN ('EARN', 'TRANSFER_IN') OR a.points <> l.points
    """,
    "EARN / TRANSFER_IN activities without exactly one lot": """
        SELECT (SELECT count(*) FROM points_activities WHERE kind IN ('EARN', 'TRANSFER_IN'))
             - (SELECT count(DISTINCT activity_id) FROM lots)
             + (SELECT count(*) FROM lots) - (SELECT count(DISTINCT activity_id) FROM lots)
    """,
    "debits whose lot consumptions do not sum to their points": """
        WITH c AS (SELECT activity_id, sum(points) AS s FROM lot_consumptions
                   GROUP BY activity_id)
        SELECT count(*) FROM points_activities a LEFT JOIN c ON c.activity_id = a.id
        WHERE a.points < 0 AND coalesce(c.s, 0) <> -a.points
    """,
    "lots whose remaining is not points - consumed + restored": """
        WITH c AS (SELECT lot_id, sum(points) AS used, sum(restored) AS back
                   FROM lot_consumptions GROUP BY lot_id)
        SELECT count(*) FROM lots l LEFT JOIN c ON c.lot_id = l.id
        WHERE l.remaining <> l.points - coalesce(c.used, 0) + coalesce(c.back, 0)
           OR l.remaining < 0
    """,
    "activities with a wrong sign for their kind, or zero points": """
        SELECT count(*) FROM points_activities
        WHERE points = 0
           OR (kind IN ('EARN', 'RESTORE', 'TRANSFER_IN') AND points < 0)
           OR (kind IN ('REDEEM', 'REVERSAL', 'EXPIRY', 'TRANSFER_OUT') AND points > 0)
    """,
    "open lots already past their expiry": """
        SELECT count(*) FROM lots WHERE remaining > 0 AND expires_at <= :now
    """,
}


def _local_date_check(dialect: str, tz: str) -> str:
    if dialect == "postgresql":
        return (
            "SELECT count(*) FROM points_activities "
            f"WHERE local_date <> (occurred_at AT TIME ZONE '{tz}')::date"
        )
    offset = dt.datetime.now(ZoneInfo(tz)).utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    return (
        "SELECT count(*) FROM points_activities "
        f"WHERE local_date <> date(occurred_at, '{minutes:+d} minutes')"
    )


async def check(url: str, tz: str, now: dt.datetime) -> dict[str, int]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    checks = dict(CHECKS)
    checks["activities whose local_date is not their day in the org time zone"] = _local_date_check(
        engine.dialect.name, tz
    )
    found: dict[str, int] = {}
    async with engine.connect() as conn:
        for label, sql in checks.items():
            params = {"now": now if engine.dialect.name == "postgresql" else _sqlite_now(now)}
            value = (await conn.execute(sa.text(sql), params if ":now" in sql else {})).scalar()
            found[label] = int(value or 0)
    await engine.dispose()
    return found


def _sqlite_now(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------------- the run


def _remove_sqlite(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _prepare(dialect: str, url: str) -> tuple[int, ZoneInfo]:
    from member360.db import Database, bind_org
    from member360.migrate import migrate
    from member360.orgs.service import create_org

    if dialect == "postgresql":
        await recreate_pg_database(url)
    else:
        _remove_sqlite(sqlite_path(url))
    db = Database(url)
    try:
        await migrate(db)
        org = await create_org(db, ORG_SLUG, name="Bench Rewards", time_zone=TIME_ZONE)
        async with db.engine.begin() as conn:
            # The bench loads as the superuser (RLS does not apply), but name the org anyway.
            await conn.run_sync(bind_org, org.id)
            for name, rows in catalog_rows(org.id).items():
                cols = CATALOG_COLUMNS[name]
                await conn.execute(
                    table(name).insert(), [dict(zip(cols, r, strict=True)) for r in rows]
                )
            for name in TABLES:
                count = (
                    await conn.execute(sa.select(sa.func.count()).select_from(table(name)))
                ).scalar()
                assert count == 0, f"{name} is not empty"
    finally:
        await db.dispose()
    return org.id, org.tz


async def generate(args: argparse.Namespace) -> Manifest:
    dialect = args.db
    url = sqlalchemy_url(args.url)
    echo = print
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    org_id, tz = await _prepare(dialect, url)
    echo(f"{dialect}: {url} (org {ORG_SLUG!r} id {org_id}, {TIME_ZONE})")
    writer: PostgresWriter | SqliteWriter
    writer = PostgresWriter(url) if dialect == "postgresql" else SqliteWriter(url)
    await writer.open()
    await writer.drop_indexes()
    params = {
        "org_id": org_id,
        "tz": tz,
        "now": now,
        "days": args.days,
        "mean_activities": args.activities / args.members,
        "seed": args.seed,
    }
    offsets = dict.fromkeys(TABLES, 0)
    starts = [(s, min(args.chunk, args.members - s)) for s in range(0, args.members, args.chunk)]
    loop = asyncio.get_running_loop()
    done_members = 0
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=args.workers, initializer=_init_worker, initargs=(params,)
    ) as pool:
        queue: collections.deque[concurrent.futures.Future[Any]] = collections.deque()
        todo = iter(starts)
        for start, count in todo:
            queue.append(pool.submit(_simulate, start, count))
            if len(queue) > args.workers:
                break
        while queue:
            rows = await asyncio.wrap_future(queue.popleft(), loop=loop)
            nxt = next(todo, None)
            if nxt is not None:
                queue.append(pool.submit(_simulate, *nxt))
            shift_ids(rows, offsets)
            await writer.write(rows)
            for name in TABLES:
                offsets[name] += len(rows[name])
            done_members += len(rows["customers"])
            elapsed = time.monotonic() - started
            echo(
                f"  {done_members:>9,} members  {offsets['points_activities']:>11,} activities"
                f"  {sum(offsets.values()):>12,} rows  {elapsed:7.1f} s"
            )
            del rows
    load_seconds = time.monotonic() - started
    echo("rebuilding indexes and statistics…")
    await writer.finish(echo)
    seconds = time.monotonic() - started
    manifest = Manifest(
        dialect=dialect,
        url=url,
        org_slug=ORG_SLUG,
        org_id=org_id,
        time_zone=TIME_ZONE,
        members=args.members,
        customer_id_format="CUST-%07d",
        search_terms=list(SEARCH_TERMS),
        rows=dict(offsets),
        seconds=round(seconds, 1),
        seed=args.seed,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        now=now.isoformat(),
        extra={
            "days": args.days,
            "workers": args.workers,
            "chunk": args.chunk,
            "load_seconds": round(load_seconds, 1),
            "requested_activities": args.activities,
        },
    )
    if args.check:
        started = time.monotonic()
        problems = await check(url, TIME_ZONE, now)
        manifest.extra["checks"] = problems
        manifest.extra["check_seconds"] = round(time.monotonic() - started, 1)
        for label, count in problems.items():
            echo(f"  check: {label}: {count}")
        if any(problems.values()):
            manifest.save()
            raise SystemExit("the generated data breaks a ledger invariant (see above)")
    path = manifest.save()
    echo(f"done in {seconds:.0f} s; manifest {path}")
    for name, count in offsets.items():
        echo(f"  {name:<20} {count:>12,}")
    return manifest


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.data.generate", description=__doc__.split("\n")[0]
    )
    p.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    p.add_argument(
        "--url",
        help="database URL (default: m360_bench on the local server, or bench/datasets/bench.db)",
    )
    p.add_argument("--members", type=int, help="default 100000 (PostgreSQL), 20000 (SQLite)")
    p.add_argument("--activities", type=int, help="default 5000000 (PostgreSQL), 1000000 (SQLite)")
    p.add_argument("--days", type=int, default=730, help="history length (default two years)")
    p.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    p.add_argument("--chunk", type=int, default=1000, help="members simulated together")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True)
    args = p.parse_args(argv)
    pg = args.db == "postgresql"
    args.url = args.url or (pg_url(DEFAULT_PG_DB) if pg else sqlite_url(DEFAULT_SQLITE))
    args.members = args.members or (100_000 if pg else 20_000)
    args.activities = args.activities or (5_000_000 if pg else 1_000_000)
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(generate(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
