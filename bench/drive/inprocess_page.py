"""The benchmark reads driven in-process (httpx ASGI client, no network, no wrk): a quick read
of the GraphQL layer's own cost on the generated PostgreSQL data set, with the Python executor
(the reference) and the compiled reads side by side, alternating, in one run.

    .venv/bin/python -m bench.drive.inprocess_page --what member --requests 400 --concurrency 8
    .venv/bin/python -m bench.drive.inprocess_page --sqlite bench/datasets/bench.db --what page

`--members` is the data set's size (random members CUST-0000001 … CUST-<members>). API CPU is
this process's CPU per request: the client's share (httpx) is in it too.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from pathlib import Path

import httpx

from bench.common import DEFAULT_PG_DB, ORG_SLUG, pg_url, sqlalchemy_url, sqlite_url
from bench.drive.queries import CUSTOMER_LIST, CUSTOMER_PAGE, MEMBER_ACTIVITY
from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.orgs.service import get_org
from member360.reads import execute

DOCUMENTS = {"member": MEMBER_ACTIVITY, "page": CUSTOMER_PAGE, "list": CUSTOMER_LIST}
EXECUTORS = {"reference": False, "compiled": True}


async def measure(
    db: Database, url: str, key: str, args: argparse.Namespace, compiled: bool
) -> str:
    app = create_app(Settings(database_url=url, compiled_reads=compiled), db=db, background=False)
    rnd = random.Random(1)
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:

        async def one() -> float:
            if args.what == "list":
                variables = {"search": rnd.choice(["sharma", "rao", "singh", "nair"])}
            else:
                variables = {"customerId": f"CUST-{rnd.randint(1, args.members):07d}"}
            body = {"query": DOCUMENTS[args.what], "variables": variables}
            started = time.perf_counter()
            response = await c.post("/graphql", json=body)
            assert response.status_code == 200 and b'"errors"' not in response.content
            return time.perf_counter() - started

        for _ in range(5):
            await one()
        execute.reset()
        latencies: list[float] = []

        async def worker(count: int) -> None:
            for _ in range(count):
                latencies.append(await one())

        cpu, started = time.process_time(), time.perf_counter()
        per_worker = args.requests // args.concurrency
        await asyncio.gather(*[worker(per_worker) for _ in range(args.concurrency)])
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = len(latencies)
    name = "compiled" if compiled else "reference"
    return (
        f"{args.what} {name:9} concurrency={args.concurrency}: {done / elapsed:7.1f} req/s, "
        f"p50 {statistics.median(latencies) * 1000:6.1f} ms, API CPU {cpu / done * 1000:6.2f} ms"
        f"/request; planned {execute.STATS['planned']}/{done}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=DEFAULT_PG_DB, help="PostgreSQL database name")
    parser.add_argument("--sqlite", type=Path, help="a SQLite data set instead (its file)")
    parser.add_argument("--what", choices=sorted(DOCUMENTS), default="page")
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of each")
    parser.add_argument("--executors", choices=["both", *EXECUTORS], default="both")
    args = parser.parse_args()
    url = sqlite_url(args.sqlite) if args.sqlite else sqlalchemy_url(pg_url(args.db))
    db = Database(url)
    org = await get_org(db, slug=ORG_SLUG)
    key = await create_api_key(db, org, list(SCOPES))
    chosen = list(EXECUTORS.values()) if args.executors == "both" else [EXECUTORS[args.executors]]
    for _ in range(args.rounds):
        for compiled in chosen:
            print(await measure(db, url, key, args, compiled), flush=True)
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
