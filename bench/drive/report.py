"""The All Interactions report over HTTP: latency and throughput, GraphQL against the raw floor.

    python -m bench.drive.report --url postgresql://postgres@127.0.0.1:5432/m360_bench
    python -m bench.drive.report --url sqlite:///bench/datasets/report.db --seconds 8

The database must hold a data set from `bench.data.generate` (organization `bench`) migrated to the
report's indexes (`member360` migrations, revision 0002). The run serves the API
(`uvicorn --factory member360.app:create_app`, one worker, M360_EXTERNAL_WORKERS=true) and, on
PostgreSQL, the floor: `floor_app` below, the same uvicorn stack answering the same POST body
with the report's own SQL (built once per distinct body by `member360.reports.interactions`,
then only asyncpg: the database builds the response JSON; no GraphQL, no ORM, no Python per
row). It checks that both answer the same JSON, then drives each with wrk (a Lua script per
scenario, written to bench/results/) and reports:

- latency with one client (wrk -t1 -c1): p50 / p90 / p99 per scenario,
- throughput at concurrency 8 (wrk -t2 -c8) for the first page, GraphQL and floor, with the
  CPU seconds per request of the server process and of the database's backends.

Scenarios (a 30-day range ending on the newest day of data, newest day first):
first page of 50; the page 200 pages deep (its cursor found by walking the pages once);
`contentText` with two terms (a member id prefix and an order id prefix, each matching about
0.1% of the range's rows; the run prints the measured share); `totals { points }`; and
`totalCount totals { points }`. Results go to bench/results/report-<dialect>-<time>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, VENV_BIN, asyncpg_dsn, database_name, sqlalchemy_url

TARGETS_MS = {"first": 50, "deep": 60, "content_member": 150, "content_order": 150, "totals": 300}
THROUGHPUT_TARGET = 0.85
CLK_TCK = os.sysconf("SC_CLK_TCK")

ROW_FIELDS = (
    "date name userId email actionId actionName orderId customId coupon points groupPoints "
    "pointsExpirationDate sectionId sectionName surveyId surveyName reason source optInStatus "
    "senderId receiverId storeId storeName storeRegion storeType phoneNumber userRole"
)
PAGE = (
    "query Report($filter: InteractionReportFilter!, $first: Int, $after: String) {\n"
    "  interactionReport(filter: $filter, first: $first, after: $after) {\n"
    f"    edges {{ cursor node {{ {ROW_FIELDS} }} }}\n"
    "    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n"
    "  }\n}\n"
)
# The same page with six of the 27 columns: how the cost follows the number of fields.
NARROW = (
    "query Report($filter: InteractionReportFilter!, $first: Int, $after: String) {\n"
    "  interactionReport(filter: $filter, first: $first, after: $after) {\n"
    "    edges { cursor node { date userId actionId orderId points reason } }\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}\n"
)
CURSORS = (
    "query Cursors($filter: InteractionReportFilter!, $first: Int, $after: String) {\n"
    "  interactionReport(filter: $filter, first: $first, after: $after) {\n"
    "    pageInfo { hasNextPage endCursor }\n  }\n}\n"
)
TOTALS = (
    "query Totals($filter: InteractionReportFilter!) {\n"
    "  interactionReport(filter: $filter, first: 0) { totals { points } }\n}\n"
)
COUNT_AND_TOTALS = (
    "query Totals($filter: InteractionReportFilter!) {\n"
    "  interactionReport(filter: $filter, first: 0) { totalCount totals { points } }\n}\n"
)


def echo(text: str = "") -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------- the floor


def floor_app() -> Any:
    """The floor: POST /report takes the GraphQL request body and answers the same JSON."""
    import asyncpg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    from member360.orgs.service import get_org
    from member360.reports import interactions as report

    url = sqlalchemy_url(os.environ["M360_FLOOR_DATABASE_URL"])
    state: dict[str, Any] = {}
    # Each distinct body (a scenario) becomes one SQL text and its arguments, once.
    prepared: dict[bytes, tuple[str, list[Any]]] = {}

    async def startup() -> None:
        from sqlalchemy.dialects.postgresql.asyncpg import dialect as pg_dialect

        from member360.db import Database

        db = Database(url)
        state["org"] = await get_org(db, slug=os.environ.get("M360_FLOOR_ORG", "bench"))
        await db.dispose()
        state["dialect"] = pg_dialect()
        state["pool"] = await asyncpg.create_pool(asyncpg_dsn(url), min_size=10, max_size=10)

    async def shutdown() -> None:
        await state["pool"].close()

    def compile_(q: Any) -> tuple[str, list[Any]]:
        compiled = q.statement.compile(
            dialect=state["dialect"], compile_kwargs={"render_postcompile": True}
        )
        params = compiled.construct_params(q.params)
        return compiled.string, [params[name] for name in compiled.positiontup]

    async def plan(body: bytes) -> tuple[str, list[Any]]:
        found = prepared.get(body)
        if found is not None:
            return found
        request = json.loads(body)
        variables = request["variables"]
        org = state["org"]
        f = report.ReportFilter.from_params(variables["filter"]).checked()
        first = report.page_size(variables.get("first"))
        after = variables.get("after")
        start = report.RowKey.from_cursor(after) if after else None
        matches = report.CatalogMatches()
        if f.content_text is not None:
            sql, args = compile_(report.catalog_query(org.id, f.content_text, "postgresql"))
            async with state["pool"].acquire() as conn:
                for kind, key, sub in await conn.fetch(sql, *args):
                    if kind == "A":
                        matches.action_ids.append(int(key))
                    elif kind == "S":
                        matches.store_ids.append(key)
                    elif kind == "V":
                        matches.survey_ids.append(key)
                    else:
                        matches.sections.append((key, sub))
        scope = report.Scope(org.id, "postgresql", True, matches)
        if "edges" not in request["query"]:  # the totals scenario
            sql, args = compile_(report.points_query(f, scope))
            found = (
                "SELECT json_build_object('data', json_build_object('interactionReport', "
                f"json_build_object('totals', json_build_object('points', p))))::text "
                f"FROM ({sql}) t(p)",
                args,
            )
        else:
            sql, args = compile_(report.page_query(f, scope, after=start, limit=first + 1))
            found = (_page_json(sql, first, start is not None, org), args)
        prepared[body] = found
        return found

    async def serve(request: Request) -> Response:
        sql, args = await plan(await request.body())
        async with state["pool"].acquire() as conn:
            text = await conn.fetchval(sql, *args)
        return Response(text, media_type="application/json")

    async def livez(_: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        await startup()
        try:
            yield
        finally:
            await shutdown()

    return Starlette(
        routes=[Route("/report", serve, methods=["POST"]), Route("/livez", livez)],
        lifespan=lifespan,
    )


def _page_json(page_sql: str, first: int, has_previous: bool, org: Any) -> str:
    """The GraphQL response of a page, built by PostgreSQL around the page's own SQL."""
    tz = org.time_zone.replace("'", "''")
    cursor = (
        "translate(encode(convert_to('[\"' || r.local_date::text || '\",' || r.customer_id || "
        "',' || r.action_id || ',' || coalesce(to_json(r.order_id)::text, 'null') || ',' || "
        "coalesce(to_json(r.custom_id)::text, 'null') || ']', 'UTF8'), 'base64'), E'+/\\n', '-_')"
    )
    group_points = "r.group_points" if org.hierarchy else "NULL::int"
    node = (
        "json_build_object('date', r.local_date, 'name', r.name, 'userId', r.user_id, "
        "'email', r.email, 'actionId', r.action_id, "
        "'actionName', coalesce(r.action_name, r.action_id::text), 'orderId', r.order_id, "
        "'customId', r.custom_id, 'coupon', r.coupon, 'points', r.points, "
        f"'groupPoints', {group_points}, "
        f"'pointsExpirationDate', (r.expires_at AT TIME ZONE '{tz}')::date, "
        "'sectionId', r.section_id, 'sectionName', r.section_name, 'surveyId', r.survey_id, "
        "'surveyName', r.survey_name, 'reason', r.reason, 'source', r.source, "
        "'optInStatus', r.opted_in, 'senderId', r.sender_id, 'receiverId', r.receiver_id, "
        "'storeId', r.store_id, 'storeName', r.store_name, 'storeRegion', r.store_region, "
        "'storeType', r.store_type, 'phoneNumber', r.mobile, 'userRole', r.user_role)"
    )
    in_page = f"FILTER (WHERE rn <= {int(first)})"
    return (
        "SELECT json_build_object('data', json_build_object('interactionReport', "
        "json_build_object("
        f"'edges', coalesce(json_agg(json_build_object('cursor', cur, 'node', node) "
        f"ORDER BY rn) {in_page}, '[]'), "
        "'pageInfo', json_build_object("
        f"'hasNextPage', count(*) > {int(first)}, "
        f"'hasPreviousPage', {'true' if has_previous else 'false'}, "
        f"'startCursor', (array_agg(cur ORDER BY rn) {in_page})[1], "
        f"'endCursor', (array_agg(cur ORDER BY rn DESC) {in_page})[1]))))::text "
        f"FROM (SELECT row_number() OVER () AS rn, {cursor} AS cur, {node} AS node "
        f"FROM ({page_sql}) r) p"
    )


