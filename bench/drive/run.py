"""Customer page and member list under wrk, GraphQL against the raw floor; a profile; the import.

    python -m bench.drive.run --quick            # small data, 5 s runs: a sanity check
    python -m bench.drive.run --db postgresql    # the full run on data from bench.data.generate
    python -m bench.drive.run --db sqlite --no-import

For each data set (made beforehand by `python -m bench.data.generate`, or with `--generate`):
serve the API (`uvicorn --factory member360.app:create_app`, one worker,
M360_EXTERNAL_WORKERS=true) and the floor (`bench.drive.floor`, same server stack), check that both
answer the same JSON for a few members, then drive each with wrk (one Lua POST script, a random
member or search term per request) for the customer page and the member list, recording req/s,
latency percentiles and the CPU used by the server process and by the database's backends.
Then profile the API under the same load (`bench.profile.app`, pyinstrument) and time
`member360 import` of a JSONL file into a fresh PostgreSQL database under /usr/bin/time -v,
sampling its RSS. Prints a results table and writes bench/results/run-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import random
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH,
    DATA,
    DEFAULT_PG_DB,
    DEFAULT_SQLITE,
    RESULTS,
    ROOT,
    TIME_ZONE,
    VENV_BIN,
    Manifest,
    admin_dsn,
    database_name,
    pg_url,
    recreate_pg_database,
    sqlalchemy_url,
    sqlite_path,
    sqlite_url,
)
from bench.drive import queries

CLK_TCK = os.sysconf("SC_CLK_TCK")
# PYTHONPATH for every process that runs member360 code: empty for the working tree,
# an exported git revision with --code REV (see use_code).
CODE_ENV: dict[str, str] = {}
TARGETS = {"page": 0.10, "list": 0.07}
IMPORT_TARGET = 20_000
SCENARIOS = {
    # name: (document, variable, floor path)
    "page": (queries.CUSTOMER_PAGE, "customerId", "/customer-page"),
    "list": (queries.CUSTOMER_LIST, "search", "/customer-list"),
}
TITLES = {"page": "customer page", "list": "member list (50 x 3 x 10)"}


def echo(text: str = "") -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------- processes


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _backends(database: str) -> dict[int, float]:
    """CPU seconds of every PostgreSQL backend connected to `database`."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            found[int(entry.name)] = _cpu_seconds(int(entry.name))
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


PG_STATS = (
    "SELECT xact_commit, xact_rollback, sessions, blks_read, blks_hit, tup_returned "
    "FROM pg_stat_database WHERE datname = $1"
)


def pg_stats(database: str) -> dict[str, int]:
    """The database's cumulative counters (sessions opened, transactions, blocks, tuples)."""
    import asyncpg

    async def go() -> dict[str, int]:
        conn = await asyncpg.connect(admin_dsn(pg_url(database)))
        try:
            await conn.execute("SELECT pg_stat_force_next_flush()")
            row = await conn.fetchrow(PG_STATS, database)
            return dict(row) if row else {}
        finally:
            await conn.close()

    return asyncio.run(go())


def wait_quiet(limit_pct: float, max_wait: float) -> dict[str, float]:
    """Waits until the machine's load outside the benchmark is below `limit_pct` of one core.

    The machine may be shared (other work on the same cores slows the servers under test):
    between measurements nothing of ours runs, so all load seen is someone else's. Returns how
    long it waited and the load it last saw; gives up after `max_wait` seconds.
    """
    if limit_pct <= 0:
        return {}
    started = time.monotonic()
    cores = os.cpu_count() or 1
    while True:
        before = _machine_busy()
        time.sleep(3)
        after = _machine_busy()
        load = 100 * cores * (after[0] - before[0]) / max(1, after[1] - before[1])
        waited = time.monotonic() - started
        if load < limit_pct or waited >= max_wait:
            return {"waited_s": round(waited), "load_before_pct": round(load, 1)}
        if int(waited) % 60 < 3:
            echo(f"  waiting for a quiet machine: others use {load:.0f}% of a core …")


