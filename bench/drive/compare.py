"""Member360, the raw floor and PostGraphile v5 side by side on the same reads, in one run.

    cd bench/postgraphile && npm ci && cd -          # once: PostGraphile and its plugins
    python -m bench.drive.compare                    # 10 s per target and read
    python -m bench.drive.compare --duration 30 --warmup 5 --scenarios member

The reads are bench/drive/queries.py MEMBER_ACTIVITY (one member and its 20 newest activities)
and CUSTOMER_LIST (50 members matching a name, each with 10 activities, transactions and
communications); bench/drive/postgraphile.py holds the same reads for PostGraphile's schema.
CUSTOMER_PAGE (the whole customer page) runs against Member360 and the floor only.
On the generated PostgreSQL data set (`bench.data.generate`; the manifest is used if present,
otherwise the organization and its members are read from the database) it:

1. applies bench/postgraphile/schema.sql (PostGraphile's computed columns, in their own schema
   postgraphile_bench, never in the app's migrations);
2. serves Member360 (uvicorn, one worker, as `bench.drive.run` does, rate limits off), the floor
   (`bench.drive.floor`, same server stack) and PostGraphile (`node bench/postgraphile/server.mjs`,
   one Node process, a pool of 20 connections);
3. checks, for random members and search terms, that the floor answers exactly what Member360
   does, and that PostGraphile's answers carry the same values (member fields; each activity's
   id, time, action, points and running balance, in order; the list's members and histories);
4. drives each target in turn with wrk (bench/wrk/post.lua, a random member or term per
   request), recording req/s, latency and the CPU of the server and of PostgreSQL.

Prints a table in `bench.drive.run`'s format and writes bench/results/compare-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH,
    DEFAULT_PG_DB,
    ORG_SLUG,
    RESULTS,
    ROOT,
    Manifest,
    asyncpg_dsn,
    database_name,
    pg_url,
    sqlalchemy_url,
)
from bench.drive import postgraphile, queries
from bench.drive.run import (
    CpuMeter,
    Server,
    _diff,
    _post,
    app_server,
    create_key,
    echo,
    floor_server,
    machine_info,
    pg_info,
    use_code,
    wait_quiet,
    wrk_post,
)

PROJECT = BENCH / "postgraphile"
TITLES = {
    "member": "member activity (1 x 20)",
    "list": "member list (50 x 3 x 10)",
    "page": "customer page (every tab)",
}
TARGETS = ("graphql", "floor", "postgraphile")


@dataclass(frozen=True)
class DataSet:
    """The generated data set the run reads: where it is and what to ask it for."""

    url: str  # postgresql://…
    org_slug: str
    org_id: int
    members: int
    customer_id_format: str
    search_terms: list[str]
    activities: int


def data_set(url: str, slug: str) -> DataSet:
    """From `bench.data.generate`'s manifest if there is one, else from the database."""
    path = Manifest.path_for("postgresql", sqlalchemy_url(url))
    if path.exists():
        m = Manifest.load("postgresql", sqlalchemy_url(url))
        return DataSet(
            url=asyncpg_dsn(m.url),
            org_slug=m.org_slug,
            org_id=m.org_id,
            members=m.members,
            customer_id_format=m.customer_id_format,
            search_terms=m.search_terms,
            activities=m.rows["points_activities"],
        )
    import asyncpg

    from bench.data.simulate import SEARCH_TERMS

    async def read() -> DataSet:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            org_id = await conn.fetchval("SELECT id FROM organizations WHERE slug = $1", slug)
            if org_id is None:
                raise SystemExit(f"no organization {slug!r} in {url}: generate the data set")
            members = await conn.fetchval(
                "SELECT count(*) FROM customers WHERE org_id = $1", org_id
            )
            activities = await conn.fetchval(
                "SELECT count(*) FROM points_activities WHERE org_id = $1", org_id
            )
            return DataSet(
                url=asyncpg_dsn(url),
                org_slug=slug,
                org_id=org_id,
                members=members,
                # bench.data.generate numbers its members from 1 in this format
                customer_id_format="CUST-%07d",
                search_terms=list(SEARCH_TERMS),
                activities=activities,
            )
        finally:
            await conn.close()

    return asyncio.run(read())


