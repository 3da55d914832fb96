"""`member360 worker --check`: the worker's container health check, against real workers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from member360.db import Database
from member360.heartbeat import Beat, Heartbeat, check, read_beat, write_beat
from tests.conftest import cli_env

NOW = 1_800_000_000.0


def test_check_names_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    missing = check(path, 30, clock=lambda: NOW)
    assert missing is not None and missing.startswith(f"no heartbeat in {path}")
    write_beat(path, Beat(pid=4242, at=NOW - 10))
    assert check(path, 30, clock=lambda: NOW, alive=lambda pid: pid == 4242) is None
    stale = check(path, 30, clock=lambda: NOW + 21, alive=lambda _: True)
    assert stale is not None and stale.startswith("last heartbeat 31 s ago (allowed 30 s)")
    gone = check(path, 30, clock=lambda: NOW, alive=lambda _: False)
    assert gone == "worker process 4242 is gone"
    path.write_text("{half a fi")
    assert check(path, 30, clock=lambda: NOW) is not None


async def test_a_beat_is_written_only_when_the_database_answers(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "beat"
    beating = Heartbeat(db, path, 5.0, clock=lambda: NOW)
    assert await beating.beat_once()
    assert read_beat(path) == Beat(pid=os.getpid(), at=NOW)

    # A database that does not answer: no beat, one warning however often it is tried.
    gone = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        silent = Heartbeat(gone, tmp_path / "silent", 5.0, clock=lambda: NOW)
        with caplog.at_level(logging.INFO, logger="member360.heartbeat"):
            for _ in range(3):
                assert not await silent.beat_once()
    finally:
        await gone.dispose()
    assert not (tmp_path / "silent").exists()
    warnings = [r for r in caplog.records if r.name == "member360.heartbeat"]
    assert [r.levelname for r in warnings] == ["WARNING"]


async def test_a_stopped_heartbeat_removes_its_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "beat"
    task = asyncio.create_task(Heartbeat(db, path, 0.05).run_forever())
    for _ in range(200):
        if path.exists():
            break
        await asyncio.sleep(0.05)
    assert read_beat(path) is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not path.exists()  # a worker that stopped is not alive, even within max-age


async def _member360(env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "member360.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _until_check(env: dict[str, str], healthy: bool) -> str:
    """Runs `member360 worker --check` until it answers `healthy` (or fails the test)."""
    output = ""
    for _ in range(60):
        code, output = await _member360(env, "worker", "--check")
        if (code == 0) == healthy:
            return output
        await asyncio.sleep(0.3)
    pytest.fail(f"worker --check never became {'healthy' if healthy else 'unhealthy'}: {output}")


async def test_worker_check_follows_a_real_worker(db: Database, tmp_path: Path) -> None:
    env = {
        **os.environ,
        **cli_env(db),
        # PostgreSQL runs the procrastinate worker, SQLite the embedded job runner.
        "M360_JOB_QUEUE": "procrastinate" if db.dialect == "postgresql" else "embedded",
        "M360_EXPORT_DIR": str(tmp_path / "exports"),
        "M360_WORKER_HEARTBEAT_FILE": str(tmp_path / "worker.heartbeat"),
        "M360_WORKER_HEARTBEAT_SECONDS": "0.3",
    }
    code, output = await _member360(env, "worker", "--check")
    assert code == 1 and "no heartbeat" in output  # no worker yet

    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "member360.cli", "worker", env=env, stdout=out, stderr=out
        )
    try:
        assert "healthy" in await _until_check(env, healthy=True)
        # A stuck worker (its process alive, its loop not running) turns unhealthy...
        worker.send_signal(signal.SIGSTOP)
        assert "last heartbeat" in await _until_check(env, healthy=False)
        # ...and healthy again once it runs.
        worker.send_signal(signal.SIGCONT)
        await _until_check(env, healthy=True)
        worker.kill()
        await worker.wait()
        assert f"worker process {worker.pid} is gone" in await _until_check(env, healthy=False)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    assert "Traceback" not in log.read_text(errors="replace")
