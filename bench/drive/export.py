"""End-to-end report export on the 5M-activity PostgreSQL data set: duration, worker RSS, latency.

Starts an API process (jobs off) and a separate `member360 worker`, requests an All Interactions
export covering about `--rows` report rows, and measures: time from request to SUCCEEDED, the
worker's peak RSS (VmHWM), the customer page's p50 latency idle and while the export runs, and
the produced workbook's sheets and row counts (read back with openpyxl).

    .venv/bin/python -m bench.drive.export --rows 1000000
    .venv/bin/python -m bench.drive.export --rows 2100000     # must give two data sheets
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import DEFAULT_PG_DB, ORG_SLUG, VENV_BIN, asyncpg_dsn, pg_url, sqlalchemy_url
from bench.drive.queries import CUSTOMER_PAGE

REQUEST = """mutation($input: RequestExportInput!) { requestExport(input: $input) { id status } }"""
JOB = "query($id: ID!) { exportJob(id: $id) { status rowCount downloadUrl error } }"


async def pick_range(dsn: str, rows: int) -> tuple[dt.date, dt.date, int]:
    """The newest days whose activities add up to about `rows` (an upper bound on report rows)."""
    conn = await asyncpg.connect(dsn)
    try:
        days = await conn.fetch(
            "SELECT local_date, count(*) AS n FROM points_activities GROUP BY local_date "
            "ORDER BY local_date DESC"
        )
    finally:
        await conn.close()
    total = 0
    end = days[0]["local_date"]
    start = end
    for day in days:
        total += day["n"]
        start = day["local_date"]
        if total >= rows:
            break
    return start, end, total


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def page_latencies(client: httpx.AsyncClient, key: str, seconds: float) -> list[float]:
    rnd = random.Random(3)
    out: list[float] = []
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        body = {
            "query": CUSTOMER_PAGE,
            "variables": {"customerId": f"CUST-{rnd.randint(1, 100000):07d}"},
        }
        started = time.perf_counter()
        response = await client.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        out.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return out


def workbook_shape(path: Path) -> dict[str, int]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    shape = {}
    for name in book.sheetnames:
        sheet = book[name]
        sheet.reset_dimensions()
        shape[name] = sum(1 for _ in sheet.iter_rows(values_only=True)) - (
            1 if name.startswith("Data") else 0
        )
    return shape


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=DEFAULT_PG_DB)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8051)
    parser.add_argument("--check-file", action="store_true", help="count every row of the workbook")
    args = parser.parse_args()
    url = pg_url(args.db)
    start, end, upper = await pick_range(asyncpg_dsn(url), args.rows)
    export_dir = Path(tempfile.mkdtemp(prefix="m360-export-"))
    env = {
        **os.environ,
        "M360_DATABASE_URL": sqlalchemy_url(url),
        "M360_EXTERNAL_WORKERS": "true",
        "M360_EXPORT_DIR": str(export_dir),
        "M360_JOB_POLL_SECONDS": "0.2",
    }
    key = (
        subprocess.run(
            [
                str(VENV_BIN / "member360"),
                "api-key",
                "create",
                "--org",
                ORG_SLUG,
                "--scopes",
                "customers:read,pii:read,reports:read,exports:write",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    api = subprocess.Popen(
        [
            str(VENV_BIN / "uvicorn"),
            "--factory",
            "member360.app:create_app",
            "--port",
            str(args.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    worker = None
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{args.port}", timeout=120
        ) as client:
            for _ in range(100):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            idle = await page_latencies(client, key, 15)
            headers = {"Authorization": f"Bearer {key}"}
            filt = {"from": start.isoformat(), "to": end.isoformat()}
            requested = time.perf_counter()
            job = (
                await client.post(
                    "/graphql",
                    headers=headers,
                    json={"query": REQUEST, "variables": {"input": {"interactionReport": filt}}},
                )
            ).json()
            job_id = job["data"]["requestExport"]["id"]
            worker = subprocess.Popen(
                [str(VENV_BIN / "member360"), "worker"], env=env, stdout=subprocess.DEVNULL
            )
            busy: list[float] = []
            state: dict[str, Any] = {}
            while True:
                busy += await page_latencies(client, key, 2)
                state = (
                    await client.post(
                        "/graphql",
                        headers=headers,
                        json={"query": JOB, "variables": {"id": job_id}},
                    )
                ).json()["data"]["exportJob"]
                if state["status"] in ("SUCCEEDED", "FAILED"):
                    break
            elapsed = time.perf_counter() - requested
            peak = rss_peak_mb(worker.pid)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait()
        api.terminate()
        api.wait()
    files = sorted(export_dir.glob("*.xlsx"))
    result: dict[str, Any] = {
        "range": [start.isoformat(), end.isoformat()],
        "activities_in_range": upper,
        "status": state["status"],
        "error": state.get("error"),
        "rows": state.get("rowCount"),
        "seconds_request_to_succeeded": round(elapsed, 1),
        "worker_peak_rss_mb": round(peak, 1),
        "page_p50_idle_ms": round(statistics.median(idle), 1),
        "page_p50_during_export_ms": round(statistics.median(busy), 1) if busy else None,
        "file_mb": round(files[0].stat().st_size / 1e6, 1) if files else None,
        "load": os.getloadavg(),
    }
    if files and args.check_file:
        result["sheets"] = workbook_shape(files[0])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
