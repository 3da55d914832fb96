"""PostgreSQL CPU in the scale benchmarks: the server's processes found from a connection.

Against the test cluster (M360_TEST_PG_DSN, 127.0.0.1:5432), which runs on this host: the
postmaster found through a backend's parent is the one its data directory's postmaster.pid
names, as the owner and as the plain app role alike, and its CPU time grows with the work
the server does. A server whose processes are not here is "not measured", never 0.0.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from bench.drive.loadmix import cpu_use, print_row
from bench.topology.pgserver import (
    PostgresCpu,
    Postmaster,
    _identity,
    find_postmaster,
    postmaster_cpu_seconds,
    server_identity,
)

from tests.conftest import APP_ROLE, PG_ADMIN_DSN, _ensure_app_role, pg_url


async def postmaster_pid_file() -> int:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        data_directory = await conn.fetchval("SHOW data_directory")
    finally:
        await conn.close()
    return int(Path(data_directory, "postmaster.pid").read_text().split()[0])


async def test_the_postmaster_is_found_from_the_owners_and_the_app_roles_connection() -> None:
    await _ensure_app_role()
    expected = await postmaster_pid_file()
    for url in (PG_ADMIN_DSN, pg_url("postgres", APP_ROLE)):
        meter = PostgresCpu()
        assert meter.seconds() is None  # nothing found yet: not measured, not 0.0
        await meter.discover(url)
        assert meter.reason is None, meter.reason
        assert meter.current is not None and meter.current.pid == expected
        assert meter.seconds() is not None and meter.seconds() > 0


async def test_the_servers_cpu_time_grows_with_its_work() -> None:
    meter = PostgresCpu()
    await meter.discover(PG_ADMIN_DSN)
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.fetchval("SELECT 1")  # the backend exists, its CPU so far is counted
        before = meter.seconds()
        # Several hundred ms of CPU in this backend: well over the 10 ms clock tick.
        await conn.fetchval("SELECT count(*) FROM generate_series(1, 6000000)")
        after = meter.seconds()
    finally:
        await conn.close()
    assert before is not None and after is not None
    assert after - before >= 0.1


async def test_a_server_that_is_not_on_this_host_is_not_measured() -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        identity = await _identity(conn)
        assert isinstance(find_postmaster(identity), Postmaster)
        # Another host's server: its backend pid means nothing here, or names another process.
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
        elsewhere = dataclasses.replace(identity, backend_pid=pid_max + 1)
        assert "not a process on this host" in str(find_postmaster(elsewhere))
        restarted = dataclasses.replace(identity, postmaster_start=identity.postmaster_start - 600)
        assert "did not start when" in str(find_postmaster(restarted))
    finally:
        await conn.close()


def test_a_stopped_postmaster_keeps_its_last_reading() -> None:
    # A real process stands in for a postmaster that a fault run stops: its CPU stays counted.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nt = time.process_time()\n"
            "while time.process_time() - t < 0.3: pass\ntime.sleep(60)",
        ]
    )
    try:
        stat = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        meter = PostgresCpu()
        meter.current = Postmaster(child.pid, int(stat[19]))
        meter.readings[meter.current] = 0.0
        deadline = time.monotonic() + 30
        while (meter.seconds() or 0) < 0.25 and time.monotonic() < deadline:
            time.sleep(0.1)
        reading = meter.seconds()
        assert reading is not None and reading >= 0.25
    finally:
        child.kill()
        child.wait()
    assert postmaster_cpu_seconds(Postmaster(child.pid, int(stat[19]))) is None
    assert meter.seconds() == reading
    assert meter.current is None


def test_not_measured_is_printed_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    before = {"api": 1.0, "worker": 0.5, "postgres": None, "driver": 0.1}
    after = {"api": 3.0, "worker": 0.7, "postgres": None, "driver": 0.3}
    cpu = cpu_use(before, after, seconds=10.0, ops=100)
    assert cpu["postgres"] == {"cores_used": None, "ms_per_op": None}
    assert cpu["api"] == {"cores_used": 0.2, "ms_per_op": 20.0}
    summary = {
        "label": "x",
        "users": 1,
        "ops_per_s": 10.0,
        "requests_per_s": 10.0,
        "p50_ms": 1.0,
        "p95_ms": 1.0,
        "p99_ms": 1.0,
        "errors": 0,
        "load_average": {"before": None, "after": None},
        "cpu": cpu,
    }
    print_row(summary)
    out = capsys.readouterr().out
    assert "postgres not measured" in out
    assert "postgres 0.0" not in out


async def test_identity_as_a_plain_role_leaves_out_only_the_data_directory() -> None:
    await _ensure_app_role()
    owner = await server_identity(PG_ADMIN_DSN)
    app = await server_identity(pg_url("postgres", APP_ROLE))
    assert owner.data_directory is not None and app.data_directory is None
    assert (app.system_identifier, app.port, app.cluster_name, app.postmaster_start) == (
        owner.system_identifier,
        owner.port,
        owner.cluster_name,
        owner.postmaster_start,
    )