def apply_schema(url: str) -> None:
    """bench/postgraphile/schema.sql: idempotent (CREATE … IF NOT EXISTS / OR REPLACE)."""
    import asyncpg

    async def go() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await conn.execute((PROJECT / "schema.sql").read_text())
        finally:
            await conn.close()

    asyncio.run(go())


def member360_server(url: str, port: int) -> Server:
    """Member360 as `bench.drive.run` serves it, without its rate limits: one key at 1,000+
    req/s passes the per-key limit (6,000 a minute) within seconds, and the 429s that follow
    would be timed as fast answers. PostGraphile and the floor have no limiter either."""
    server = app_server(url, port)
    for limit in ("REQUESTS_PER_MINUTE", "ORG_REQUESTS_PER_MINUTE"):
        server.env[f"M360_RATE_LIMIT_{limit}"] = "0"  # 0 disables the limit
    return server


def postgraphile_server(url: str, port: int, pool: int) -> Server:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not on PATH (PostGraphile v5 runs on Node 20 or later)")
    if not (PROJECT / "node_modules" / "postgraphile").exists():
        raise SystemExit(f"PostGraphile is not installed: run `npm ci` in {PROJECT}")
    env = {
        "M360_PG_URL": url,
        "PORT": str(port),
        "PG_POOL_SIZE": str(pool),
        "NODE_ENV": "production",
    }
    return Server("postgraphile", [node, str(PROJECT / "server.mjs")], env, port)


# ---------------------------------------------------------------------- what each target is sent


@dataclass(frozen=True)
class Read:
    """One read as a target takes it: where it is posted, the document, the variable."""

    path: str
    document: str
    variable: str
    key: str  # bearer key (Member360 only)


def reads(data: DataSet, key: str) -> dict[str, dict[str, Read]]:
    """scenario -> target -> how that target is asked for it."""
    return {
        "member": {
            "graphql": Read("/graphql", queries.MEMBER_ACTIVITY, "customerId", key),
            "floor": Read("/member-activity", queries.MEMBER_ACTIVITY, "customerId", ""),
            "postgraphile": Read(
                "/graphql", postgraphile.member_activity(data.org_id), "customerId", ""
            ),
        },
        "list": {
            "graphql": Read("/graphql", queries.CUSTOMER_LIST, "search", key),
            "floor": Read("/customer-list", queries.CUSTOMER_LIST, "search", ""),
            "postgraphile": Read("/graphql", postgraphile.customer_list(data.org_id), "search", ""),
        },
        # The full customer page (16 connections, breakups, the expiry schedule): Member360
        # and the floor only; PostGraphile is compared on the two reads above.
        "page": {
            "graphql": Read("/graphql", queries.CUSTOMER_PAGE, "customerId", key),
            "floor": Read("/customer-page", queries.CUSTOMER_PAGE, "customerId", ""),
        },
    }


def _pick(kind: str, data: DataSet) -> str:
    if kind in ("member", "page"):
        return f"range:1:{data.members}:{data.customer_id_format}"
    return "list:" + ",".join(data.search_terms)


COMPARABLE = {
    "member": (postgraphile.member360_member, postgraphile.postgraphile_member),
    "list": (postgraphile.member360_list, postgraphile.postgraphile_list),
}