@dataclass
class CpuMeter:
    """CPU used during a measurement: the server process, the database, the whole machine;
    on PostgreSQL also the database's counters (sessions opened, transactions)."""

    pid: int
    database: str | None
    started: float = 0.0
    server: float = 0.0
    db: dict[int, float] = field(default_factory=dict)
    machine: tuple[float, float] = (0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self.stats = pg_stats(self.database) if self.database else {}
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.children = usage.ru_utime + usage.ru_stime
        self.started = time.monotonic()
        self.server = _cpu_seconds(self.pid)
        self.db = _backends(self.database) if self.database else {}
        self.machine = _machine_busy()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.monotonic() - self.started
        server = _cpu_seconds(self.pid) - self.server
        db_now = _backends(self.database) if self.database else {}
        db = sum(v - self.db.get(pid, 0.0) for pid, v in db_now.items())
        busy, total = _machine_busy()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        tools = usage.ru_utime + usage.ru_stime - self.children  # wrk (waited for inside)
        machine = (busy - self.machine[0]) / max(1, total - self.machine[1])
        cores = os.cpu_count() or 1
        other = 100 * (machine * cores * wall - server - db - tools) / wall
        time.sleep(1.2)  # PostgreSQL flushes a backend's counters within a second of idling
        after = pg_stats(self.database) if self.database else {}
        self.result = {
            "pg_counters": {k: v - self.stats.get(k, 0) for k, v in after.items()},
            "server_cpu_pct": round(100 * server / wall, 1),
            "db_cpu_pct": round(100 * db / wall, 1) if self.database else None,
            "wrk_cpu_pct": round(100 * tools / wall, 1),
            "machine_busy_pct": round(100 * machine, 1),
            # CPU (100% = one core) used by everything else on the machine meanwhile:
            # other sessions' work disturbs a measurement when this is high.
            "other_cpu_pct": round(max(0.0, other), 1),
        }


class Server:
    """A uvicorn process on a loopback port, stopped (by its own pid) when the block ends."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.port = port
        self.log = RESULTS / f"server-{name}.log"

    def __enter__(self) -> Server:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_handle = self.log.open("w")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env={**os.environ, **CODE_ENV, **self.env},
            stdout=self.log_handle,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/livez", timeout=2) as response:
                    if response.status == 200:
                        return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not come up: {self.log.read_text()[-2000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_handle.close()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def app_server(url: str, port: int) -> Server:
    cmd = [
        str(VENV_BIN / "uvicorn"),
        "--factory",
        "member360.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {"M360_DATABASE_URL": url, "M360_EXTERNAL_WORKERS": "true"}
    return Server("graphql", cmd, env, port)


def floor_server(url: str, port: int) -> Server:
    cmd = [
        str(VENV_BIN / "uvicorn"),
        "--factory",
        "bench.drive.floor:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return Server("floor", cmd, {"M360_FLOOR_DATABASE_URL": url}, port)


def profile_server(url: str, port: int, out: Path) -> Server:
    cmd = [
        str(VENV_BIN / "python"),
        "-m",
        "bench.profile.app",
        "--port",
        str(port),
        "--out",
        str(out),
    ]
    env = {"M360_DATABASE_URL": url, "M360_EXTERNAL_WORKERS": "true"}
    return Server("profile", cmd, env, port)


KEY_SCRIPT = """
import asyncio, sys
from member360.auth.keys import create_api_key
from member360.db import Database
from member360.orgs.service import get_org

async def main(url, slug):
    db = Database(url)
    try:
        org = await get_org(db, slug=slug)
        print(await create_api_key(db, org, ["customers:read", "pii:read"], name="bench"))
    finally:
        await db.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def create_key(url: str, slug: str) -> str:
    """`member360 api-key create --org SLUG --scopes customers:read,pii:read`, without the
    CLI's migration step (the data set stays at the schema it was generated with)."""
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", KEY_SCRIPT, url, slug],
        cwd=ROOT,
        env={**os.environ, **CODE_ENV},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------------- load


def _picker(kind: str, manifest: Manifest) -> str:
    if kind == "page":
        return f"range:1:{manifest.members}:{manifest.customer_id_format}"
    return "list:" + ",".join(manifest.search_terms)


def wrk(
    url: str, kind: str, manifest: Manifest, key: str, args: argparse.Namespace, seconds: int
) -> dict[str, Any]:
    document, variable, _ = SCENARIOS[kind]
    return wrk_post(url, document, variable, _picker(kind, manifest), key, args, seconds, kind)


def wrk_post(
    url: str,
    document: str,
    variable: str,
    pick: str,
    key: str,
    args: argparse.Namespace,
    seconds: int,
    name: str,
) -> dict[str, Any]:
    """wrk with bench/wrk/post.lua for `seconds`: `document` with `variable` set per request
    from `pick` (see the script); the document is written to bench/results/NAME.graphql."""
    doc_file = RESULTS / f"{name}.graphql"
    doc_file.write_text(document)
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(BENCH / "wrk" / "post.lua"),
        url,
        "--",
        str(doc_file),
        variable,
        pick,
        key,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    result["command"] = " ".join([*cmd[:-1], "$KEY"] if key else cmd)
    return result


def measure(
    server: Server,
    path: str,
    kind: str,
    manifest: Manifest,
    key: str,
    args: argparse.Namespace,
    database: str | None,
) -> dict[str, Any]:
    quiet = wait_quiet(args.quiet_below, args.quiet_wait)
    if args.warmup:
        wrk(server.url + path, kind, manifest, key, args, args.warmup)
    with CpuMeter(server.pid, database) as meter:
        result = wrk(server.url + path, kind, manifest, key, args, args.duration)
    result.update(meter.result)
    result["quiet"] = quiet
    counters = result.pop("pg_counters", {})
    if counters and result["requests"]:
        n = result["requests"]
        result["per_request"] = {
            "db_sessions_opened": round(counters["sessions"] / n, 2),
            "db_transactions": round((counters["xact_commit"] + counters["xact_rollback"]) / n, 1),
            "db_tuples_read": round(counters["tup_returned"] / n),
        }
        result["pg_counters"] = counters
    return result


# ---------------------------------------------------------------------- same answers


def _post(url: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.loads(response.read()))


def _diff(a: Any, b: Any, path: str = "") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a.keys() | b.keys():
            found = _diff(a.get(k, "<missing>"), b.get(k, "<missing>"), f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _diff(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(a, float | int) and isinstance(b, float | int) and abs(a - b) < 1e-6:
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def same_answers(app: Server, floor: Server, manifest: Manifest, key: str) -> dict[str, Any]:
    """GraphQL and the floor must return the same data, or the ratio means nothing."""
    rng = random.Random(1)
    checked, problems = 0, []
    cases = [
        ("page", manifest.customer_id_format % rng.randint(1, manifest.members)) for _ in range(8)
    ]
    cases += [("list", term) for term in rng.sample(manifest.search_terms, 3)]
    for kind, value in cases:
        document, variable, path = SCENARIOS[kind]
        body = {"query": document, "variables": {variable: value}}
        mine = _post(f"{app.url}/graphql", body, key)
        raw = _post(f"{floor.url}{path}", body)
        checked += 1
        if "errors" in mine:
            problems.append(f"{kind} {value}: GraphQL errors {mine['errors'][:1]}")
            continue
        found = _diff(mine["data"], raw["data"])
        if found:
            problems.append(f"{kind} {value}: {found}")
    return {"checked": checked, "mismatches": problems}


# ---------------------------------------------------------------------- profile


def run_profile(
    url: str, manifest: Manifest, key: str, args: argparse.Namespace, database: str | None
) -> dict[str, Any]:
    from bench.profile.app import summarise

    out = RESULTS / f"profile-{manifest.dialect}-page"
    with profile_server(url, args.profile_port, out) as server:
        quiet = wait_quiet(args.quiet_below, args.quiet_wait)
        if args.warmup:
            wrk(server.url + "/graphql", "page", manifest, key, args, args.warmup)
        server.proc.send_signal(signal.SIGUSR1)  # profile this window only
        with CpuMeter(server.pid, database) as meter:
            load = wrk(server.url + "/graphql", "page", manifest, key, args, args.profile_duration)
            server.proc.send_signal(signal.SIGUSR2)
    session = out.with_suffix(".pyisession")
    sql = json.loads(out.with_suffix(".sql.json").read_text())
    categories = summarise(session)
    total = sum(categories.values()) or 1.0
    requests = max(1, sql["requests"])
    return {
        "load": load,
        "cpu": meter.result,
        "quiet": quiet,
        "html": str(out.with_suffix(".html").relative_to(ROOT)),
        "wall_share_pct": {k: round(100 * v / total, 1) for k, v in categories.items()},
        "per_request": {
            "statements": round(sql["statements"] / requests, 1),
            "sql_wall_ms": round(1000 * sql["statement_seconds"] / requests, 2),
            "request_wall_ms": round(1000 * sql["request_seconds"] / requests, 2),
            "pool_checkouts": round(sql.get("pool_checkouts", 0) / requests, 1),
            "pool_connects": round(sql.get("pool_connects", 0) / requests, 2),
        },
        "sql_by_shape": sql["by_shape"][:20],
        "requests_profiled": sql["requests"],
    }


# ---------------------------------------------------------------------- import


def _child_pid(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return None
    return int(children[0]) if children else None


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def run_import(args: argparse.Namespace, quick: bool) -> dict[str, Any]:
    from bench.data.events import write

    events = args.import_events
    jsonl = DATA / f"import-{events}.jsonl"
    made: dict[str, Any] = {"file": str(jsonl), "events": events, "reused": jsonl.exists()}
    if not jsonl.exists():
        echo(f"writing {events:,} import events to {jsonl} …")
        made = write(jsonl, events, None, 365, 7)
    url = pg_url(args.import_db)
    asyncio.run(recreate_pg_database(url))
    env = {**os.environ, **CODE_ENV, "M360_DATABASE_URL": sqlalchemy_url(url)}
    member360 = str(VENV_BIN / "member360")
    subprocess.run(
        [
            member360,
            "org",
            "create",
            "import",
            "--name",
            "Import Bench",
            "--time-zone",
            TIME_ZONE,
            "--hierarchy",
            "--surveys",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    cmd = ["/usr/bin/time", "-v", member360, "import", str(jsonl), "--org", "import"]
    quiet = wait_quiet(args.quiet_below, args.quiet_wait)
    echo(f"importing {events:,} events into {url} …")
    machine_before = _machine_busy()
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        while proc.poll() is None:
            child = _child_pid(proc.pid)
            rss = _rss_mb(child) if child else None
            if rss is not None:
                samples.append((time.monotonic() - started, rss))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    db_cpu: dict[int, float] = {}

    def watch_db() -> None:  # the backends' CPU, last seen before they exit
        while proc.poll() is None:
            db_cpu.update(_backends(database_name(url)))
            time.sleep(1)

    watcher = threading.Thread(target=watch_db, daemon=True)
    watcher.start()
    stdout, stderr = proc.communicate()
    wall = time.monotonic() - started
    machine_after = _machine_busy()
    sampler.join()
    watcher.join()
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", stderr)
    own = (float(user.group(1)) if user else 0.0) + (float(system.group(1)) if system else 0.0)
    db = sum(db_cpu.values())
    share = (machine_after[0] - machine_before[0]) / max(1, machine_after[1] - machine_before[1])
    other = 100 * (share * (os.cpu_count() or 1) * wall - own - db) / wall
    applied = re.search(r"applied (\d+) events", stdout)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    elapsed = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", stderr)
    n = int(applied.group(1)) if applied else 0

    def at(share: float) -> float | None:
        if not samples:
            return None
        t = samples[-1][0] * share
        return round(min(samples, key=lambda s: abs(s[0] - t))[1], 1)

    return {
        "exit_code": proc.returncode,
        "stdout": stdout.strip()[-500:],
        "stderr_tail": stderr.strip()[-300:] if proc.returncode else "",
        "file": made,
        "applied": n,
        "wall_s": round(wall, 1),
        "time_elapsed": elapsed.group(1) if elapsed else None,
        "events_per_s": round(n / wall) if wall else 0,
        "peak_rss_mb": round(int(peak.group(1)) / 1024, 1) if peak else None,
        "rss_mb_at": {f"{int(p * 100)}%": at(p) for p in (0.1, 0.25, 0.5, 0.75, 1.0)},
        "importer_cpu_pct": round(100 * own / wall, 1),
        "db_cpu_pct": round(100 * db / wall, 1),
        "other_cpu_pct": round(max(0.0, other), 1),
        "quiet": quiet,
        "command": f"M360_DATABASE_URL={sqlalchemy_url(url)} " + " ".join(cmd),
        "database": database_name(url),
    }


# ---------------------------------------------------------------------- context


def _sh(*cmd: str) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except FileNotFoundError:
        return ""


def use_code(rev: str) -> dict[str, Any]:
    """Runs member360 from the working tree, or from `git archive REV` (while others edit)."""
    if rev == "worktree":
        dirty = [x for x in _sh("git", "status", "--short", "backend").splitlines() if x]
        return {
            "source": "working tree",
            "head": _sh("git", "rev-parse", "--short", "HEAD"),
            "dirty_backend": dirty,
        }
    sha = _sh("git", "rev-parse", "--short", rev)
    if not sha:
        raise SystemExit(f"--code {rev}: not a git revision")
    target = DATA / f"code-{sha}"
    if not (target / "backend" / "member360").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha, "backend"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    CODE_ENV["PYTHONPATH"] = str(target / "backend")
    subject = _sh("git", "log", "-1", "--format=%s", sha)
    return {"source": f"git {sha}", "head": sha, "subject": subject, "path": str(target)}


def machine_info() -> dict[str, Any]:
    cpu = next(
        (
            x.split(":", 1)[1].strip()
            for x in Path("/proc/cpuinfo").read_text().splitlines()
            if x.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    from importlib.metadata import version

    packages = ("strawberry-graphql", "graphql-core", "SQLAlchemy", "asyncpg", "aiosqlite")
    packages += ("uvicorn", "starlette", "uvloop", "httptools", "orjson", "aiodataloader")
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {p: version(p) for p in packages},
        "wrk": _sh("wrk", "--version").splitlines()[0] if _sh("wrk", "--version") else "",
    }


def pg_info(url: str) -> dict[str, Any]:
    import asyncpg

    async def go() -> dict[str, Any]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            info = {"version": await conn.fetchval("SHOW server_version")}
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_connections"):
                info[name] = await conn.fetchval(f"SHOW {name}")
            info["database_size"] = await conn.fetchval(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            )
            return info
        finally:
            await conn.close()

    return asyncio.run(go())


# ---------------------------------------------------------------------- the run


def ensure_data(dialect: str, url: str, args: argparse.Namespace) -> Manifest:
    path = Manifest.path_for(dialect, sqlalchemy_url(url))
    if args.generate or (args.quick and not path.exists()):
        from bench.data.generate import generate, parse_args

        gen = ["--db", dialect, "--url", url]
        if args.members:
            gen += ["--members", str(args.members)]
        if args.activities:
            gen += ["--activities", str(args.activities)]
        asyncio.run(generate(parse_args(gen)))
    return Manifest.load(dialect, sqlalchemy_url(url))


def run_dialect(dialect: str, args: argparse.Namespace) -> dict[str, Any]:
    if dialect == "postgresql":
        url = args.url or pg_url("m360_bench_quick" if args.quick else DEFAULT_PG_DB)
    else:
        url = args.url or sqlite_url(DATA / "quick.db" if args.quick else DEFAULT_SQLITE)
    manifest = ensure_data(dialect, url, args)
    url = manifest.url
    database = database_name(url) if dialect == "postgresql" else None
    echo(
        f"\n== {dialect}: {manifest.members:,} members, "
        f"{manifest.rows['points_activities']:,} points activities ({url})"
    )
    report: dict[str, Any] = {
        "dialect": dialect,
        "dataset": {
            "url": url,
            "members": manifest.members,
            "rows": manifest.rows,
            "generated_at": manifest.generated_at,
            "generation_seconds": manifest.seconds,
        },
        "settings": {k: getattr(args, k) for k in ("threads", "connections", "duration", "warmup")},
    }
    if dialect == "postgresql":
        report["postgresql"] = pg_info(url)
    else:
        size = sqlite_path(url).stat().st_size
        report["dataset"]["file_mb"] = round(size / 1024 / 1024, 1)
    key = create_key(url, manifest.org_slug)
    results: dict[str, dict[str, Any]] = {}
    with app_server(url, args.app_port) as app, floor_server(url, args.floor_port) as floor:
        report["same_answers"] = check = same_answers(app, floor, manifest, key)
        agree = check["checked"] - len(check["mismatches"])
        echo(f"same answers from GraphQL and the floor: {agree}/{check['checked']}")
        for problem in check["mismatches"]:
            echo(f"  MISMATCH {problem}")
        for kind in args.scenarios:
            _, _, path = SCENARIOS[kind]
            results[kind] = {}
            for target, server, route, k in (
                ("graphql", app, "/graphql", key),
                ("floor", floor, path, ""),
            ):
                if target == "floor" and args.no_floor:
                    continue
                echo(f"wrk {kind} -> {target} ({args.duration} s) …")
                results[kind][target] = measure(server, route, kind, manifest, k, args, database)
            if "floor" in results[kind]:
                ratio = results[kind]["graphql"]["rps"] / max(results[kind]["floor"]["rps"], 1e-9)
                results[kind]["ratio"] = round(ratio, 3)
                results[kind]["target"] = TARGETS[kind]
    report["scenarios"] = results
    if args.profile:
        echo(f"profiling the customer page under load ({args.profile_duration} s) …")
        try:
            report["profile"] = run_profile(url, manifest, key, args, database)
        except Exception as exc:  # a failed step is reported, the measurements are kept
            report["profile_error"] = f"{type(exc).__name__}: {exc}"[:3000]
            echo(f"profile failed: {report['profile_error']}")
    return report


def print_report(run: dict[str, Any]) -> None:
    m = run["machine"]
    echo("\n" + "=" * 100)
    echo(f"code: {run['code']['source']}")
    echo(
        f"Member360 benchmarks  {run['started_at']}  {m['cpus']} x {m['cpu_model']}, "
        f"{m['memory_gb']} GB, Python {m['python']}"
    )
    for report in run["dialects"]:
        ds = report["dataset"]
        echo(
            f"\n{report['dialect']}: {ds['members']:,} members, "
            f"{ds['rows']['points_activities']:,} activities; wrk -t{report['settings']['threads']}"
            f" -c{report['settings']['connections']} -d{report['settings']['duration']}s, "
            "one uvicorn worker"
        )
        head = f"{'':<28}{'':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU':>9}"
        echo(head + f"{'db CPU':>8}{'other':>7}{'errors':>8}")
        for kind, rows in report["scenarios"].items():
            for target in ("graphql", "floor"):
                r = rows.get(target)
                if not r:
                    continue
                db = f"{r['db_cpu_pct']:.0f}%" if r.get("db_cpu_pct") is not None else "-"
                errors = r["non_200"] + r["graphql_errors"] + r["socket_errors"] + r["timeouts"]
                echo(
                    f"{TITLES[kind]:<28}{target:<9}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
                    f"{r['p99_ms']:>9.1f}{r['server_cpu_pct']:>8.0f}%{db:>8}"
                    f"{r.get('other_cpu_pct', 0):>6.0f}%{errors:>8}"
                )
            if "ratio" in rows:
                ok = "meets" if rows["ratio"] >= rows["target"] else "MISSES"
                echo(
                    f"{'':<28}GraphQL/floor = {rows['ratio']:.3f}  ({ok} the target "
                    f">= {rows['target']:.2f})"
                )
        prof = report.get("profile")
        if prof:
            pr = prof["per_request"]
            echo(
                f"\nprofile (customer page, {prof['load']['rps']:.0f} req/s under pyinstrument): "
                f"{pr['statements']} SQL statements/request, SQL wall {pr['sql_wall_ms']} ms "
                f"of {pr['request_wall_ms']} ms/request; server CPU "
                f"{prof['cpu']['server_cpu_pct']}%"
            )
            for label, share in prof["wall_share_pct"].items():
                echo(f"  {share:5.1f}%  {label}")
    imp = run.get("import")
    if imp:
        ok = "meets" if imp["events_per_s"] >= IMPORT_TARGET else "MISSES"
        echo(
            f"\nimport: {imp['applied']:,} events in {imp['wall_s']} s = "
            f"{imp['events_per_s']:,} events/s ({ok} >= {IMPORT_TARGET:,}); peak RSS "
            f"{imp['peak_rss_mb']} MB; RSS at 10/25/50/75/100%: "
            f"{list(imp['rss_mb_at'].values())} MB; exit {imp['exit_code']}"
        )
        echo(
            f"        CPU: importer {imp['importer_cpu_pct']}%, database {imp['db_cpu_pct']}%, "
            f"other processes {imp['other_cpu_pct']}% (100% = one core)"
        )
    echo("=" * 100)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.drive.run", description=__doc__.split("\n")[0]
    )
    p.add_argument("--db", choices=("postgresql", "sqlite", "both"), default="postgresql")
    p.add_argument("--url", help="database URL of a generated data set (default: the standard)")
    p.add_argument("--quick", action="store_true", help="small data, short runs (sanity check)")
    p.add_argument("--generate", action="store_true", help="(re)generate the data set first")
    p.add_argument("--members", type=int, help="with --generate")
    p.add_argument("--activities", type=int, help="with --generate")
    p.add_argument("--scenarios", default="page,list", help="page,list")
    p.add_argument("--duration", type=int, help="seconds per measurement (default 20; quick 5)")
    p.add_argument("--warmup", type=int, help="seconds of warm-up before each (default 5)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (concurrency)")
    p.add_argument("--no-floor", action="store_true")
    p.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--profile-duration", type=int, help="default 15 (quick 5)")
    p.add_argument(
        "--import",
        dest="do_import",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="time `member360 import` (default: with postgresql)",
    )
    p.add_argument("--import-events", type=int, help="default 1000000 (quick 20000)")
    p.add_argument("--import-db", help="database the import benchmark recreates")
    p.add_argument(
        "--code",
        default="worktree",
        help="member360 code to run: worktree (default) or a git revision, e.g. HEAD",
    )
    p.add_argument(
        "--quiet-below",
        type=float,
        default=0,
        help="before each measurement wait until other processes use less than this %% of a "
        "core (shared machines; 0: do not wait)",
    )
    p.add_argument("--quiet-wait", type=float, default=900, help="longest wait, seconds")
    p.add_argument("--app-port", type=int, default=8011)
    p.add_argument("--floor-port", type=int, default=8012)
    p.add_argument("--profile-port", type=int, default=8013)
    args = p.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.duration = args.duration or (5 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (2 if args.quick else 5)
    args.profile_duration = args.profile_duration or (5 if args.quick else 15)
    args.import_events = args.import_events or (20_000 if args.quick else 1_000_000)
    args.import_db = args.import_db or (
        "m360_bench_import_quick" if args.quick else "m360_bench_import"
    )
    if args.do_import is None:
        args.do_import = args.db in ("postgresql", "both")
    if args.url and args.db == "both":
        p.error("--url needs one --db")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    run: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": machine_info(),
        "code": use_code(args.code),
        "dialects": [],
    }
    dialects = ("postgresql", "sqlite") if args.db == "both" else (args.db,)
    for dialect in dialects:
        run["dialects"].append(run_dialect(dialect, args))
    if args.do_import:
        try:
            run["import"] = run_import(args, args.quick)
        except Exception as exc:  # a failed step is reported, the measurements are kept
            run["import_error"] = f"{type(exc).__name__}: {exc}"[:3000]
            echo(f"import failed: {run['import_error']}")
    name = f"run-{'-'.join(dialects)}{'-quick' if args.quick else ''}-{started:%Y%m%dT%H%M%S}"
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(run, indent=2, default=str))
    print_report(run)
    echo(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
