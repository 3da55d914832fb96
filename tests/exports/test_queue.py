"""The scaled deployment's transport: procrastinate on PostgreSQL carries the same jobs."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import pytest
from sqlalchemy import select, update

from member360.auth.keys import SCOPES, Principal
from member360.config import Settings
from member360.db import Database
from member360.exports.jobs import JobRunner, request_export
from member360.exports.models import ExportJob
from member360.exports.queue import (
    Pacing,
    defer_export,
    ensure_schema,
    make_app,
    redefer_stranded,
    retry_stalled_jobs,
)
from member360.orgs.service import OrgInfo
from tests.conftest import OWNER_URLS
from tests.exports.conftest import Mailbox
from tests.factories import at, earn, ingest_ok, make_customer


async def status_of(db: Database, org: OrgInfo, public_id: str) -> str:
    async with db.session(org.id) as session:
        return str(
            (
                await session.execute(
                    select(ExportJob.status).where(ExportJob.public_id == public_id)
                )
            ).scalar_one()
        )


async def test_procrastinate_worker_runs_deferred_and_stranded_jobs(
    db: Database,
    org: OrgInfo,
    export_settings: Settings,
    mailbox: tuple[Mailbox, int],
    backend: str,
) -> None:
    if backend != "postgresql":
        pytest.skip("procrastinate is the PostgreSQL deployment's queue")
    settings = export_settings.model_copy(update={"job_queue": "procrastinate"})
    await ingest_ok(db, org, make_customer("c1", when=at(0)), earn("c1", 5, when=at(1)))
    principal = Principal(org=org, scopes=frozenset(SCOPES), key_id=1)
    app = make_app(settings)
    async with app.open_async():
        await ensure_schema(app)
        await ensure_schema(app)  # idempotent
        deferred = await request_export(
            db,
            settings,
            principal,
            kind="CUSTOMER_TAB",
            params={"customerId": "c1", "tab": "POINTS_ACTIVITY"},
            delivery="EMAIL",
            email="ops@example.com",
        )
        await defer_export(app, deferred.id)
        await defer_export(app, deferred.id)  # a second defer of a waiting job is absorbed
        stranded = await request_export(
            db,
            settings,
            principal,
            kind="CUSTOMER_TAB",
            params={"customerId": "c1", "tab": "LEADS"},
            delivery="DOWNLOAD",
            email=None,
        )
        # A worker died holding this one: RUNNING with a lapsed lease and no task left.
        async with db.session(org.id) as session, session.begin():
            await session.execute(
                update(ExportJob)
                .where(ExportJob.id == stranded.id)
                .values(
                    status="RUNNING",
                    attempts=1,
                    lease_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5),
                )
            )
        assert await redefer_stranded(app, db) >= 1
        await app.run_worker_async(
            queues=["exports"],
            wait=False,
            install_signal_handlers=False,
            additional_context={"db": db, "runner": JobRunner(db, settings)},
        )
    assert await status_of(db, org, deferred.public_id) == "SUCCEEDED"
    assert await status_of(db, org, stranded.public_id) == "SUCCEEDED"
    box, _ = mailbox
    assert [m["To"] for m in box.messages] == ["ops@example.com"]


def test_take_over_follows_the_lease() -> None:
    pacing = Pacing.of(Settings(_env_file=None, job_lease_seconds=10))  # type: ignore[call-arg]
    # A worker is dead after three missed heartbeats; its death plus one sweep fit in the lease
    # (the issue measured 67 s with a 10 s lease, waiting for the minute's sweep).
    assert pacing.stalled_after == 3 * pacing.heartbeat
    assert pacing.sweep == 5 and pacing.stalled_after + pacing.sweep <= 10
    assert Pacing.of(Settings(_env_file=None)).heartbeat == 10  # type: ignore[call-arg]


async def test_stalled_jobs_of_a_dead_worker_go_back_to_todo_or_end(
    db: Database, org: OrgInfo, export_settings: Settings, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("procrastinate is the PostgreSQL deployment's queue")
    app = make_app(export_settings.model_copy(update={"job_queue": "procrastinate"}))
    owner = await asyncpg.connect(OWNER_URLS[db.url].replace("+asyncpg", ""))
    try:
        async with app.open_async():
            dead = await app.job_manager.register_worker()
            alive = await app.job_manager.register_worker()
            base = 10_000_000 + uuid.uuid4().int % 1_000_000  # job ids no export uses
            # Left `doing` by the dead worker: one alone, one whose export has a task waiting.
            alone = await defer_export(app, base, org.id)
            doubled = await defer_export(app, base + 1, org.id)
            # A live worker's job is not touched.
            running = await defer_export(app, base + 2, org.id)
            await owner.execute(
                "UPDATE procrastinate_jobs SET status = 'doing', "
                "worker_id = CASE WHEN id = $3::bigint THEN $2::bigint ELSE $1::bigint END "
                "WHERE id = ANY($4::bigint[])",
                dead,
                alive,
                running,
                [alone, doubled, running],
            )
            waiting = await defer_export(app, base + 1, org.id)
            assert waiting is not None  # the queueing lock holds `todo` tasks only
            await owner.execute(
                "UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 minute' "
                "WHERE id = $1",
                dead,
            )
            assert await retry_stalled_jobs(app, stalled_after=30) >= 1
            statuses = dict(
                await owner.fetch(
                    "SELECT id, status::text FROM procrastinate_jobs WHERE id = ANY($1::bigint[])",
                    [alone, doubled, running, waiting],
                )
            )
            assert statuses == {
                alone: "todo",
                doubled: "failed",  # the waiting task does its work
                running: "doing",
                waiting: "todo",
            }
            await owner.execute(
                "DELETE FROM procrastinate_jobs WHERE id = ANY($1::bigint[])",
                [alone, doubled, running, waiting],
            )
            for worker in (dead, alive):
                await app.job_manager.unregister_worker(worker)
    finally:
        await owner.close()
