"""HTTP surface besides GraphQL: health checks, the explorer page, the expiry task."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx

from member360.app import create_app
from member360.config import Settings
from member360.db import Database
from member360.ingest.expiry import expire_all, expiry_loop
from member360.orgs.service import OrgInfo
from tests.factories import balance, earn, ingest_ok, make_customer


async def test_health_checks(db: Database) -> None:
    app = create_app(db=db, background=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/livez")).text == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ok"}


async def test_readyz_fails_when_the_database_is_unreachable() -> None:
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(db=broken, background=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/readyz")).status_code == 503
    await broken.dispose()


async def test_graphiql_page_loads_without_a_key(db: Database) -> None:
    app = create_app(db=db, background=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_expiry_sweep_expires_due_lots_of_every_org(db: Database, org: OrgInfo) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    await ingest_ok(
        db,
        org,
        make_customer("c1"),
        earn("c1", 12, when=(soon - dt.timedelta(days=1)).isoformat(), expiresAt=soon.isoformat()),
    )
    assert await balance(db, org, "c1") == 12
    assert await expire_all(db, soon + dt.timedelta(seconds=1)) >= 12
    assert await balance(db, org, "c1") == 0


async def test_background_task_runs_the_sweep(db: Database, org: OrgInfo) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(milliseconds=300)
    await ingest_ok(
        db,
        org,
        make_customer("c1"),
        earn("c1", 7, when=(soon - dt.timedelta(days=1)).isoformat(), expiresAt=soon.isoformat()),
    )
    task = asyncio.create_task(expiry_loop(db, interval=0.2))
    try:
        for _ in range(300):  # generous: CI machines are busy; the loop itself ticks every 0.2 s
            await asyncio.sleep(0.1)
            if await balance(db, org, "c1") == 0:
                break
    finally:
        task.cancel()
    assert await balance(db, org, "c1") == 0


def test_settings_accept_plain_database_urls() -> None:
    assert (
        Settings(database_url="postgresql://u@h/db").database_url == "postgresql+asyncpg://u@h/db"
    )
    assert Settings(database_url="sqlite:///x.db").database_url == "sqlite+aiosqlite:///x.db"
