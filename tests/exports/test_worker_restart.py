"""`member360 worker` survives a database restart (issue 7 fault run): it reconnects, and only
a signal stops it."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import pytest

from member360.exports import queue


async def test_worker_restarts_after_losing_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def fake_once(db: Any, settings: Any, stopping: asyncio.Event, **_: Any) -> None:
        calls.append("run")
        if len(calls) == 1:
            # What procrastinate raises when PostgreSQL goes away under the worker.
            raise ConnectionRefusedError(111, "Connect call failed")
        if len(calls) == 2:
            return  # procrastinate stopped its worker by itself (a failed side task)
        os.kill(os.getpid(), signal.SIGTERM)  # the operator stops it
        await stopping.wait()

    monkeypatch.setattr(queue, "_run_worker_once", fake_once)
    await asyncio.wait_for(queue.run_worker(None, None, retry_seconds=0.01), 10)  # type: ignore[arg-type]
    assert calls == ["run", "run", "run"], "the worker must restart after each loss, then stop"