def same_answers(
    servers: dict[str, Server], plan: dict[str, dict[str, Read]], data: DataSet, checks: int
) -> dict[str, Any]:
    """The floor must answer exactly what Member360 does, PostGraphile the same values."""
    rng = random.Random(1)
    cases = [
        ("member", data.customer_id_format % rng.randint(1, data.members)) for _ in range(checks)
    ]
    cases += [("list", term) for term in rng.sample(data.search_terms, min(3, checks))]
    cases += [("page", data.customer_id_format % rng.randint(1, data.members)) for _ in range(3)]
    checked, problems = 0, []
    for kind, value in cases:
        answers = {}
        for target, server in servers.items():
            if target not in plan[kind]:
                continue
            read = plan[kind][target]
            body = {"query": read.document, "variables": {read.variable: value}}
            answers[target] = _post(server.url + read.path, body, read.key or None)
        checked += 1
        errors = {t: a["errors"][:1] for t, a in answers.items() if "errors" in a}
        if errors:
            problems.append(f"{kind} {value}: errors {errors}")
            continue
        mine = answers["graphql"]["data"]
        if "floor" in answers:
            found = _diff(mine, answers["floor"]["data"])
            if found:
                problems.append(f"{kind} {value}: floor {found}")
        if "postgraphile" in answers and kind in COMPARABLE:
            ours, theirs = COMPARABLE[kind]
            expected = ours(mine)
            if not expected or (kind == "list" and not expected["members"]):
                problems.append(f"{kind} {value}: Member360 found nothing to compare")
            found = _diff(expected, theirs(answers["postgraphile"]["data"]))
            if found:
                problems.append(f"{kind} {value}: postgraphile {found}")
    return {"checked": checked, "mismatches": problems}


# ---------------------------------------------------------------------- load


def measure(
    server: Server, read: Read, kind: str, target: str, data: DataSet, args: argparse.Namespace
) -> dict[str, Any]:
    quiet = wait_quiet(args.quiet_below, args.quiet_wait)
    url, pick, name = server.url + read.path, _pick(kind, data), f"compare-{kind}-{target}"
    if args.warmup:
        wrk_post(url, read.document, read.variable, pick, read.key, args, args.warmup, name)
    with CpuMeter(server.pid, database_name(data.url)) as meter:
        result = wrk_post(
            url, read.document, read.variable, pick, read.key, args, args.duration, name
        )
    result.update(meter.result)
    result["quiet"] = quiet
    counters = result.pop("pg_counters", {})
    if counters and result["requests"]:
        n = result["requests"]
        # autocommit statements count as transactions: a read in one statement shows 1.0
        result["per_request"] = {
            "db_transactions": round((counters["xact_commit"] + counters["xact_rollback"]) / n, 1),
            "db_tuples_read": round(counters["tup_returned"] / n),
        }
    return result


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return ""
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


def postgraphile_version() -> str:
    package = PROJECT / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.exists() else ""


