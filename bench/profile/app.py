"""Serves the API in one process under pyinstrument, timing every SQL statement, for a profile.

    M360_DATABASE_URL=… python -m bench.profile.app --port 8013 --out bench/results/profile

Profiles only between SIGUSR1 (start; the SQL counters restart too) and SIGUSR2 (stop), so the
profile covers the measured load and not the idle time around it. Runs until SIGINT/SIGTERM,
then writes OUT.pyisession (the sampled stacks, wall clock, the
main thread), OUT.html (pyinstrument's report) and OUT.sql.json: requests
served, their total wall time, and per statement shape the count and wall time (from
SQLAlchemy's before/after_cursor_execute, so it includes the wait for the event loop).
`bench.drive.run` summarises the session per library (`summarise`).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyinstrument import Profiler
from pyinstrument.session import Session
from sqlalchemy import event

if TYPE_CHECKING:  # member360 is imported in main(): `summarise` must not need it
    from member360.db import Database


class SqlStats:
    def __init__(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.reset()

    def reset(self) -> None:
        self.count.clear()
        self.seconds.clear()
        self.requests = 0
        self.request_seconds = 0.0
        self.pool = {"connect": 0, "checkout": 0}

    def attach(self, db: Database) -> None:
        engine = db.engine.sync_engine

        @event.listens_for(engine.pool, "connect")
        def connected(*args: Any) -> None:
            self.pool["connect"] += 1

        @event.listens_for(engine.pool, "checkout")
        def checked_out(*args: Any) -> None:
            self.pool["checkout"] += 1

        @event.listens_for(engine, "before_cursor_execute")
        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            conn.info.setdefault("m360_started", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            started = conn.info["m360_started"].pop()
            shape = _shape(statement)
            self.count[shape] += 1
            self.seconds[shape] += time.perf_counter() - started

    def as_json(self) -> dict[str, Any]:
        shapes = sorted(self.count, key=lambda s: -self.seconds[s])
        return {
            "requests": self.requests,
            "request_seconds": round(self.request_seconds, 3),
            "statements": sum(self.count.values()),
            "statement_seconds": round(sum(self.seconds.values()), 3),
            "pool_connects": self.pool["connect"],
            "pool_checkouts": self.pool["checkout"],
            "by_shape": [
                {"shape": s, "count": self.count[s], "seconds": round(self.seconds[s], 3)}
                for s in shapes
            ],
        }


@functools.lru_cache(maxsize=512)
def _shape(statement: str) -> str:
    """A statement's first table and filter, enough to tell the history tabs apart."""
    text = " ".join(statement.split())
    table = re.search(r"\bFROM (\w+)", text)
    kind = re.search(r"(kind = \S+|kind IN \([^)]*\)|category = \S+|redeemed_at IS NOT NULL)", text)
    label = table.group(1) if table else text[:40]
    if "running_balance" in text:
        label += " +running_balance"
    if kind:
        label += f" [{kind.group(1)}]"
    return label


def _timed(app: Any, stats: SqlStats) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") != "/graphql":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await app(scope, receive, send)
        finally:
            stats.requests += 1
            stats.request_seconds += time.perf_counter() - started

    return wrapped


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    from member360.app import create_app
    from member360.config import get_settings

    p = argparse.ArgumentParser(prog="python -m bench.profile.app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8013)
    p.add_argument("--out", type=Path, required=True, help="path prefix of the outputs")
    p.add_argument("--interval", type=float, default=0.001)
    args = p.parse_args(argv)
    settings = get_settings()
    stats = SqlStats()
    inner = create_app(settings, background=False)  # owns its Database, disposed on shutdown
    stats.attach(inner.state.db)
    config = uvicorn.Config(
        _timed(inner, stats),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        # The stdlib loop, not uvloop: pyinstrument cannot see inside uvloop's C loop (it
        # would charge everything the loop does in C, and the idle wait, to the loop itself).
        loop="asyncio",
    )
    server = uvicorn.Server(config)
    profiler = Profiler(interval=args.interval, async_mode="disabled")

    def start(*_: Any) -> None:
        if not profiler.is_running:
            stats.reset()
            profiler.start()

    def stop(*_: Any) -> None:
        if profiler.is_running:
            profiler.stop()

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the SIGINT it shut down on
        pass
    finally:
        stop()
    session = profiler.last_session
    if session is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        session.save(str(args.out.with_suffix(".pyisession")))
        args.out.with_suffix(".html").write_text(profiler.output_html())
        args.out.with_suffix(".sql.json").write_text(json.dumps(stats.as_json(), indent=2))


# ---------------------------------------------------------------------- the summary

# Where a sample's innermost Python frame lives, first match wins.
CATEGORIES = (
    ("graphql-core", "/site-packages/graphql/"),
    ("strawberry", "/site-packages/strawberry/"),
    ("SQLAlchemy", "/site-packages/sqlalchemy/"),
    ("asyncpg (Python part)", "/site-packages/asyncpg/"),
    ("aiosqlite", "/site-packages/aiosqlite/"),
    ("aiodataloader", "/site-packages/aiodataloader"),
    ("greenlet", "/site-packages/greenlet"),
    ("pydantic", "/site-packages/pydantic"),
    ("uvicorn + starlette", "/site-packages/uvicorn/"),
    ("uvicorn + starlette", "/site-packages/starlette/"),
    ("member360 (our code)", "/member360/"),
    ("bench harness", "/bench/"),
    ("zoneinfo / datetime", "zoneinfo"),
    ("asyncio (stdlib)", "/asyncio/"),
)


IO_CALLS = ("socket.send", "socket.recv", "epoll.poll", "select", "poll")


def _category(frame: Any) -> str:
    path = frame.file_path or ""
    if path == "<built-in>" and frame.function in IO_CALLS:
        return "I/O syscalls (socket send, epoll wait)"
    for label, needle in CATEGORIES:
        if needle in path:
            return label
    if path.endswith("runners.py") or "base_events.py" in path or "uvloop" in path:
        # uvloop runs in C below this frame: socket I/O, HTTP parsing, asyncpg's protocol
        # (Cython) decoding rows, and the idle wait for PostgreSQL all land here.
        return "event loop: C (uvloop, httptools, asyncpg protocol) + idle"
    if "site-packages" in path:
        return "other libraries"
    return "other stdlib"


def summarise(path: Path) -> dict[str, float]:
    """Seconds of sampled wall time per category (by the innermost Python frame)."""
    return summarise_session(Session.load(str(path)))


def summarise_session(session: Session) -> dict[str, float]:
    root = session.root_frame()
    totals: dict[str, float] = defaultdict(float)
    if root is None:
        return {}

    def walk(frame: Any, inherited: str | None) -> None:
        # Synthetic frames ("[self]", "[await]") hold their parent's time: its category; so do
        # C built-ins and small stdlib helpers (weakref, typing, …): the library calling them.
        synthetic = frame.is_synthetic or (frame.function or "").startswith("[")
        category = (inherited or "other stdlib") if synthetic else _category(frame)
        if category == "other stdlib" and inherited is not None:
            category = inherited
        own = frame.time - sum(child.time for child in frame.children)
        if own > 0:
            totals[category] += own
        for child in frame.children:
            walk(child, category)

    walk(root, None)
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    main()
