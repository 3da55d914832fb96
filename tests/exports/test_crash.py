"""A worker process killed in the middle of a job: after a restart the job completes once and
exactly one email goes out."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text

from member360.auth.keys import SCOPES, Principal
from member360.config import Settings
from member360.db import Database
from member360.exports.jobs import request_export
from member360.exports.models import ExportJob
from member360.exports.queue import defer_export, make_app
from member360.orgs.service import OrgInfo
from tests.exports.conftest import Mailbox
from tests.factories import at, earn, ingest_ok, make_customer


def worker_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "M360_DATABASE_URL": settings.database_url,
        "M360_MIGRATION_DATABASE_URL": settings.migration_database_url or "",
        "M360_APP_DB_ROLE": settings.app_db_role or "",
        "M360_SMTP_HOST": settings.smtp_host,
        "M360_SMTP_PORT": str(settings.smtp_port),
        "M360_SMTP_FROM": settings.smtp_from,
        "M360_EXPORT_DIR": str(settings.export_dir),
        "M360_PUBLIC_URL": settings.public_url,
        "M360_SECRET_KEY": settings.secret_key,
        "M360_JOB_LEASE_SECONDS": "1.5",
        "M360_JOB_POLL_SECONDS": "0.1",
        "M360_JOB_BACKOFF_SECONDS": "0.2",
    }


async def start_worker(
    settings: Settings, log: Path | None = None, **env: str
) -> asyncio.subprocess.Process:
    """A `member360 worker` process; its log goes to `log` (or a pipe nobody reads)."""
    with contextlib.ExitStack() as stack:
        # The child keeps its own copy of the file's descriptor: this one closes at once.
        stderr = stack.enter_context(log.open("w")) if log is not None else asyncio.subprocess.PIPE
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "member360.cli",
            "worker",
            env={**worker_env(settings), **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )


async def job_row(db: Database, org: OrgInfo, public_id: str) -> ExportJob:
    async with db.session(org.id) as session:
        return (
            await session.execute(select(ExportJob).where(ExportJob.public_id == public_id))
        ).scalar_one()


async def wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout / 0.1)):
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.parametrize("where", ["writing", "mailing"])
async def test_killed_worker_job_completes_once_with_one_email(
    db: Database,
    org: OrgInfo,
    export_settings: Settings,
    mailbox: tuple[Mailbox, int],
    backend: str,
    where: str,
) -> None:
    if where == "writing" and backend != "postgresql":
        pytest.skip(
            "holding a reader mid-query needs PostgreSQL's table locks; SQLite is covered by 'mailing'"
        )
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        *[earn("c1", i + 1, when=at(1)) for i in range(50)],
    )
    box, _ = mailbox
    box.gate = threading.Event()
    principal = Principal(org=org, scopes=frozenset(SCOPES), key_id=1)
    job = await request_export(
        db,
        export_settings,
        principal,
        kind="CUSTOMER_TAB",
        params={"customerId": "c1", "tab": "POINTS_ACTIVITY"},
        delivery="EMAIL",
        email="admin@example.com",
    )
    blocker = None
    if where == "writing":
        # Hold the table the export reads: the worker claims the job, then waits mid-query.
        blocker = db.engine.connect()
        conn = await blocker.__aenter__()
        await conn.execute(text("BEGIN"))
        await conn.execute(text("LOCK TABLE points_activities IN ACCESS EXCLUSIVE MODE"))
    first = await start_worker(export_settings)
    try:
        if where == "writing":
            await wait_for(lambda: _status_is(db, org, job.public_id, "RUNNING"))
        else:
            await wait_for(lambda: _status_is(db, org, job.public_id, "SUCCEEDED"))
            await asyncio.sleep(0.5)  # the worker is now inside the SMTP conversation
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if blocker is not None:
            await conn.execute(text("ROLLBACK"))
            await blocker.__aexit__(None, None, None)
    assert box.messages == []
    box.gate.set()
    second = await start_worker(export_settings)
    try:
        await wait_for(lambda: _mailed(db, org, job.public_id))
        await asyncio.sleep(0.5)
    finally:
        second.terminate()
        await second.wait()
    row = await job_row(db, org, job.public_id)
    assert row.status == "SUCCEEDED" and row.row_count == 50
    assert len(box.messages) == 1, [m["Subject"] for m in box.messages]
    assert sorted(p.name for p in Path(export_settings.export_dir).iterdir()) == [
        f"{job.public_id}.xlsx"
    ]


async def _status_is(db: Database, org: OrgInfo, public_id: str, status: str) -> bool:
    return (await job_row(db, org, public_id)).status == status


async def _mailed(db: Database, org: OrgInfo, public_id: str) -> bool:
    return (await job_row(db, org, public_id)).notified_at is not None


async def test_killed_procrastinate_worker_leaves_no_doing_job_and_one_mail(
    db: Database,
    org: OrgInfo,
    export_settings: Settings,
    mailbox: tuple[Mailbox, int],
    backend: str,
    tmp_path: Path,
) -> None:
    """Issue 12: the killed worker's procrastinate job stayed `doing` forever, and take-over
    waited for the minute's sweep. A second worker, already running when the first dies, must
    retry that job and take the export over at the lease's pace."""
    if backend != "postgresql":
        pytest.skip("procrastinate is the PostgreSQL deployment's queue")
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0)),
        *[earn("c1", i + 1, when=at(1)) for i in range(50)],
    )
    box, _ = mailbox
    settings = export_settings.model_copy(update={"job_queue": "procrastinate"})
    principal = Principal(org=org, scopes=frozenset(SCOPES), key_id=1)
    job = await request_export(
        db,
        settings,
        principal,
        kind="CUSTOMER_TAB",
        params={"customerId": "c1", "tab": "POINTS_ACTIVITY"},
        delivery="EMAIL",
        email="admin@example.com",
    )
    queue = make_app(settings)
    env = {"M360_JOB_QUEUE": "procrastinate", "M360_JOB_LEASE_SECONDS": "4"}
    # Hold the table the export reads: the first worker claims the job, then waits mid-query.
    blocker = db.engine.connect()
    conn = await blocker.__aenter__()
    await conn.execute(text("BEGIN"))
    await conn.execute(text("LOCK TABLE points_activities IN ACCESS EXCLUSIVE MODE"))
    first = await start_worker(settings, tmp_path / "first.log", **env)
    second = None
    try:
        async with queue.open_async():
            task_id = await defer_export(queue, job.id, org.id)
        await wait_for(lambda: _status_is(db, org, job.public_id, "RUNNING"))
        # The second worker is up (heartbeating) before the first dies: its startup sweep has
        # passed, so only its lease-paced sweeps can take over.
        second = await start_worker(settings, tmp_path / "second.log", **env)
        await wait_for(lambda: _live_workers(db, at_least=2))
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await conn.execute(text("ROLLBACK"))
        await blocker.__aexit__(None, None, None)
        blocker = None
        await wait_for(lambda: _mailed(db, org, job.public_id), timeout=40)
        # The killed worker's task went back to `todo` and ran again; nothing stays `doing`.
        await wait_for(lambda: _no_task_doing(db, job.id), timeout=20)
        await asyncio.sleep(1)  # a second mail, if any, would go out now
    finally:
        if blocker is not None:
            await conn.execute(text("ROLLBACK"))
            await blocker.__aexit__(None, None, None)
        for worker in (first, second):
            if worker is not None and worker.returncode is None:
                worker.terminate()
                await worker.wait()
    logs = "\n".join(p.read_text() for p in tmp_path.glob("*.log"))
    row = await job_row(db, org, job.public_id)
    assert row.status == "SUCCEEDED" and row.row_count == 50, logs
    assert row.attempts == 2, "claimed by the first worker, then taken over once"
    assert len(box.messages) == 1, [m["Subject"] for m in box.messages]
    assert sorted(p.name for p in Path(settings.export_dir).iterdir()) == [f"{job.public_id}.xlsx"]
    async with db.session(None) as session:
        first_task = (
            await session.execute(
                text("SELECT status::text, attempts FROM procrastinate_jobs WHERE id = :id"),
                {"id": task_id},
            )
        ).one()
    assert first_task.status == "succeeded" and first_task.attempts >= 1, first_task


async def _live_workers(db: Database, at_least: int) -> bool:
    async with db.session(None) as session:
        live = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '1 second'"
            )
        )
    return bool(live and live >= at_least)


async def _no_task_doing(db: Database, job_id: int) -> bool:
    async with db.session(None) as session:
        doing = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' "
                "AND task_name = 'member360.run_export' AND (args->>'job_id')::bigint = :job"
            ),
            {"job": job_id},
        )
    return doing == 0
