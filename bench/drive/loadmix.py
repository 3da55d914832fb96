"""The scale load test: the web app's request mix against one or more API processes.

An asyncio driver (httpx) rather than locust: it needs no gevent and runs in this venv. Each
virtual user loops over operations drawn from the mix below, and each operation sends what
the web app sends for it (requests of one operation go out together, as the SPA fires them):

- customer page (60%): `Member` (the header) + `PointsRedemptions(first: 20)` (the default tab),
- search (20%): `CustomerSearch(first: 20)` on a last name,
- report page (15%): `InteractionReport(first: 50)` + `InteractionReportTotals` over the
  default 30-day range,
- export (5%): `requestExport` of a member's redemptions tab (DOWNLOAD), which queues a real job.

Requests go round-robin over the API base URLs. `--rate` paces the users to a fixed number of
operations per second (the soak); without it they run flat out (capacity). Export jobs are
capped (`--export-cap` jobs queued or running at once; over it an export becomes a customer
page and is counted as skipped) and drained at the end, and the workbooks are deleted.

The API and workers connect as in production (`bench.topology.loopback.Deployment`): as the app role
under row-level security (member360_app unless --app-role or M360_APP_DB_ROLE say otherwise;
`--app-role ''` connects them as the owner, to measure what the policies cost).

    python -m bench.drive.loadmix capacity --url postgresql://postgres@127.0.0.1:5433/m360_bench
    python -m bench.drive.loadmix soak --rate 30 --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS, connect_all_orgs, sqlalchemy_url
from bench.topology.loopback import (
    Deployment,
    DeploymentError,
    Topology,
    ensure_app_role,
    install_signal_exit,
    load_average,
    resolve_deployment,
)

MEMBER = """query Member($customerId: String!) { customer(customerId: $customerId) {
  id customerId name email mobile externalId optedIn tier userRole groupId pointsBalance
  enrolledAt } }"""

REDEMPTIONS = """query PointsRedemptions($customerId: String!, $first: Int, $after: String) {
  customer(customerId: $customerId) { id points { redemptions(first: $first, after: $after) {
    edges { cursor node { redeemedAt pointsRedeemed pointsReversed orderId storeId source
      actionId actionName breakup { lotEarnedAt points expiresAt reason } } }
    pageInfo { hasNextPage endCursor } } } } }"""

SEARCH = """query CustomerSearch($search: String!, $first: Int, $after: String) {
  customers(search: $search, first: $first, after: $after) {
    edges { cursor node { id customerId name email mobile externalId tier optedIn
      pointsBalance } }
    pageInfo { hasNextPage endCursor } } }"""

REPORT = """query InteractionReport($filter: InteractionReportFilter!, $first: Int,
  $after: String) { interactionReport(filter: $filter, first: $first, after: $after) {
    edges { cursor node { date name userId email actionId actionName orderId customId coupon
      points groupPoints pointsExpirationDate sectionId sectionName surveyId surveyName reason
      source optInStatus senderId receiverId storeId storeName storeRegion storeType
      phoneNumber userRole } }
    pageInfo { hasNextPage endCursor } } }"""

REPORT_TOTALS = """query InteractionReportTotals($filter: InteractionReportFilter!) {
  interactionReport(filter: $filter) { totalCount totals { points } } }"""

EXPORT = """mutation RequestExport($input: RequestExportInput!) {
  requestExport(input: $input) { id status } }"""

MIX = (("page", 60), ("search", 20), ("report", 15), ("export", 5))
SCOPES = ["customers:read", "pii:read", "reports:read", "exports:write"]


# -- the data set ----------------------------------------------------------------------------


@dataclass
class Sample:
    org_id: int
    slug: str
    key: str
    customer_ids: list[str]
    terms: list[str]
    report_filter: dict[str, str]
    members: int
    activities: int


async def prepare(deployment: Deployment | str, slug: str | None = None) -> Sample:
    """Finds the org with the most members, samples ids and search terms, makes an API key.

    The data is read over the owner's URL with every organization in view; the key is made
    through the app's own code and URL, as `member360 api-key create` would.
    """
    from member360.auth.keys import create_api_key
    from member360.db import Database
    from member360.orgs.service import get_org

    if isinstance(deployment, str):
        deployment = Deployment(owner_url=deployment, app_url=deployment)
    url = deployment.owner_url
    conn = await connect_all_orgs(url)
    try:
        row = await conn.fetchrow(
            "SELECT o.id, o.slug, count(c.id) AS n FROM organizations o "
            "JOIN customers c ON c.org_id = o.id "
            + ("WHERE o.slug = $1 " if slug else "")
            + "GROUP BY o.id, o.slug ORDER BY n DESC LIMIT 1",
            *([slug] if slug else []),
        )
        if row is None:
            raise SystemExit(f"no organization with members in {url} (run `member360 demo`)")
        org_id = row["id"]
        ids = [
            r[0]
            for r in await conn.fetch(
                "SELECT customer_id FROM customers TABLESAMPLE SYSTEM (10) "
                "WHERE org_id = $1 AND merged_into_id IS NULL LIMIT 5000",
                org_id,
            )
        ] or [
            r[0]
            for r in await conn.fetch(
                "SELECT customer_id FROM customers WHERE org_id = $1 LIMIT 5000", org_id
            )
        ]
        terms = [
            r[0]
            for r in await conn.fetch(
                "SELECT lower(split_part(name, ' ', 2)) AS t FROM customers "
                "WHERE org_id = $1 AND id % 50 = 0 GROUP BY 1 HAVING length(lower(split_part("
                "name, ' ', 2))) >= 3 ORDER BY count(*) DESC LIMIT 60",
                org_id,
            )
        ] or ["a"]
        last_day = await conn.fetchval(
            "SELECT max(local_date) FROM points_activities WHERE org_id = $1", org_id
        )
        activities = await conn.fetchval(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'points_activities'"
        )
    finally:
        await conn.close()
    last_day = last_day or dt.date.today()
    db = Database(sqlalchemy_url(deployment.app_url), pool_size=1)
    try:
        org = await get_org(db, org_id=org_id)
        key = await create_api_key(db, org, SCOPES, name="bench.drive.loadmix")
    finally:
        await db.dispose()
    window = {"from": (last_day - dt.timedelta(days=29)).isoformat(), "to": last_day.isoformat()}
    return Sample(org_id, row["slug"], key, ids, terms, window, row["n"], int(activities or 0))


# -- the driver ------------------------------------------------------------------------------


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    skipped_exports: int = 0
    job_ids: list[str] = field(default_factory=list)
    # second since start -> Counter of "ok" / error reasons (the fault runs read this)
    timeline: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    slowest: float = 0.0

    def record(self, op: str, seconds: float, reason: str | None, example: str = "") -> None:
        self.slowest = max(self.slowest, seconds)
        second = int(time.monotonic() - self.started)
        if reason is None:
            self.latencies[op].append(seconds)
            self.timeline[second]["ok"] += 1
        else:
            self.errors[f"{op}:{reason}"] += 1
            self.error_examples.setdefault(reason, example[:300])
            self.timeline[second][reason] += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Driver:
    def __init__(
        self,
        bases: list[str],
        sample: Sample,
        *,
        database_url: str,
        export_cap: int = 20,
        timeout: float = 30.0,
        seed: int = 7,
        mix: tuple[tuple[str, int], ...] = MIX,
    ) -> None:
        self.bases = itertools.cycle(bases)
        self.sample = sample
        self.database_url = database_url
        self.export_cap = export_cap
        self.timeout = timeout
        self.rng = random.Random(seed)
        self.ops = [name for name, _ in mix]
        self.weights = [w for _, w in mix]
        self.headers = {"Authorization": f"Bearer {sample.key}"}
        self.outstanding = 0  # export jobs queued or running, polled from the database
        self.stats = Stats()

    async def post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[str | None, str]:
        """None when the answer is a 200 without GraphQL errors; else the reason."""
        base = next(self.bases)
        self.stats.requests += 1
        try:
            response = await client.post(f"{base}/graphql", json=body, headers=self.headers)
        except httpx.TimeoutException:
            return "timeout", ""
        except httpx.HTTPError as exc:
            return type(exc).__name__, str(exc)
        text = response.text
        if "Traceback" in text or 'File "' in text:
            return f"stack-{response.status_code}", text
        if response.status_code != 200:
            return f"http-{response.status_code}", text
        try:
            data = response.json()
        except ValueError:
            return "not-json", text
        if data.get("errors"):
            code = (data["errors"][0].get("extensions") or {}).get("code", "ERROR")
            return f"gql-{code}", text
        if body["query"] is EXPORT:
            self.stats.job_ids.append(data["data"]["requestExport"]["id"])
        return None, ""

    async def operation(self, client: httpx.AsyncClient, op: str) -> None:
        s = self.sample
        if op == "export" and self.outstanding >= self.export_cap:
            self.stats.skipped_exports += 1
            op = "page"
        customer = {"customerId": self.rng.choice(s.customer_ids)}
        if op == "page":
            bodies = [
                {"query": MEMBER, "variables": customer},
                {"query": REDEMPTIONS, "variables": {**customer, "first": 20}},
            ]
        elif op == "search":
            term = self.rng.choice(s.terms)
            bodies = [{"query": SEARCH, "variables": {"search": term, "first": 20}}]
        elif op == "report":
            bodies = [
                {"query": REPORT, "variables": {"filter": s.report_filter, "first": 50}},
                {"query": REPORT_TOTALS, "variables": {"filter": s.report_filter}},
            ]
        else:
            self.outstanding += 1  # until the next poll corrects it
            tab = {**customer, "tab": "POINTS_REDEMPTIONS"}
            bodies = [
                {
                    "query": EXPORT,
                    "variables": {"input": {"customerTab": tab, "delivery": "DOWNLOAD"}},
                }
            ]
        start = time.monotonic()
        results = await asyncio.gather(*(self.post(client, b) for b in bodies))
        elapsed = time.monotonic() - start
        failed = [r for r in results if r[0] is not None]
        if failed:
            self.stats.record(op, elapsed, failed[0][0], failed[0][1])
        else:
            self.stats.record(op, elapsed, None)

    async def user(self, client: httpx.AsyncClient, until: float, interval: float | None) -> None:
        next_start = time.monotonic() + (self.rng.random() * interval if interval else 0)
        while True:
            if interval:
                delay = next_start - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_start = max(next_start + interval, time.monotonic() - interval)
            if time.monotonic() >= until:
                return
            op = self.rng.choices(self.ops, self.weights)[0]
            await self.operation(client, op)

    async def poll_outstanding(self, stop: asyncio.Event) -> None:
        conn = None
        while not stop.is_set():
            try:
                if conn is None or conn.is_closed():
                    conn = await connect_all_orgs(self.database_url, connect_timeout=5)
                self.outstanding = await conn.fetchval(
                    "SELECT count(*) FROM export_jobs WHERE status IN ('QUEUED', 'RUNNING')"
                )
            except Exception:  # the database may be restarting (fault runs): keep the cap
                conn = None
            with_timeout = asyncio.wait_for(stop.wait(), 1.0)
            try:
                await with_timeout
            except TimeoutError:
                pass
        if conn is not None and not conn.is_closed():
            await conn.close()

    async def run(
        self,
        *,
        users: int,
        seconds: float,
        rate: float | None = None,
        on_tick: Any = None,
    ) -> Stats:
        """`users` loops for `seconds`; with `rate`, paced to that many operations per second."""
        self.stats = Stats()
        interval = users / rate if rate else None
        # Idle connections are dropped after 3 s, before uvicorn's 5 s keep-alive timeout: else
        # a request can go out on a connection the server is closing (a client-side ReadError).
        limits = httpx.Limits(
            max_connections=users * 2, max_keepalive_connections=users * 2, keepalive_expiry=3
        )
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits) as client:
            poller = asyncio.create_task(self.poll_outstanding(stop))
            ticker = asyncio.create_task(_tick(on_tick, stop)) if on_tick else None
            until = time.monotonic() + seconds
            try:
                await asyncio.gather(*(self.user(client, until, interval) for _ in range(users)))
            finally:
                stop.set()
                await poller
                if ticker:
                    await ticker
        self.stats.elapsed = time.monotonic() - self.stats.started  # type: ignore[attr-defined]
        return self.stats


async def _tick(callback: Any, stop: asyncio.Event, every: float = 5.0) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            await callback()


async def drain_exports(
    database_url: str, public_ids: list[str], max_wait: float = 180.0
) -> dict[str, Any]:
    """Waits until the run's export jobs have finished; counts them by status."""
    conn = await connect_all_orgs(database_url)
    start = time.monotonic()
    try:
        while True:
            rows = await conn.fetch(
                "SELECT status, count(*) AS n, max(attempts) AS attempts FROM export_jobs "
                "WHERE public_id = ANY($1::text[]) GROUP BY status",
                public_ids,
            )
            counts = {r["status"]: r["n"] for r in rows}
            pending = counts.get("QUEUED", 0) + counts.get("RUNNING", 0)
            if not pending or time.monotonic() - start > max_wait:
                return {
                    "by_status": counts,
                    "drain_seconds": round(time.monotonic() - start, 1),
                    "max_attempts": max((r["attempts"] for r in rows), default=0),
                }
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def summarize(
    stats: Stats, users: int, label: str, loads: list[tuple[float, ...]]
) -> dict[str, Any]:
    elapsed = getattr(stats, "elapsed", time.monotonic() - stats.started)
    ok_all = [x for v in stats.latencies.values() for x in v]
    ops_ok = len(ok_all)
    ops_err = sum(stats.errors.values())
    per_op = {}
    for op, lat in sorted(stats.latencies.items()):
        per_op[op] = {
            "count": len(lat),
            "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1),
        }
    return {
        "label": label,
        "users": users,
        "seconds": round(elapsed, 1),
        "operations": ops_ok + ops_err,
        "ops_per_s": round((ops_ok + ops_err) / elapsed, 1),
        "requests_per_s": round(stats.requests / elapsed, 1),
        "errors": ops_err,
        "error_kinds": dict(stats.errors),
        "error_examples": stats.error_examples,
        "p50_ms": round(percentile(ok_all, 50) * 1000, 1),
        "p95_ms": round(percentile(ok_all, 95) * 1000, 1),
        "p99_ms": round(percentile(ok_all, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(ok_all) * 1000, 1) if ok_all else None,
        "slowest_ms": round(stats.slowest * 1000, 1),
        "per_op": per_op,
        "exports_requested": len(stats.job_ids),
        "exports_skipped_at_cap": stats.skipped_exports,
        "load_average": {
            "before": loads[0] if loads else None,
            "after": loads[-1] if loads else None,
            "max_1min": max((lo[0] for lo in loads), default=None),
        },
    }


def print_row(s: dict[str, Any]) -> None:
    la = s["load_average"]
    print(
        f"{s['label']:<24} users {s['users']:>3}  {s['ops_per_s']:>7.1f} ops/s "
        f"({s['requests_per_s']:.1f} req/s)  p50 {s['p50_ms']:.0f} p95 {s['p95_ms']:.0f} "
        f"p99 {s['p99_ms']:.0f} ms  errors {s['errors']}  load {la['before']} -> {la['after']}"
        + "".join(
            f"  {kind} not measured"
            if c["cores_used"] is None
            else f"  {kind} {c['cores_used']} cores {c['ms_per_op']} ms/op"
            for kind, c in s.get("cpu", {}).items()
        ),
        flush=True,
    )


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    return path


def machine() -> dict[str, Any]:
    import os
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "note": "2 vCPUs shared with other engineers' test runs; load average recorded per run",
    }