# ---------------------------------------------------------------------- processes


class Server:
    """A uvicorn process on a loopback port, stopped (by its own pid) when the block ends."""

    def __init__(self, name: str, factory: str, env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.log = RESULTS / f"report-server-{name}.log"
        self.cmd = [
            str(VENV_BIN / "uvicorn"),
            "--factory",
            factory,
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
        self.env = env

    def __enter__(self) -> Server:
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_handle = self.log.open("w")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env={**os.environ, **self.env},
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
        self.__exit__()
        raise RuntimeError(f"{self.name} did not come up: {self.log.read_text()[-2000:]}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_handle.close()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def backend_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `database`."""
    found: dict[int, float] = {}
    if database is None:
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            found[int(entry.name)] = cpu_seconds(int(entry.name))
    return found


def machine_busy(seconds: float = 5.0) -> float:
    """Percent of the machine's CPU time that was busy over the next `seconds`."""

    def sample() -> tuple[int, int]:
        parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(parts) - parts[3] - parts[4], sum(parts)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return 100 * (busy1 - busy0) / max(1, total1 - total0)


def wait_for_quiet(below: float, limit: float) -> float:
    """Waits (up to `limit` seconds) until other work leaves the machine mostly idle: the
    figures are latencies on shared CPUs."""
    deadline = time.monotonic() + limit
    while True:
        busy = machine_busy()
        if busy < below or time.monotonic() > deadline:
            return busy
        echo(f"machine {busy:.0f}% busy; waiting for < {below:.0f}%")
        time.sleep(10)


def post(url: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return dict(json.loads(response.read()))


LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  %(auth)s
  wrk.body = %(body)s
  non_200 = 0
  graphql_errors = 0
end
function response(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1
  elseif body:find('"errors"', 1, true) then graphql_errors = graphql_errors + 1 end
end
function done(summary, latency, requests)
  local bad, errors = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non_200")
    errors = errors + thread:get("graphql_errors")
  end
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "rps": %%.2f, "p50_ms": %%.2f, "p90_ms": %%.2f, ' ..
    '"p99_ms": %%.2f, "mean_ms": %%.2f, "non_200": %%d, "graphql_errors": %%d, ' ..
    '"socket_errors": %%d}\\n',
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.mean / 1000, bad, errors,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrk(
    name: str,
    url: str,
    body: dict[str, Any],
    key: str | None,
    *,
    connections: int,
    threads: int,
    seconds: int,
    database: str | None,
    server_pid: int,
) -> dict[str, Any]:
    script = RESULTS / f"report-{name}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {key}"' if key else ""
    script.write_text(LUA % {"auth": auth, "body": lua_string(json.dumps(body))})
    before_server = cpu_seconds(server_pid)
    before_db = backend_cpu(database)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"WRK_JSON (\{.*\})", out.stdout)
    if match is None:
        raise RuntimeError(out.stdout + out.stderr)
    result: dict[str, Any] = json.loads(match.group(1))
    after_db = backend_cpu(database)
    server = cpu_seconds(server_pid) - before_server
    db_cpu = sum(v - before_db.get(pid, 0.0) for pid, v in after_db.items())
    n = max(1, result["requests"])
    result["server_cpu_ms_per_request"] = round(1000 * server / n, 3)
    result["db_cpu_ms_per_request"] = round(1000 * db_cpu / n, 3) if database else None
    if result["non_200"] or result["graphql_errors"] or result["socket_errors"]:
        raise RuntimeError(f"{name}: failed requests {result}")
    return result


# ---------------------------------------------------------------------- the run

KEY_SCRIPT = """
import asyncio, sys
from member360.auth.keys import create_api_key
from member360.db import Database
from member360.orgs.service import get_org

async def main(url, slug):
    db = Database(url)
    try:
        org = await get_org(db, slug=slug)
        print(await create_api_key(db, org, ["reports:read", "pii:read"], name="bench-report"))
    finally:
        await db.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

FACTS_SCRIPT = """
import asyncio, json, sys
from sqlalchemy import func, select
from member360.db import Database
from member360.db import table
from member360.orgs.service import get_org

async def main(url, slug):
    db = Database(url)
    try:
        org = await get_org(db, slug=slug)
        pa = table("points_activities")
        async with db.session(org.id) as s:
            row = (await s.execute(
                select(func.count(), func.max(pa.c.local_date), func.min(pa.c.local_date))
                .where(pa.c.org_id == org.id))).one()
            members = await s.scalar(
                select(func.count()).select_from(table("customers"))
                .where(table("customers").c.org_id == org.id))
        print(json.dumps({"activities": row[0], "last_day": row[1].isoformat(),
                          "first_day": row[2].isoformat(), "members": members}))
    finally:
        await db.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def run_script(script: str, *args: str) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", script, *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="database of a bench.data.generate data set")
    parser.add_argument("--org", default="bench")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--depth", type=int, default=200, help="pages deep for the deep page")
    parser.add_argument("--seconds", type=int, default=10, help="per latency scenario")
    parser.add_argument("--throughput-seconds", type=int, default=20)
    parser.add_argument("--member-term", default=None, help="contentText: a member id prefix")
    parser.add_argument("--order-term", default=None, help="contentText: an order id prefix")
    parser.add_argument("--port", type=int, default=8031)
    parser.add_argument("--quiet-below", type=float, default=None, help="wait for CPU busy %% <")
    parser.add_argument("--quiet-wait", type=float, default=900, help="at most, seconds")
    args = parser.parse_args()

    url = sqlalchemy_url(args.url)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    database = database_name(url) if dialect == "postgresql" else None
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (apt-get install wrk)")
    busy_before = None
    if args.quiet_below is not None:
        busy_before = wait_for_quiet(args.quiet_below, args.quiet_wait)
        echo(f"machine {busy_before:.0f}% busy before the run")
    facts = json.loads(run_script(FACTS_SCRIPT, url, args.org))
    key = run_script(KEY_SCRIPT, url, args.org)
    last = dt.date.fromisoformat(facts["last_day"])
    window = {"from": (last - dt.timedelta(days=args.days - 1)).isoformat(), "to": last.isoformat()}
    echo(
        f"{dialect}: {facts['activities']:,} activities, {facts['members']:,} members, "
        f"{facts['first_day']} .. {facts['last_day']}; range {window['from']} .. {window['to']}"
    )
    results: dict[str, Any] = {
        "dialect": dialect,
        "url": url,
        "facts": facts,
        "window": window,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "machine_busy_percent_before": busy_before,
        "load_average_before": os.getloadavg(),
        "latency": {},
        "throughput": {},
    }
    app_env = {"M360_DATABASE_URL": url, "M360_EXTERNAL_WORKERS": "true"}
    with contextlib.ExitStack() as stack:
        app = stack.enter_context(Server("graphql", "member360.app:create_app", app_env, args.port))
        floor = None
        if dialect == "postgresql":
            floor_env = {"M360_FLOOR_DATABASE_URL": url, "M360_FLOOR_ORG": args.org}
            floor = stack.enter_context(
                Server("floor", "bench.drive.report:floor_app", floor_env, args.port + 1)
            )
        gql = f"{app.url}/graphql"

        def body(document: str, **variables: Any) -> dict[str, Any]:
            return {"query": document, "variables": {"filter": window, **variables}}

        # The deep page's cursor: walk the pages once.
        started = time.monotonic()
        after = None
        for _ in range(args.depth):
            page = post(gql, body(CURSORS, first=50, after=after), key)
            info = page["data"]["interactionReport"]["pageInfo"]
            after = info["endCursor"]
        echo(f"walked {args.depth} pages in {time.monotonic() - started:.1f} s")

        total = post(gql, body(COUNT_AND_TOTALS), key)["data"]["interactionReport"]
        results["rows_in_range"] = total["totalCount"]
        member_term = args.member_term or _member_term(facts["members"])
        order_term = args.order_term or _order_term(gql, window, key, total["totalCount"])
        scenarios: dict[str, dict[str, Any]] = {
            "first": body(PAGE, first=50),
            "first_narrow": body(NARROW, first=50),
            "deep": body(PAGE, first=50, after=after),
            "content_member": {
                "query": PAGE,
                "variables": {"filter": {**window, "contentText": member_term}, "first": 50},
            },
            "content_order": {
                "query": PAGE,
                "variables": {"filter": {**window, "contentText": order_term}, "first": 50},
            },
            "totals": body(TOTALS),
            "count_and_totals": body(COUNT_AND_TOTALS),
        }
        for name in ("content_member", "content_order"):
            term = scenarios[name]["variables"]["filter"]["contentText"]
            found = _count(gql, {**window, "contentText": term}, key)
            share = found / max(1, total["totalCount"])
            results.setdefault("content_terms", {})[name] = {
                "term": term,
                "rows": found,
                "share_of_range": round(share, 5),
            }
            echo(
                f"{name}: {term!r} matches {found:,} of {total['totalCount']:,} rows ({share:.3%})"
            )

        if floor is not None:
            for name in ("first", "deep", "content_member", "totals"):
                ours = post(gql, scenarios[name], key)
                theirs = post(f"{floor.url}/report", scenarios[name])
                if ours != theirs:
                    raise SystemExit(f"{name}: GraphQL and the floor differ:\n{ours}\n{theirs}")
            echo("GraphQL and the floor answer the same JSON")

        for name, payload in scenarios.items():
            result = wrk(
                f"{dialect}-{name}",
                gql,
                payload,
                key,
                connections=1,
                threads=1,
                seconds=args.seconds,
                database=database,
                server_pid=app.proc.pid,
            )
            results["latency"][name] = result
            target = TARGETS_MS.get(name)
            verdict = "" if target is None else ("ok" if result["p50_ms"] <= target else "MISSED")
            echo(
                f"latency {name:17s} p50 {result['p50_ms']:7.2f} ms  p90 {result['p90_ms']:7.2f}"
                f"  p99 {result['p99_ms']:7.2f}  (target p50 <= {target} ms) {verdict}"
            )
        if floor is not None:
            floor_latency = wrk(
                f"{dialect}-floor-first",
                f"{floor.url}/report",
                scenarios["first"],
                None,
                connections=1,
                threads=1,
                seconds=args.seconds,
                database=database,
                server_pid=floor.proc.pid,
            )
            results["latency"]["floor_first"] = floor_latency
            echo(f"latency floor first       p50 {floor_latency['p50_ms']:7.2f} ms")
        for name in ("first", "first_narrow", "deep"):
            result = wrk(
                f"{dialect}-{name}-c8",
                gql,
                scenarios[name],
                key,
                connections=8,
                threads=2,
                seconds=args.throughput_seconds,
                database=database,
                server_pid=app.proc.pid,
            )
            results["throughput"][name] = result
            echo(
                f"throughput {name} (c8): {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms;"
                f" server CPU {result['server_cpu_ms_per_request']} ms/req, database CPU "
                f"{result['db_cpu_ms_per_request']} ms/req"
            )
            if floor is not None and name == "first":
                floor_result = wrk(
                    f"{dialect}-floor-{name}-c8",
                    f"{floor.url}/report",
                    scenarios[name],
                    None,
                    connections=8,
                    threads=2,
                    seconds=args.throughput_seconds,
                    database=database,
                    server_pid=floor.proc.pid,
                )
                results["throughput"][f"floor_{name}"] = floor_result
                ratio = result["rps"] / floor_result["rps"]
                results["throughput"]["ratio_first"] = round(ratio, 3)
                echo(
                    f"throughput floor (c8): {floor_result['rps']:.0f} req/s, server CPU "
                    f"{floor_result['server_cpu_ms_per_request']} ms/req, database CPU "
                    f"{floor_result['db_cpu_ms_per_request']} ms/req; GraphQL/floor = "
                    f"{ratio:.2f} (target >= {THROUGHPUT_TARGET})"
                )
    results["load_average_after"] = os.getloadavg()
    results["breakdown_ms"] = breakdown(url, args.org, window)
    echo(
        "in-process, per first page (p50 of 200): "
        + ", ".join(f"{k} {v:.2f} ms" for k, v in results["breakdown_ms"].items())
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"report-{dialect}-{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    echo(f"results: {out.relative_to(ROOT)}")


BREAKDOWN_SCRIPT = """
import asyncio, datetime as dt, json, statistics, sys, time
import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from member360.db import Database
from member360.graphql.relay import PageInfo
from member360.orgs.service import get_org
from member360.reports.interactions import ReportFilter, fetch_page
from member360.reports.types import (
    InteractionReportConnection, InteractionReportEdge, InteractionReportRow,
)
from bench.drive.report import PAGE

async def main(url, slug, start, end):
    db = Database(url)
    org = await get_org(db, slug=slug)
    f = ReportFilter(dt.date.fromisoformat(start), dt.date.fromisoformat(end))

    async def timed(make, n=200):
        spent = []
        for _ in range(n):
            t = time.perf_counter()
            await make()
            spent.append(time.perf_counter() - t)
        return 1000 * statistics.median(spent)

    page = await fetch_page(db, org, f, pii=True, first=50)
    out = {"fetch_page (SQL, session, rows)": await timed(
        lambda: fetch_page(db, org, f, pii=True, first=50))}
    connection = InteractionReportConnection(
        edges=[InteractionReportEdge(cursor=r.key.cursor(), node=InteractionReportRow.from_row(r))
               for r in page.rows],
        page_info=PageInfo(has_next_page=True, has_previous_page=False, start_cursor=None,
                           end_cursor=None),
        rows_total=None, points_total=None,
    )

    @strawberry.type
    class Query:
        @strawberry.field
        def interaction_report(self, filter: strawberry.scalars.JSON,
                               first: int | None = None,
                               after: str | None = None) -> InteractionReportConnection:
            return connection

    # As the API's schema: parsed and validated documents are cached.
    schema = strawberry.Schema(
        query=Query, extensions=[lambda: ParserCache(maxsize=8), lambda: ValidationCache(maxsize=8)]
    )
    document = PAGE.replace("InteractionReportFilter!", "JSON!")
    variables = {"filter": {}, "first": 50}
    out["GraphQL execution of the page (50 rows x 27 fields)"] = await timed(
        lambda: schema.execute(document, variable_values=variables))
    out["rows to GraphQL types and cursors"] = await timed(
        lambda: asyncio.sleep(0, [(r.key.cursor(), InteractionReportRow.from_row(r))
                                  for r in page.rows]))
    await db.dispose()
    print(json.dumps(out))

asyncio.run(main(*sys.argv[1:]))
"""


def breakdown(url: str, org: str, window: dict[str, str]) -> dict[str, float]:
    """Where a first page's time goes inside the API process (no HTTP): the report's data
    access, and GraphQL's execution of the same page from prepared objects."""
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", BREAKDOWN_SCRIPT, url, org, window["from"], window["to"]],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return {k: round(v, 3) for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def _count(gql: str, filters: dict[str, Any], key: str) -> int:
    body = {"query": COUNT_AND_TOTALS, "variables": {"filter": filters}}
    return int(post(gql, body, key)["data"]["interactionReport"]["totalCount"])


def _member_term(members: int) -> str:
    """A customer id prefix shared by ~0.1% of the members (ids are CUST-%07d from 1)."""
    varying = max(0, round(math.log10(max(1, members) / 1000)))
    return "CUST-" + "0012345"[: 7 - varying]


def _order_term(gql: str, window: dict[str, str], key: str, total: int) -> str:
    """A prefix of the newest order id, shortened until it matches >= 0.1% of the rows."""
    body = {"query": PAGE, "variables": {"filter": window, "first": 50}}
    edges = post(gql, body, key)["data"]["interactionReport"]["edges"]
    order = next(e["node"]["orderId"] for e in edges if e["node"]["orderId"])
    for length in range(len(order) - 1, 4, -1):
        if _count(gql, {**window, "contentText": order[:length]}, key) >= total / 1000:
            return str(order[:length])
    return str(order[:5])


if __name__ == "__main__":
    sys.exit(main())
