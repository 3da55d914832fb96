"""Which PostgreSQL server a database URL reaches: its identity and, on this host, its processes.

Two bench tools need to know the server behind a URL rather than guess it from the URL's text:

- the scale benchmarks count PostgreSQL's CPU time. The connection tells its backend's pid
  (`pg_backend_pid()`) and when the postmaster started (`pg_postmaster_start_time()`); the
  backend's parent in /proc is the postmaster if it started at that moment. A server on another
  host or in another PID namespace (a container) is then reported as not measured, never as 0.
- `bench.drive.faults postgres` stops a cluster. It stops one only if the URL's server *is* that
  cluster (same system identifier, port and data directory) and it is not the cluster the tests
  use.

Every query here works for a plain role too (the data directory is left out when the role may
not read it), so the app's own URL can be identified as well as the owner's.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import asyncpg_dsn

PROC = Path("/proc")
# The postmaster's start as PostgreSQL reports it vs as /proc gives it (boot time + ticks):
# /proc/stat's btime has whole seconds, so allow a little more than one.
START_TOLERANCE_SECONDS = 2.0

# The cluster the test suite runs against (tests/conftest.py): never stopped by a fault run.
TESTS_DSN = os.environ.get("M360_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PROTECTED_CLUSTER_NAME = "main"
PROTECTED_PORT = 5432

IDENTITY_SQL = """
SELECT (SELECT system_identifier FROM pg_control_system()) AS system_identifier,
       current_setting('port')::int AS port,
       current_setting('cluster_name') AS cluster_name,
       extract(epoch FROM pg_postmaster_start_time())::float8 AS postmaster_start,
       pg_backend_pid() AS backend_pid,
       (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory
"""


@dataclass(frozen=True)
class ServerIdentity:
    """What a server says about itself over a connection."""

    system_identifier: int  # pg_control's, unique per initdb
    port: int
    cluster_name: str  # Debian sets VERSION/NAME; '' when unset
    postmaster_start: float  # epoch seconds
    backend_pid: int  # of the connection that asked (gone once it closes)
    data_directory: str | None  # None: the role may not read it (pg_read_all_settings)

    def describe(self) -> str:
        name = f"cluster_name {self.cluster_name!r}, " if self.cluster_name else ""
        where = f", data directory {self.data_directory}" if self.data_directory else ""
        return f"{name}port {self.port}, system identifier {self.system_identifier}{where}"


async def _identity(conn: Any) -> ServerIdentity:
    row = await conn.fetchrow(IDENTITY_SQL)
    return ServerIdentity(
        system_identifier=int(row["system_identifier"]),
        port=int(row["port"]),
        cluster_name=row["cluster_name"] or "",
        postmaster_start=float(row["postmaster_start"]),
        backend_pid=int(row["backend_pid"]),
        data_directory=row["data_directory"],
    )


async def server_identity(url: str, *, connect_timeout: float = 10.0) -> ServerIdentity:
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url), timeout=connect_timeout)
    try:
        return await _identity(conn)
    finally:
        await conn.close()


# -- the server's processes on this host -----------------------------------------------------


@dataclass(frozen=True)
class Postmaster:
    pid: int
    start_ticks: int  # /proc/<pid>/stat starttime: tells this process from a reused pid


def _stat(pid: int, proc: Path = PROC) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on: the name in parentheses may hold spaces."""
    try:
        return (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _boot_time(proc: Path = PROC) -> float:
    for line in (proc / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("no btime in /proc/stat")


def find_postmaster(identity: ServerIdentity, proc: Path = PROC) -> Postmaster | str:
    """The postmaster of the server that answered `identity`, or why it is not on this host.

    Call it while the connection that produced `identity` is still open: its backend must exist.
    """
    backend = _stat(identity.backend_pid, proc)
    if backend is None:
        return (
            f"PostgreSQL's backend pid {identity.backend_pid} is not a process on this host "
            "(the server runs elsewhere or in another PID namespace)"
        )
    parent = int(backend[1])
    stat = _stat(parent, proc)
    if stat is None:
        return f"the parent ({parent}) of PostgreSQL's backend {identity.backend_pid} is gone"
    start_ticks = int(stat[19])
    started = _boot_time(proc) + start_ticks / os.sysconf("SC_CLK_TCK")
    if abs(started - identity.postmaster_start) > START_TOLERANCE_SECONDS:
        return (
            f"process {parent} on this host did not start when that server's postmaster did: "
            "the server is not running here (another host or PID namespace)"
        )
    return Postmaster(parent, start_ticks)


def _cpu(stat: list[str], *, children: bool = False) -> float:
    ticks = int(stat[11]) + int(stat[12])  # utime + stime
    if children:
        ticks += int(stat[13]) + int(stat[14])  # cutime + cstime: reaped children
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_cpu_seconds(postmaster: Postmaster, proc: Path = PROC) -> float | None:
    """CPU time of the whole server so far: the postmaster, its live children (backends,
    background and parallel workers), and the exited ones, whose time the postmaster collects
    when it reaps them. None once that postmaster is gone (stopped, or its pid reused)."""
    own = _stat(postmaster.pid, proc)
    if own is None or int(own[19]) != postmaster.start_ticks:
        return None
    total = _cpu(own, children=True)
    for entry in proc.iterdir():
        if entry.name.isdigit() and entry.name != str(postmaster.pid):
            stat = _stat(int(entry.name), proc)
            if stat is not None and int(stat[1]) == postmaster.pid:
                total += _cpu(stat)
    return total


class PostgresCpu:
    """CPU seconds used by the server behind a URL, across restarts of it.

    `seconds()` is None ("not measured") until `discover()` has found the server's postmaster
    on this host; `reason` then says why. After a restart, `discover()` again adds the new
    postmaster; the old one counts with its last reading (take one just before stopping it).
    """

    def __init__(self) -> None:
        self.readings: dict[Postmaster, float] = {}
        self.current: Postmaster | None = None
        self.reason: str | None = "not discovered yet"

    async def discover(self, url: str) -> None:
        import asyncpg

        try:
            conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            self.reason = f"could not connect to find PostgreSQL's processes: {exc}"
            return
        try:
            found = find_postmaster(await _identity(conn), PROC)
        finally:
            await conn.close()
        if isinstance(found, str):
            self.current, self.reason = None, found
            return
        self.current, self.reason = found, None
        self.readings.setdefault(found, postmaster_cpu_seconds(found) or 0.0)

    def seconds(self) -> float | None:
        if self.current is not None:
            now = postmaster_cpu_seconds(self.current)
            if now is None:
                self.current = None  # stopped: its last reading stands
            else:
                self.readings[self.current] = now
        return sum(self.readings.values()) if self.readings else None


# -- a Debian cluster, and whether a fault run may stop it -----------------------------------


class Refusal(RuntimeError):
    """A fault run would stop a server it must not stop."""


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int
    data_directory: str
    running: bool
    system_identifier: int | None  # from pg_controldata; None when it cannot be read

    def describe(self) -> str:
        return (
            f"cluster {self.version}/{self.name} (port {self.port}, data directory "
            f"{self.data_directory}, system identifier {self.system_identifier})"
        )


def debian_cluster(version: str, name: str) -> Cluster:
    """The cluster `pg_ctlcluster VERSION NAME` would act on (pg_lsclusters and pg_controldata)."""
    try:
        listed = json.loads(
            subprocess.run(
                ["pg_lsclusters", "--json"], check=True, capture_output=True, text=True, timeout=30
            ).stdout
        )
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        raise Refusal(f"cannot list the PostgreSQL clusters (pg_lsclusters): {exc}") from exc
    entry = next(
        (c for c in listed if str(c.get("version")) == version and c.get("cluster") == name),
        None,
    )
    if entry is None:
        known = ", ".join(f"{c.get('version')}/{c.get('cluster')}" for c in listed) or "none"
        raise Refusal(f"there is no PostgreSQL cluster {version}/{name} (clusters: {known})")
    data_directory = entry["pgdata"]
    return Cluster(
        version=version,
        name=name,
        port=int(entry["port"]),
        data_directory=data_directory,
        running=bool(entry.get("running")),
        system_identifier=controldata_identifier(version, data_directory),
    )


def controldata_identifier(version: str, data_directory: str) -> int | None:
    tool = Path(f"/usr/lib/postgresql/{version}/bin/pg_controldata")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            [str(tool), data_directory],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "LC_ALL": "C"},  # the labels below are the untranslated ones
        ).stdout
        for line in out.splitlines():
            if line.startswith("Database system identifier:"):
                return int(line.split(":", 1)[1])
    return None


def check_stop_target(
    server: ServerIdentity, cluster: Cluster, protected: Iterable[ServerIdentity] = ()
) -> None:
    """Raises Refusal unless stopping `cluster` stops the server behind the URL, and that server
    is none the tests use. `protected`: identities of servers that must never be stopped."""
    if cluster.name == PROTECTED_CLUSTER_NAME or cluster.port == PROTECTED_PORT:
        raise Refusal(
            f"refusing to stop {cluster.describe()}: the {PROTECTED_PORT} `main` cluster is the "
            "one the tests use; run fault runs on a cluster of their own"
        )
    for other in protected:
        if cluster.system_identifier == other.system_identifier:
            raise Refusal(
                f"refusing to stop {cluster.describe()}: it is the tests' server "
                f"({other.describe()})"
            )
    if cluster.system_identifier is None:
        raise Refusal(
            f"cannot read the system identifier of {cluster.describe()} (pg_controldata), so "
            "cannot tell that the URL's server is that cluster"
        )
    mismatch = []
    if server.system_identifier != cluster.system_identifier:
        mismatch.append("system identifier")
    if server.port != cluster.port:
        mismatch.append("port")
    if server.data_directory is not None and os.path.realpath(
        server.data_directory
    ) != os.path.realpath(cluster.data_directory):
        mismatch.append("data directory")
    if mismatch:
        raise Refusal(
            f"--url reaches the server with {server.describe()}, but --cluster is "
            f"{cluster.describe()} ({', '.join(mismatch)} differ): stopping that cluster would "
            "not stop the server under test"
        )
    if not cluster.running:
        raise Refusal(f"{cluster.describe()} is not running")


async def tests_server_identities() -> list[ServerIdentity]:
    """The tests' server, if it answers (a server that does not cannot be stopped by mistake)."""
    import asyncpg

    try:
        return [await server_identity(TESTS_DSN, connect_timeout=5)]
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return []