# -- commands --------------------------------------------------------------------------------


async def measure(
    topo: Topology,
    sample: Sample,
    *,
    users: int,
    seconds: float,
    label: str,
    rate: float | None = None,
    warmup: float = 5.0,
    export_cap: int = 20,
    rss_every: float = 0.0,
    mix: tuple[tuple[str, int], ...] = MIX,
) -> dict[str, Any]:
    driver = Driver(
        topo.api_urls, sample, database_url=topo.database_url, export_cap=export_cap, mix=mix
    )
    if warmup:
        await driver.run(users=users, seconds=warmup, rate=rate)
        warm_ids = driver.stats.job_ids
    else:
        warm_ids = []
    loads = [load_average()]
    rss: list[dict[str, Any]] = []

    async def tick() -> None:
        loads.append(load_average())
        if rss_every:
            rss.append({"t": round(time.monotonic() - driver.stats.started), **topo.rss()})

    if rss_every:
        rss.append({"t": 0, **topo.rss()})
    not_measured = await topo.discover_postgres()
    cpu_before = topo.cpu()
    stats = await driver.run(users=users, seconds=seconds, rate=rate, on_tick=tick)
    cpu_after = topo.cpu()
    loads.append(load_average())
    summary = summarize(stats, users, label, loads)
    elapsed = summary["seconds"]
    ops = max(summary["operations"], 1)
    # CPU per operation is what a busy shared machine cannot distort much: it gives the
    # capacity of a core (1000 / ms per op) whatever the other sessions were doing.
    summary["cpu"] = cpu_use(cpu_before, cpu_after, elapsed, ops)
    if not_measured:
        summary["cpu"]["postgres"]["not_measured"] = not_measured
    if rss_every:
        rss.append({"t": round(time.monotonic() - stats.started), **topo.rss()})
        summary["rss_kb"] = rss
    summary["exports"] = await drain_exports(topo.database_url, warm_ids + stats.job_ids)
    for f in topo.export_dir.glob("*"):
        f.unlink(missing_ok=True)  # a load run's workbooks are not kept
    print_row(summary)
    return summary


