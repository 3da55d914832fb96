"""`make scale-demo`: the docker-compose topology on loopback, driven together, then stopped.

Migrates the database once, starts two `member360 serve` processes (ports 8101, 8102), two
`member360 worker` processes on the procrastinate queue, a mail sink and a shared export
directory; waits for /readyz; runs a short load mix over both ports; requests one export by
email and waits for the mail; prints a summary and stops everything (also on Ctrl-C).

It connects as production does (README, "Scaling out"): migrations as the tables' owner, the
API and workers as a plain role under row-level security (member360_app unless
M360_APP_DB_ROLE / --app-role say otherwise; created on a fresh cluster, as docker-compose's
init script does). Either setting style works:

    make scale-demo     # owner postgresql://postgres@127.0.0.1:5433/m360_bench, member360_app
    M360_DATABASE_URL=postgresql://member360_app@127.0.0.1:5433/m360_bench \
    M360_MIGRATION_DATABASE_URL=postgresql://postgres@127.0.0.1:5433/m360_bench \
    M360_APP_DB_ROLE=member360_app make scale-demo

The bench finds the organization with the most members over the owner's connection with every
organization in view; a database with none gets a small demo organization first, seeded
through the app (`member360 demo` with the deployment's settings).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import httpx

from bench.common import DRIVER_APPLICATION_NAME, connect_all_orgs, database_name
from bench.drive.loadmix import EXPORT, add_database_options, deployment_of, measure, prepare
from bench.topology.loopback import (
    ROOT,
    Deployment,
    DeploymentError,
    Topology,
    ensure_app_role,
    install_signal_exit,
    load_average,
    member360_cmd,
    url_user,
)


async def has_members(deployment: Deployment) -> bool:
    conn = await connect_all_orgs(deployment.owner_url)
    try:
        present = await conn.fetchval("SELECT to_regclass('customers') IS NOT NULL")
        return bool(present and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customers)"))
    finally:
        await conn.close()


async def app_logins(deployment: Deployment) -> dict[str, int]:
    """Who the API and worker processes are logged in as now (every connection to the
    database but the bench's own), from pg_stat_activity."""
    conn = await connect_all_orgs(deployment.owner_url)
    try:
        rows = await conn.fetch(
            "SELECT usename, count(*) AS n FROM pg_stat_activity "
            "WHERE datname = $1 AND backend_type = 'client backend' "
            "AND application_name <> $2 GROUP BY usename ORDER BY usename",
            database_name(deployment.owner_url),
            DRIVER_APPLICATION_NAME,
        )
        return {r["usename"]: r["n"] for r in rows}
    finally:
        await conn.close()


async def email_export(topo: Topology, key: str, customer_id: str, max_wait: float) -> dict:
    """Requests one export by email through the second API and waits for the mail to arrive."""
    before = len(topo.mails())
    body = {
        "query": EXPORT,
        "variables": {
            "input": {
                "customerTab": {"customerId": customer_id, "tab": "POINTS_ACTIVITY"},
                "delivery": "EMAIL",
                "email": "scale-demo@example.com",
            }
        },
    }
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{topo.api_urls[-1]}/graphql", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        data = response.json()
        if data.get("errors"):
            raise RuntimeError(f"requestExport failed: {data['errors']}")
        job_id = data["data"]["requestExport"]["id"]
        while time.monotonic() - start < max_wait:
            mails = topo.mails()[before:]
            if mails:
                text = mails[0].read_text(errors="replace")
                return {
                    "job": job_id,
                    "seconds": round(time.monotonic() - start, 1),
                    "subject": next(
                        (ln for ln in text.splitlines() if ln.startswith("Subject:")), ""
                    ),
                    "has_link": "/exports/" in text,
                }
            await asyncio.sleep(0.2)
    raise RuntimeError(f"no export email within {max_wait:.0f} s (job {job_id})")


async def run(args: argparse.Namespace, topo: Topology, deployment: Deployment) -> int:
    print(f"database: {deployment.describe()}")
    await ensure_app_role(deployment)
    topo.migrate()  # once, before any API process starts (docker-compose's `migrate` service)
    if not await has_members(deployment):
        print("empty database: creating a demo organization (member360 demo --members 500)")
        cmd = [*member360_cmd(), "demo", "--members", "500"]
        await asyncio.to_thread(subprocess.run, cmd, env=topo.env, cwd=ROOT, check=True)
    topo.start(migrate=False)
    procs = ", ".join(f"{name} (pid {p.pid})" for name, p in topo.procs.items())
    print(f"started: {procs}; APIs {' '.join(topo.api_urls)} ready")
    sample = await prepare(deployment, args.org)
    print(f"data: {sample.slug!r}, {sample.members:,} members, ~{sample.activities:,} activities")
    summary = await measure(
        topo,
        sample,
        users=args.users,
        seconds=args.seconds,
        label="scale-demo, 2 APIs",
        warmup=2,
    )
    logins = await app_logins(deployment)
    mail = await email_export(topo, sample.key, sample.customer_ids[0], args.mail_timeout)
    print()
    print("summary")
    print(
        f"  load mix: {summary['operations']} operations in {summary['seconds']} s, "
        f"{summary['ops_per_s']} ops/s, p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} "
        f"ms, p99 {summary['p99_ms']} ms, errors {summary['errors']}"
    )
    print(
        f"  exports in the mix: {summary['exports_requested']} requested, "
        f"jobs by status (warm-up's included): {summary['exports']['by_status']}"
    )
    print(
        f"  export by email: job {mail['job']} mailed after {mail['seconds']} s "
        f"({mail['subject']}; download link: {mail['has_link']})"
    )
    postgres = summary["cpu"]["postgres"]
    print(
        "  PostgreSQL CPU: "
        + (
            f"not measured ({postgres['not_measured']})"
            if postgres["cores_used"] is None
            else f"{postgres['cores_used']} cores, {postgres['ms_per_op']} ms per operation"
        )
    )
    expected = deployment.app_role or url_user(deployment.app_url)
    print(
        f"  app connections by role: {logins}"
        + (" (row-level security binds them)" if deployment.app_role else "")
    )
    print(f"  load average: {load_average()} (2 shared cores)")
    ok = summary["errors"] == 0 and mail["has_link"] and set(logins) == {expected}
    print("scale-demo: OK" if ok else "scale-demo: FAILED")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.topology.scale_demo", description=__doc__.split("\n")[0]
    )
    add_database_options(p)
    p.add_argument("--org", help="organization slug (default: the one with most members)")
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--port", type=int, default=8101)
    p.add_argument("--smtp-port", type=int, default=2526)
    p.add_argument("--mail-timeout", type=float, default=90)
    args = p.parse_args(argv)
    deployment = deployment_of(args)
    install_signal_exit()
    topo = Topology(deployment, apis=2, workers=2, base_port=args.port, smtp_port=args.smtp_port)
    code = 1
    try:
        code = asyncio.run(run(args, topo, deployment))
    except DeploymentError as exc:
        print(f"scale-demo: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        code = 130
    finally:
        topo.stop()
        left = [name for name, proc in topo.procs.items() if proc.alive()]
        print(f"stopped {len(topo.procs)} processes" + (f"; STILL RUNNING: {left}" if left else ""))
    sys.exit(code)


if __name__ == "__main__":
    main()
