"""Fault runs against the scale topology (2 APIs, 2 workers, mail sink), scripted and repeatable.

    python -m bench.drive.faults postgres  # stop PostgreSQL for --outage s under load, restart it
    python -m bench.drive.faults worker    # SIGKILL the worker running a long export
    python -m bench.drive.faults smtp      # export by email while the mail sink is down, then up
    python -m bench.drive.faults all

The topology connects as production does (`bench.topology.loopback.Deployment`: the API and
workers as the app role under row-level security, member360_app unless --app-role /
M360_APP_DB_ROLE say otherwise; the bench's own reads over the owner's URL).

`postgres` stops and starts the PostgreSQL cluster given by --cluster (default `15 scale`, the
benchmark cluster on port 5433) with pg_ctlcluster, but only once the server behind --url has
been shown to be that cluster (system identifier, port, data directory:
`bench.topology.pgserver`), and never the 5432 `main` cluster the tests use; the other faults stop
only processes of their own.
Every run prints what it observed, with the CPU each component used (PostgreSQL's found from the
connection), and writes bench/results/scale-fault-<name>-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from typing import Any

import asyncpg
import httpx

from bench.common import connect_all_orgs
from bench.drive.loadmix import (
    EXPORT,
    Driver,
    Sample,
    add_database_options,
    deployment_of,
    prepare,
    summarize,
    write_result,
)
from bench.topology.loopback import (
    Deployment,
    DeploymentError,
    Topology,
    ensure_app_role,
    install_signal_exit,
    load_average,
)
from bench.topology.pgserver import (
    Refusal,
    check_stop_target,
    debian_cluster,
    server_identity,
    tests_server_identities,
)

FAULT_ENV = {
    # A dead worker's lease lapses after 10 s instead of 60 s (the sweep then re-defers it).
    "M360_JOB_LEASE_SECONDS": "10",
    "M360_JOB_BACKOFF_SECONDS": "2",
}


def cluster_ctl(cluster: list[str], action: str) -> float:
    start = time.monotonic()
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            *cluster,
            action,
            *(["-m", "fast"] if action in ("stop", "restart") else []),
        ],
        check=True,
        timeout=120,
    )
    return time.monotonic() - start


async def job_rows(url: str, public_ids: list[str]) -> list[dict[str, Any]]:
    conn = await connect_all_orgs(url)
    try:
        rows = await conn.fetch(
            "SELECT public_id, status, attempts, error, email, worker_id, notified_at, row_count "
            "FROM export_jobs WHERE public_id = ANY($1::text[])",
            public_ids,
        )
        return [dict(r) for r in rows]
    finally:
        await conn.close()


async def wait_jobs(
    url: str, public_ids: list[str], done: Any, max_wait: float, every: float = 1.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + max_wait
    while True:
        try:
            rows = await job_rows(url, public_ids)
            if len(rows) == len(public_ids) and all(done(r) for r in rows):
                return rows
        except (OSError, asyncpg.PostgresError):
            rows = []
        if time.monotonic() > deadline:
            return rows
        await asyncio.sleep(every)


def mails_by_recipient(topo: Topology) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in topo.mails():
        msg = message_from_bytes(path.read_bytes())
        out.setdefault(str(msg["To"]), []).append(str(msg["Subject"]))
    return out


async def request_email_export(
    client: httpx.AsyncClient, base: str, key: str, payload: dict[str, Any], email: str
) -> tuple[str | None, str]:
    """(job id or None, what came back)."""
    body = {
        "query": EXPORT,
        "variables": {"input": {**payload, "delivery": "EMAIL", "email": email}},
    }
    try:
        response = await client.post(
            f"{base}/graphql", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    try:
        data = response.json()
    except ValueError:
        return None, f"http-{response.status_code} {response.text[:80]}"
    if response.status_code == 200 and not data.get("errors"):
        return data["data"]["requestExport"]["id"], "ok"
    code = (data.get("errors") or [{}])[0].get("extensions", {}).get("code")
    return None, f"http-{response.status_code} {code}"


def worker_pid(worker_id: str | None) -> int | None:
    # JobRunner.worker_id is "host:pid:random".
    match = re.match(r"^[^:]*:(\d+):", worker_id or "")
    return int(match.group(1)) if match else None


def revive_dead(topo: Topology) -> list[str]:
    """What a supervisor (`restart: unless-stopped`) would do: start exited processes again."""
    revived = []
    for name, proc in list(topo.procs.items()):
        if proc.popen is not None and not proc.alive() and name != "mailsink":
            proc.start()
            revived.append(name)
    return revived


# -- (a) PostgreSQL restart under load -------------------------------------------------------


async def fault_postgres(topo: Topology, sample: Sample, args: argparse.Namespace) -> dict:
    driver = Driver(topo.api_urls, sample, database_url=topo.database_url, timeout=30)
    accepted: list[tuple[float, str, str]] = []
    refused: list[tuple[float, str]] = []
    stop = asyncio.Event()
    t0 = time.monotonic()

    async def exporter() -> None:
        n = 0
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                n += 1
                email = f"pg-fault-{n}@example.com"
                customer = sample.customer_ids[n % len(sample.customer_ids)]
                tab = {"customerTab": {"customerId": customer, "tab": "POINTS_ACTIVITY"}}
                job, what = await request_email_export(
                    client, topo.api_urls[n % len(topo.api_urls)], sample.key, tab, email
                )
                at = round(time.monotonic() - t0, 1)
                if job:
                    accepted.append((at, job, email))
                else:
                    refused.append((at, what))
                await asyncio.sleep(1.0)

    events: dict[str, float] = {}

    async def fault() -> None:
        await asyncio.sleep(args.before)
        await guard_stop(args, topo.deployment)  # again: the server could have changed since
        topo.postgres.seconds()  # the old postmaster's last reading, before it goes
        events["stop_at"] = round(time.monotonic() - t0, 1)
        await asyncio.to_thread(cluster_ctl, args.cluster, "stop")
        events["stopped_at"] = round(time.monotonic() - t0, 1)
        await asyncio.sleep(args.outage)
        events["start_at"] = round(time.monotonic() - t0, 1)
        await asyncio.to_thread(cluster_ctl, args.cluster, "start")
        events["up_at"] = round(time.monotonic() - t0, 1)
        await topo.discover_postgres()  # the new postmaster

    exp = asyncio.create_task(exporter())
    flt = asyncio.create_task(fault())
    loads = [load_average()]
    stats = await driver.run(users=args.users, seconds=args.seconds, rate=args.rate)
    loads.append(load_average())
    stop.set()
    await exp
    await flt
    summary = summarize(stats, args.users, "postgres fault", loads)
    offset = stats.started - t0  # the driver's clock starts a little after t0
    timeline = {round(sec + offset): dict(c) for sec, c in sorted(stats.timeline.items())}
    after_up = [(sec, c) for sec, c in timeline.items() if sec >= events.get("up_at", 1e9)]
    first_ok_after = next((sec for sec, c in after_up if c.get("ok")), None)
    errors_late = sum(
        n
        for sec, c in after_up
        if sec >= (first_ok_after or 1e9) + 5
        for k, n in c.items()
        if k != "ok"
    )
    dead = [name for name, p in topo.procs.items() if not p.alive()]
    revived = revive_dead(topo)
    if revived:
        await asyncio.sleep(5)
    ids = [j for _, j, _ in accepted]
    rows = await wait_jobs(
        topo.database_url,
        ids,
        lambda r: r["status"] == "SUCCEEDED" and r["notified_at"],
        max_wait=args.drain,
    )
    mails = mails_by_recipient(topo)
    per_job = [len(mails.get(email, [])) for _, _, email in accepted]
    result = {
        "events": events,
        "load": {
            k: summary[k]
            for k in (
                "operations",
                "ops_per_s",
                "errors",
                "error_kinds",
                "error_examples",
                "slowest_ms",
                "p50_ms",
                "p99_ms",
            )
        },
        "timeline": timeline,
        "first_ok_after_start_s": (
            round(first_ok_after - events["up_at"], 1) if first_ok_after is not None else None
        ),
        "errors_5s_after_recovery": errors_late,
        "processes_dead_after_restart": dead,
        "revived": revived,
        "exports_accepted": len(accepted),
        "exports_refused": refused,
        "exports_by_status": _count(r["status"] for r in rows),
        "exports_missing": len(ids) - len(rows),
        "emails_per_job": _count(per_job),
        "load_average": load_average(),
    }
    # Clean failure: an error answer (GraphQL error, 503), never a 500, a stack trace or a hang.
    ok = not any(
        ":stack" in k or ":http-500" in k or ":timeout" in k for k in summary["error_kinds"]
    )
    result["verdict"] = (
        "clean"
        if ok
        and result["exports_by_status"] == {"SUCCEEDED": len(ids)}
        and set(per_job) <= {1}
        and first_ok_after is not None
        else "PROBLEM"
    )
    return result


# -- (b) a worker killed during an export ----------------------------------------------------


async def fault_worker(topo: Topology, sample: Sample, args: argparse.Namespace) -> dict:
    email = f"worker-fault-{int(time.time())}@example.com"
    payload = {"interactionReport": {**sample.report_filter}}
    async with httpx.AsyncClient(timeout=30) as client:
        job, what = await request_email_export(client, topo.api_urls[0], sample.key, payload, email)
    if job is None:
        raise RuntimeError(f"the report export was refused: {what}")
    t0 = time.monotonic()
    rows = await wait_jobs(topo.database_url, [job], lambda r: r["status"] == "RUNNING", 60, 0.2)
    first = rows[0]
    await asyncio.sleep(args.kill_after)
    rows = await job_rows(topo.database_url, [job])
    pid = worker_pid(rows[0]["worker_id"])
    victim = next((n for n, p in topo.procs.items() if p.alive() and p.pid == pid), None)
    if rows[0]["status"] != "RUNNING" or victim is None:
        raise RuntimeError(f"the job was not running in one of our workers: {rows[0]}")
    partials_before = sorted(p.name for p in topo.export_dir.glob(".*partial*"))
    os.kill(pid, signal.SIGKILL)
    killed_at = round(time.monotonic() - t0, 1)
    done = await wait_jobs(
        topo.database_url,
        [job],
        lambda r: r["status"] in ("SUCCEEDED", "FAILED") and r["notified_at"],
        max_wait=args.drain,
    )
    finished_at = round(time.monotonic() - t0, 1)
    await asyncio.sleep(3)  # a duplicate mail would arrive now
    final = done[0] if done else (await job_rows(topo.database_url, [job]))[0]
    mails = mails_by_recipient(topo).get(email, [])
    revived = revive_dead(topo)
    return {
        "job": job,
        "rows_in_window": None,
        "first_worker": first["worker_id"],
        "killed": victim,
        "killed_after_running_s": killed_at,
        "partial_files_at_kill": partials_before,
        "partial_files_after": sorted(p.name for p in topo.export_dir.glob(".*partial*")),
        "final_status": final["status"],
        "final_worker": final["worker_id"],
        "attempts": final["attempts"],
        "row_count": final["row_count"],
        "finished_after_s": finished_at,
        "emails": len(mails),
        "subjects": mails,
        "revived": revived,
        "load_average": load_average(),
        "verdict": "clean"
        if final["status"] == "SUCCEEDED"
        and len(mails) == 1
        and final["worker_id"] != first["worker_id"]
        else "PROBLEM",
    }


# -- (c) SMTP down ---------------------------------------------------------------------------


async def fault_smtp(topo: Topology, sample: Sample, args: argparse.Namespace) -> dict:
    topo.stop_sink()
    email = f"smtp-fault-{int(time.time())}@example.com"
    tab = {"customerTab": {"customerId": sample.customer_ids[1], "tab": "POINTS_ACTIVITY"}}
    async with httpx.AsyncClient(timeout=30) as client:
        job, what = await request_email_export(client, topo.api_urls[1], sample.key, tab, email)
        if job is None:
            raise RuntimeError(f"the export was refused: {what}")
        t0 = time.monotonic()
        rows = await wait_jobs(
            topo.database_url, [job], lambda r: r["status"] in ("SUCCEEDED", "FAILED"), 120
        )
        finished = round(time.monotonic() - t0, 1)
        status_during = rows[0]
        # What the requester sees meanwhile (the exportJob query of the web app).
        seen = (
            await client.post(
                f"{topo.api_urls[0]}/graphql",
                json={
                    "query": "query($id: ID!) { exportJob(id: $id) { status error attempts "
                    "downloadUrl } }",
                    "variables": {"id": job},
                },
                headers={"Authorization": f"Bearer {sample.key}"},
            )
        ).json()
    await asyncio.sleep(args.smtp_down)
    failures = sum(
        log.read_text(errors="replace").count(f"mail for export {job} failed")
        for log in topo.log_dir.glob("worker*.log")
    )
    still = (await job_rows(topo.database_url, [job]))[0]
    topo.procs.pop("mailsink")
    topo.start_sink()
    up = time.monotonic()
    rows = await wait_jobs(topo.database_url, [job], lambda r: r["notified_at"], args.drain)
    mailed_after = round(time.monotonic() - up, 1)
    await asyncio.sleep(3)
    mails = mails_by_recipient(topo).get(email, [])
    return {
        "job": job,
        "job_finished_after_s": finished,
        "status_while_smtp_down": status_during["status"],
        "exportJob_seen_by_requester": seen,
        "notified_while_down": bool(still["notified_at"]),
        "mail_attempts_failed_while_down": failures,
        "smtp_down_s": args.smtp_down,
        "mailed_after_smtp_up_s": mailed_after,
        "notified": bool(rows and rows[0]["notified_at"]),
        "emails": len(mails),
        "subjects": mails,
        "load_average": load_average(),
        "verdict": "clean"
        if len(mails) == 1 and status_during["status"] == "SUCCEEDED"
        else "PROBLEM",
    }


def cpu_delta(before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, Any]:
    """CPU seconds each component used during a fault run (None: not measured)."""
    return {
        kind: None if before.get(kind) is None or end is None else round(end - before[kind], 1)
        for kind, end in after.items()
    }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


FAULTS = {"postgres": fault_postgres, "worker": fault_worker, "smtp": fault_smtp}


STOPS_POSTGRES = ("postgres",)


async def preflight(args: argparse.Namespace, deployment: Deployment) -> None:
    """Before anything starts: refuses (Refusal) a run that would stop a server other than the
    one under test, or the tests' own. Faults that stop no server need no such check."""
    if any(name in STOPS_POSTGRES for name in fault_names(args.fault)):
        await guard_stop(args, deployment)