def cpu_use(
    before: dict[str, float | None], after: dict[str, float | None], seconds: float, ops: int
) -> dict[str, dict[str, Any]]:
    """Cores used and CPU ms per operation by kind; None where a reading is missing."""
    out: dict[str, dict[str, Any]] = {}
    for kind, end in after.items():
        start = before.get(kind)
        if start is None or end is None:
            out[kind] = {"cores_used": None, "ms_per_op": None}
        else:
            out[kind] = {
                "cores_used": round((end - start) / seconds, 2),
                "ms_per_op": round((end - start) * 1000 / ops, 1),
            }
    return out


def deployment_of(args: argparse.Namespace) -> Deployment:
    try:
        return resolve_deployment(url=args.url, owner_url=args.owner_url, app_role=args.app_role)
    except DeploymentError as exc:
        raise SystemExit(f"{exc}") from None


async def capacity(args: argparse.Namespace) -> None:
    deployment = deployment_of(args)
    print(f"database: {deployment.describe()}", flush=True)
    await ensure_app_role(deployment)
    sample = await prepare(deployment, args.org)
    print(
        f"data: org {sample.slug!r}: {sample.members:,} members, ~{sample.activities:,} "
        f"activities; report window {sample.report_filter}",
        flush=True,
    )
    runs = []
    for apis in args.apis:
        with Topology(deployment, apis=apis, workers=args.workers, base_port=args.port) as topo:
            topo.start(migrate=False)
            for users in args.users:
                runs.append(
                    await measure(
                        topo,
                        sample,
                        users=users,
                        seconds=args.seconds,
                        label=f"{apis} API process(es)",
                        export_cap=args.export_cap,
                        mix=args.mix,
                    )
                )
                runs[-1]["apis"] = apis
                runs[-1]["mix"] = dict(args.mix)
    path = write_result(
        "scale-capacity", {"machine": machine(), "data": _data(sample), "runs": runs}
    )
    print(f"results: {path}")