def print_report(run: dict[str, Any]) -> None:
    m, s, ds = run["machine"], run["settings"], run["dataset"]
    echo("\n" + "=" * 100)
    echo(f"code: {run['code']['source']}")
    echo(
        f"Member360 vs floor vs PostGraphile {run['postgraphile']['version']} (Node "
        f"{run['postgraphile']['node']})  {run['started_at']}  {m['cpus']} x {m['cpu_model']}, "
        f"{m['memory_gb']} GB, Python {m['python']}"
    )
    check = run["same_answers"]
    echo(
        f"\npostgresql: {ds['members']:,} members, {ds['activities']:,} activities; "
        f"wrk -t{s['threads']} -c{s['connections']} -d{s['duration']}s; one uvicorn worker, "
        f"one Node process; same answers {check['checked'] - len(check['mismatches'])}/"
        f"{check['checked']}"
    )
    head = f"{'':<28}{'':<14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU':>9}"
    echo(head + f"{'db CPU':>8}{'other':>7}{'errors':>8}")
    for kind, rows in run["scenarios"].items():
        for target in TARGETS:
            r = rows.get(target)
            if not r:
                continue
            errors = r["non_200"] + r["graphql_errors"] + r["socket_errors"] + r["timeouts"]
            echo(
                f"{TITLES[kind]:<28}{target:<14}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}"
                f"{r['p99_ms']:>9.1f}{r['server_cpu_pct']:>8.0f}%{r['db_cpu_pct']:>7.0f}%"
                f"{r.get('other_cpu_pct', 0):>6.0f}%{errors:>8}"
            )
        ratios = [f"{k} = {v:.3f}" for k, v in rows.get("ratios", {}).items()]
        if ratios:
            echo(f"{'':<28}" + "   ".join(ratios))
    echo("=" * 100)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.drive.compare", description=__doc__.split("\n")[0]
    )
    p.add_argument("--url", default=pg_url(DEFAULT_PG_DB), help="the generated data set")
    p.add_argument("--org", default=ORG_SLUG, help="its organization's slug")
    p.add_argument("--scenarios", default="member,list,page", help="member,list,page")
    p.add_argument("--targets", default=",".join(TARGETS), help=",".join(TARGETS))
    p.add_argument("--duration", type=int, default=10, help="seconds per target and read")
    p.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (concurrency)")
    p.add_argument("--checks", type=int, default=8, help="members compared before the load")
    p.add_argument("--pool", type=int, default=20, help="PostGraphile's PostgreSQL connections")
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
    p.add_argument("--postgraphile-port", type=int, default=8013)
    args = p.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = {*args.scenarios} - {*TITLES} | {*args.targets} - {*TARGETS}
    if unknown:
        p.error(f"unknown: {', '.join(sorted(unknown))}")
    if "graphql" not in args.targets:
        p.error("the answers are checked against Member360's: --targets needs graphql")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    data = data_set(args.url, args.org)
    echo(f"== {data.members:,} members, {data.activities:,} points activities ({data.url})")
    run: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "code": use_code(args.code),
        "postgraphile": {"version": postgraphile_version(), "node": node_version()},
        "postgresql": pg_info(data.url),
        "dataset": {"url": data.url, "members": data.members, "activities": data.activities},
        "settings": {
            k: getattr(args, k) for k in ("threads", "connections", "duration", "warmup", "pool")
        },
    }
    if "postgraphile" in args.targets:
        apply_schema(data.url)
    key = create_key(sqlalchemy_url(data.url), data.org_slug)
    plan = reads(data, key)
    makers = {
        "graphql": lambda: member360_server(sqlalchemy_url(data.url), args.app_port),
        "floor": lambda: floor_server(data.url, args.floor_port),
        "postgraphile": lambda: postgraphile_server(data.url, args.postgraphile_port, args.pool),
    }
    servers: dict[str, Server] = {}
    results: dict[str, dict[str, Any]] = {}
    try:
        for target in args.targets:
            servers[target] = makers[target]().__enter__()
        run["same_answers"] = check = same_answers(servers, plan, data, args.checks)
        agree = check["checked"] - len(check["mismatches"])
        echo(f"same answers from {', '.join(servers)}: {agree}/{check['checked']}")
        for problem in check["mismatches"]:
            echo(f"  MISMATCH {problem}")
        for kind in args.scenarios:
            results[kind] = {}
            for target, server in servers.items():
                if target not in plan[kind]:
                    continue
                echo(f"wrk {kind} -> {target} ({args.duration} s) …")
                results[kind][target] = measure(
                    server, plan[kind][target], kind, target, data, args
                )
            rows, ratios = results[kind], {}
            for a, b in (
                ("graphql", "floor"),
                ("postgraphile", "floor"),
                ("graphql", "postgraphile"),
            ):
                if a in rows and b in rows:
                    ratios[f"{a}/{b}"] = round(rows[a]["rps"] / max(rows[b]["rps"], 1e-9), 3)
            rows["ratios"] = ratios
    finally:
        for server in reversed(servers.values()):
            server.stop()
    run["scenarios"] = results
    out = RESULTS / f"compare-{started:%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(run, indent=2, default=str))
    print_report(run)
    echo(f"results: {Path(out).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