async def guard_stop(args: argparse.Namespace, deployment: Deployment) -> None:
    """Asks the servers behind the owner's and the app's URLs who they are, and raises Refusal
    unless both are --cluster and that cluster is not the tests'."""
    version, name = args.cluster
    cluster = await asyncio.to_thread(debian_cluster, version, name)
    try:
        server = await server_identity(deployment.owner_url)
        app_server = await server_identity(deployment.app_url)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise Refusal(f"cannot ask the server behind --url who it is: {exc}") from exc
    if (app_server.system_identifier, app_server.port) != (server.system_identifier, server.port):
        raise Refusal(
            f"the app's URL reaches another server ({app_server.describe()}) than the owner's "
            f"({server.describe()})"
        )
    check_stop_target(server, cluster, await tests_server_identities())


def fault_names(fault: str) -> list[str]:
    return list(FAULTS) if fault == "all" else [fault]


async def run(args: argparse.Namespace, deployment: Deployment) -> None:
    names = fault_names(args.fault)
    print(f"database: {deployment.describe()}", flush=True)
    sample = await prepare(deployment, args.org)
    print(f"data: {sample.slug!r}, {sample.members:,} members, ~{sample.activities:,} activities")
    results = {}
    for name in names:
        topo = Topology(
            deployment,
            apis=2,
            workers=2,
            base_port=args.port,
            smtp_port=args.smtp_port,
            extra_env=FAULT_ENV,
            keep_workdir=True,
        )
        try:
            topo.start(migrate=False)
            print(f"== {name} (logs: {topo.log_dir}) load {load_average()}", flush=True)
            not_measured = await topo.discover_postgres()
            cpu_before, started = topo.cpu(), time.monotonic()
            result = await FAULTS[name](topo, sample, args)
            result["cpu_seconds"] = cpu_delta(cpu_before, topo.cpu())
            result["cpu_seconds"]["wall"] = round(time.monotonic() - started, 1)
            if not_measured:
                result["cpu_seconds"]["postgres_not_measured"] = not_measured
        finally:
            topo.stop()
        result["logs"] = str(topo.log_dir)
        results[name] = result
        print(json.dumps(result, indent=1, default=str), flush=True)
        path = write_result(f"scale-fault-{name}", result)
        print(f"{name}: {result['verdict']}  ({path})", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.drive.faults", description=__doc__.split("\n")[0]
    )
    p.add_argument("fault", choices=(*FAULTS, "all"))
    add_database_options(p)
    p.add_argument("--org")
    p.add_argument(
        "--cluster",
        nargs=2,
        default=["15", "scale"],
        metavar=("VERSION", "NAME"),
        help="postgres: the pg_ctlcluster cluster to stop; it must be the server behind --url",
    )
    p.add_argument("--users", type=int, default=4)
    p.add_argument("--rate", type=float, default=10, help="postgres: operations per second")
    p.add_argument("--seconds", type=float, default=60, help="postgres: load duration")
    p.add_argument("--before", type=float, default=15, help="postgres: load before the stop")
    p.add_argument("--outage", type=float, default=8, help="postgres: seconds stopped")
    p.add_argument("--kill-after", type=float, default=2, help="worker: seconds into the job")
    p.add_argument("--smtp-down", type=float, default=70, help="smtp: seconds the sink stays down")
    p.add_argument("--drain", type=float, default=240)
    p.add_argument("--port", type=int, default=8201)
    p.add_argument("--smtp-port", type=int, default=2527)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    deployment = deployment_of(args)
    try:
        asyncio.run(ensure_app_role(deployment))
        asyncio.run(preflight(args, deployment))
    except (Refusal, DeploymentError) as exc:
        sys.exit(f"bench.drive.faults: {exc}")
    install_signal_exit()
    try:
        asyncio.run(run(args, deployment))
    except Refusal as exc:  # the re-check just before the stop
        sys.exit(f"bench.drive.faults: {exc}")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
