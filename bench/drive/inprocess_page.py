"""The customer page or member list driven in-process (httpx ASGI client, no network, no wrk):
a quick read of the GraphQL layer's own cost on the generated PostgreSQL data set.

    .venv/bin/python -m bench.drive.inprocess_page --what page --requests 80 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

import httpx

from bench.common import DEFAULT_PG_DB, ORG_SLUG, pg_url, sqlalchemy_url
from bench.drive.queries import CUSTOMER_LIST, CUSTOMER_PAGE
from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.orgs.service import get_org


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=DEFAULT_PG_DB)
    parser.add_argument("--what", choices=["page", "list"], default="page")
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    url = sqlalchemy_url(pg_url(args.db))
    db = Database(url)
    org = await get_org(db, slug=ORG_SLUG)
    key = await create_api_key(db, org, list(SCOPES))
    app = create_app(Settings(database_url=url), db=db, background=False)
    rnd = random.Random(1)
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:

        async def one() -> float:
            if args.what == "page":
                variables = {"customerId": f"CUST-{rnd.randint(1, 100000):07d}"}
                body = {"query": CUSTOMER_PAGE, "variables": variables}
            else:
                variables = {"search": rnd.choice(["sharma", "rao", "singh", "nair"])}
                body = {"query": CUSTOMER_LIST, "variables": variables}
            started = time.perf_counter()
            response = await c.post("/graphql", json=body)
            assert response.status_code == 200 and "errors" not in response.json()
            return time.perf_counter() - started

        for _ in range(5):
            await one()
        latencies: list[float] = []

        async def worker(count: int) -> None:
            for _ in range(count):
                latencies.append(await one())

        started = time.perf_counter()
        per_worker = args.requests // args.concurrency
        await asyncio.gather(*[worker(per_worker) for _ in range(args.concurrency)])
        elapsed = time.perf_counter() - started
    print(
        f"{args.what} concurrency={args.concurrency}: {len(latencies) / elapsed:.1f} req/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms"
    )
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