async def soak(args: argparse.Namespace) -> None:
    deployment = deployment_of(args)
    print(f"database: {deployment.describe()}", flush=True)
    await ensure_app_role(deployment)
    sample = await prepare(deployment, args.org)
    with Topology(
        deployment, apis=args.api_count, workers=args.workers, base_port=args.port
    ) as topo:
        topo.start(migrate=False)
        summary = await measure(
            topo,
            sample,
            users=args.users[0],
            seconds=args.minutes * 60,
            rate=args.rate,
            label=f"soak {args.rate}/s",
            warmup=args.warmup,
            export_cap=args.export_cap,
            rss_every=5.0,
            mix=args.mix,
        )
    growth = rss_growth(summary["rss_kb"], warm_seconds=args.warm_seconds)
    summary["rss_growth"] = growth
    for name, g in growth.items():
        print(
            f"  RSS {name}: {g['warm_kb'] / 1024:.0f} MB -> {g['end_kb'] / 1024:.0f} MB "
            f"({g['growth_pct']:+.1f}%, max {g['max_kb'] / 1024:.0f} MB)"
        )
    path = write_result(
        "scale-soak", {"machine": machine(), "data": _data(sample), "soak": summary}
    )
    print(f"results: {path}")


def rss_growth(samples: list[dict[str, Any]], warm_seconds: float) -> dict[str, dict[str, Any]]:
    """Per process: RSS at the end of warm-up (first sample at or after it) vs the last."""
    names = {k for s in samples for k in s if k != "t"}
    out = {}
    for name in sorted(names):
        series = [(s["t"], s[name]) for s in samples if s.get(name)]
        warm = next((v for t, v in series if t >= warm_seconds), series[0][1])
        end = series[-1][1]
        out[name] = {
            "warm_kb": warm,
            "end_kb": end,
            "max_kb": max(v for _, v in series),
            "growth_pct": round((end - warm) / warm * 100, 1),
        }
    return out


