"""Profiles the importer on the first N events of a JSONL file, into a fresh PostgreSQL database.

    python -m bench.profile.importer --events 100000 [--file bench/datasets/import-1000000.jsonl]

Runs `member360.ingest.importer.Importer` in this process (as `member360 import` does, batch
size from the settings) under pyinstrument, times every SQL statement by shape (SQLAlchemy
before/after_cursor_execute: wall time including the round trip), and measures the CPU of this
process and of the database backend. Writes bench/results/profile-import.{html,json} and prints
a summary: events/s, where the wall time goes (Python by library, SQL by statement shape).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
from pyinstrument import Profiler
from sqlalchemy import event

from bench.common import DATA, RESULTS, TIME_ZONE, pg_url, recreate_pg_database, sqlalchemy_url


def _shape(statement: str) -> str:
    text = " ".join(statement.split())
    m = re.match(r"(SELECT .*? FROM (\w+)|INSERT INTO (\w+)|UPDATE (\w+)|COPY (\S+)|\w+)", text)
    if not m:
        return text[:40]
    verb = text.split(" ", 1)[0].upper()
    name = next((g for g in m.groups()[1:] if g), "")
    return f"{verb} {name}".strip()


async def profile(args: argparse.Namespace) -> dict[str, Any]:
    from member360.config import get_settings
    from member360.db import Database
    from member360.ingest.importer import Importer
    from member360.migrate import migrate
    from member360.orgs.service import create_org

    url = sqlalchemy_url(pg_url(args.db))
    await recreate_pg_database(url)
    db = Database(url)
    await migrate(db)
    org = await create_org(
        db, "import", name="Import Profile", time_zone=TIME_ZONE, hierarchy=True, surveys=True
    )
    counts: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    engine = db.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        conn.info.setdefault("bench_t", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        shape = _shape(statement)
        counts[shape] += 1
        seconds[shape] += time.perf_counter() - conn.info["bench_t"].pop()

    # The unit of work writes through the driver (COPY, UPDATE … FROM unnest), not SQLAlchemy.
    import asyncpg.connection

    driver: dict[str, Any] = {"copy_calls": 0, "copy_rows": 0, "copy_s": 0.0}
    driver |= {"execute_calls": 0, "execute_s": 0.0}
    original_copy = asyncpg.connection.Connection.copy_records_to_table
    original_execute = asyncpg.connection.Connection.execute

    async def copy(self: Any, table_name: str, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return await original_copy(self, table_name, *a, **kw)
        finally:
            driver["copy_calls"] += 1
            driver["copy_rows"] += len(kw.get("records") or [])
            driver["copy_s"] += time.perf_counter() - t

    async def execute(self: Any, query: str, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return await original_execute(self, query, *a, **kw)
        finally:
            driver["execute_calls"] += 1
            driver["execute_s"] += time.perf_counter() - t

    asyncpg.connection.Connection.copy_records_to_table = copy  # type: ignore[method-assign]
    asyncpg.connection.Connection.execute = execute  # type: ignore[method-assign]

    def lines() -> Any:
        with Path(args.file).open("rb") as handle:
            for number, line in enumerate(itertools.islice(handle, args.events), 1):
                yield number, orjson.loads(line)

    importer = Importer(db, org, batch_size=get_settings().import_batch_size)
    profiler = Profiler(interval=0.001, async_mode="enabled")
    cpu = time.process_time()
    started = time.perf_counter()
    profiler.start()
    outcome = await importer.run(lines())
    profiler.stop()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    await db.dispose()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "profile-import.html").write_text(profiler.output_html())
    profiler.last_session.save(str(RESULTS / "profile-import.pyisession"))
    from bench.profile.app import summarise_session

    by_library = summarise_session(profiler.last_session)
    total = sum(by_library.values()) or 1.0
    shapes = sorted(counts, key=lambda s: -seconds[s])
    result = {
        "events": args.events,
        "applied": outcome.applied,
        "error": str(outcome.error) if outcome.error else None,
        "wall_s": round(wall, 1),
        "events_per_s": round(outcome.applied / wall),
        "process_cpu_pct": round(100 * cpu / wall, 1),
        "statements": sum(counts.values()),
        "sql_wall_s": round(sum(seconds.values()), 1),
        "driver": {k: round(v, 2) if isinstance(v, float) else v for k, v in driver.items()},
        "batches": -(-args.events // get_settings().import_batch_size),
        "sql_by_shape": [
            {"shape": s, "count": counts[s], "seconds": round(seconds[s], 2)} for s in shapes[:15]
        ],
        "wall_share_pct": {k: round(100 * v / total, 1) for k, v in by_library.items()},
    }
    (RESULTS / "profile-import.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile.importer")
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--file", default=str(DATA / "import-1000000.jsonl"))
    p.add_argument("--db", default="m360_bench_import_profile", help="database (recreated)")
    result = asyncio.run(profile(p.parse_args(argv)))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
