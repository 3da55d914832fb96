"""The scaled deployment's transport: procrastinate on PostgreSQL carries the same jobs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from member360.auth.keys import SCOPES, Principal
from member360.config import Settings
from member360.db import Database
from member360.exports.jobs import JobRunner, request_export
from member360.exports.models import ExportJob
from member360.exports.queue import defer_export, ensure_schema, make_app, redefer_stranded
from member360.orgs.service import OrgInfo
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