def _data(sample: Sample) -> dict[str, Any]:
    return {
        "org": sample.slug,
        "members": sample.members,
        "activities_estimate": sample.activities,
        "report_window": sample.report_filter,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.drive.loadmix", description=__doc__.split("\n")[0]
    )
    p.add_argument("command", choices=("capacity", "soak"))
    add_database_options(p)
    p.add_argument("--org", help="organization slug (default: the one with most members)")
    p.add_argument("--apis", type=int, nargs="+", default=[1, 2], help="capacity: API counts")
    p.add_argument("--api-count", type=int, default=2, help="soak: API processes")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--users", type=int, nargs="+", default=[8], help="concurrent virtual users")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rate", type=float, help="soak: operations per second")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--warmup", type=float, default=10)
    p.add_argument("--warm-seconds", type=float, default=60, help="soak: RSS baseline time")
    p.add_argument("--export-cap", type=int, default=20)
    p.add_argument("--port", type=int, default=8101)
    p.add_argument(
        "--mix",
        type=parse_mix,
        default=MIX,
        help="operation weights, e.g. page=60,search=20,report=15,export=5 (the default)",
    )
    return p.parse_args(argv)


def add_database_options(p: argparse.ArgumentParser) -> None:
    """--url / --owner-url / --app-role, defaulting to the M360_* settings of a deployment."""
    p.add_argument(
        "--url",
        help="the database (default M360_DATABASE_URL, else the benchmark cluster on 5433): the "
        "app's URL (logging in as the app role), or the owner's when --owner-url is not given",
    )
    p.add_argument(
        "--owner-url",
        help="the tables' owner, who migrates and whose connection the bench reads with "
        "(default M360_MIGRATION_DATABASE_URL, else --url)",
    )
    p.add_argument(
        "--app-role",
        help="the plain role the API and workers log in as, under row-level security, as in "
        "production (default M360_APP_DB_ROLE, else member360_app; '' = connect the app as the "
        "owner, to measure what the policies cost)",
    )


def parse_mix(text: str) -> tuple[tuple[str, int], ...]:
    pairs = tuple((k.strip(), int(v)) for k, v in (part.split("=") for part in text.split(",")))
    unknown = [k for k, _ in pairs if k not in dict(MIX)]
    if unknown:
        raise argparse.ArgumentTypeError(f"--mix: unknown operation {unknown[0]!r}")
    return pairs


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    install_signal_exit()
    try:
        asyncio.run(capacity(args) if args.command == "capacity" else soak(args))
    except DeploymentError as exc:
        sys.exit(f"bench.drive.loadmix: {exc}")
    except KeyboardInterrupt:
        print("interrupted; every process was stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
