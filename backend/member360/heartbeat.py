"""A worker's liveness, for health checks: a heartbeat file that `member360 worker --check` reads.

`member360 worker` runs `Heartbeat.run_forever` beside its jobs: every
M360_WORKER_HEARTBEAT_SECONDS it makes a database round trip and, when the database answers,
rewrites the file (M360_WORKER_HEARTBEAT_FILE) with its pid and the time. A worker whose event
loop is stuck (a blocking call, a deadlock), whose database does not answer, or whose process
died stops renewing it, and the check fails once the last beat is older than
`STALE_AFTER_BEATS` intervals or its process is gone.

A file and not a database row: the check must tell whether *this* container's worker lives,
and procrastinate's own worker heartbeats (`procrastinate_workers`) name no host or process.
The file is per process; each container has its own, workers sharing a host need one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import text

from member360.db import Database

log = logging.getLogger("member360.heartbeat")

# Beats a worker may miss before the check calls it dead: one late beat is no outage.
STALE_AFTER_BEATS = 3


@dataclass(frozen=True)
class Beat:
    pid: int
    at: float  # seconds since the epoch


def write_beat(path: Path, beat: Beat) -> None:
    # Written beside and renamed over: the check never reads half a file.
    partial = path.with_name(f".{path.name}.{beat.pid}.tmp")
    partial.write_bytes(orjson.dumps({"pid": beat.pid, "at": beat.at}))
    os.replace(partial, path)


def read_beat(path: Path) -> Beat | None:
    try:
        data = orjson.loads(path.read_bytes())
        return Beat(pid=int(data["pid"]), at=float(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def check(
    path: Path,
    max_age: float,
    *,
    clock: Callable[[], float] = time.time,
    alive: Callable[[int], bool] = pid_alive,
) -> str | None:
    """None when the worker beat within `max_age` seconds and still runs, else why not."""
    beat = read_beat(path)
    if beat is None:
        return (
            f"no heartbeat in {path}: `member360 worker` has not started "
            "or cannot reach its database"
        )
    if not alive(beat.pid):
        return f"worker process {beat.pid} is gone"
    age = clock() - beat.at
    if age > max_age:
        return (
            f"last heartbeat {age:.0f} s ago (allowed {max_age:.0f} s): the worker is stuck or "
            "its database does not answer"
        )
    return None


async def database_answers(db: Database, within: float) -> bool:
    try:
        async with asyncio.timeout(within):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:  # any failure, a timeout included, is "no answer"
        return False
    return True


class Heartbeat:
    """Renews the heartbeat file after each database round trip that answers."""

    def __init__(
        self,
        db: Database,
        path: Path,
        interval: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.path = path
        self.interval = interval
        self.clock = clock
        self.pid = os.getpid()
        self._healthy: bool | None = None

    @property
    def max_age(self) -> float:
        return STALE_AFTER_BEATS * self.interval

    async def beat_once(self) -> bool:
        answered = await database_answers(self.db, self.interval)
        if answered:
            write_beat(self.path, Beat(self.pid, self.clock()))
        if answered != self._healthy:  # one line per change, not one per beat
            if answered:
                log.info("worker heartbeat: database answers; renewing %s", self.path)
            else:
                log.warning("worker heartbeat: the database does not answer; not renewing")
            self._healthy = answered
        return answered

    async def run_forever(self) -> None:
        try:
            while True:
                await self.beat_once()
                await asyncio.sleep(self.interval)
        finally:
            # A stopped worker is not a live one, even within max_age.
            beat = read_beat(self.path)
            if beat is not None and beat.pid == self.pid:
                with contextlib.suppress(OSError):
                    self.path.unlink()
