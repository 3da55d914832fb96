"""The scaled deployment's job transport: procrastinate on PostgreSQL.

With `M360_JOB_QUEUE=procrastinate`, API processes defer one procrastinate task per export job
and `member360 worker` processes run them (and the minute's expiry sweep). The `export_jobs` row
stays the source of truth: the task claims its job with the same lease as the embedded runner,
so a job never runs twice at once.

Take-over follows the lease (`Pacing`). Workers send procrastinate heartbeats, and every worker
sweeps every half lease: procrastinate jobs left `doing` by a worker silent for half a lease
(SIGKILL, OOM, a lost host) go back to `todo` through procrastinate's stalled-job recovery
(`JobManager.get_stalled_jobs`, `retry_job`); export jobs whose retry is due or whose lease
lapsed get a task again; requesters still owed a mail get it. So a dead worker's `doing` rows
are retried within one lease of its death, and its export is taken over within half a lease of
the lease's lapse (the minute's cron sweep only expires lots).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from dataclasses import dataclass
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy import select

from member360.config import Settings
from member360.crossorg import runnable_export_jobs
from member360.db import Database
from member360.exports.jobs import JobRunner
from member360.exports.models import ExportJob, JobStatus
from member360.ingest.expiry import expire_all

log = logging.getLogger("member360.queue")

QUEUE = "exports"


def conninfo(database_url: str) -> str:
    """psycopg wants the plain libpq URL of the same database."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url.removeprefix(prefix)
    return database_url


@dataclass(frozen=True)
class Pacing:
    """How often workers prove they live and look for the work of dead ones, from the lease."""

    heartbeat: float  # procrastinate's update_heartbeat_interval
    stalled_after: float  # a worker silent this long is dead: its `doing` jobs are stalled
    sweep: float  # between take-over sweeps

    @classmethod
    def of(cls, settings: Settings) -> Pacing:
        lease = settings.job_lease_seconds
        # Three missed heartbeats make a worker dead (procrastinate's own 10 s / 30 s at the
        # default 60 s lease); death plus a sweep stays within one lease.
        return cls(heartbeat=lease / 6, stalled_after=lease / 2, sweep=lease / 2)


def make_app(settings: Settings) -> App:
    app = App(connector=PsycopgConnector(conninfo=conninfo(settings.database_url)))

    @app.task(name="member360.run_export", queue=QUEUE, pass_context=True)
    async def run_export(context: JobContext, job_id: int, org_id: int | None = None) -> None:
        db: Database = context.additional_context["db"]
        runner: JobRunner = context.additional_context["runner"]
        job = await runner.claim(job_id, org_id)
        if job is None:
            return  # done, or held by another worker's live lease
        await runner.execute(job)
        await defer_if_due(app, db, job.id, job.org_id)  # type: ignore[arg-type]

    @app.periodic(cron="* * * * *", periodic_id="member360.sweep")
    @app.task(
        name="member360.sweep", queue=QUEUE, queueing_lock="member360.sweep", pass_context=True
    )
    async def sweep(context: JobContext, timestamp: int) -> None:
        # Expiry once a minute, by one worker; take-over is every worker's, at the lease's pace.
        await expire_all(context.additional_context["db"])

    return app


async def defer_export(
    app: App, job_id: int, org_id: int | None = None, run_after: dt.datetime | None = None
) -> int | None:
    """Defers a task for the job; its procrastinate id, or None when one already waits."""
    task = app.tasks["member360.run_export"]
    try:
        return await task.configure(
            queueing_lock=f"export-{job_id}", schedule_at=run_after
        ).defer_async(job_id=job_id, org_id=org_id)
    except AlreadyEnqueued:
        return None  # a task for this job is already waiting


async def defer_if_due(app: App, db: Database, job_id: int, org_id: int) -> None:
    """After a failed attempt the job is QUEUED again with its backoff: schedule that retry."""
    async with db.session(org_id) as session:
        row = (
            await session.execute(
                select(ExportJob.status, ExportJob.run_after).where(ExportJob.id == job_id)
            )
        ).one_or_none()  # type: ignore[arg-type, call-overload]
    if row is not None and row.status == JobStatus.QUEUED:
        await defer_export(app, job_id, org_id, row.run_after)


async def redefer_stranded(app: App, db: Database) -> int:
    """Queued jobs with no task (a failed defer) and jobs whose worker died: defer them again."""
    async with db.session(None) as session:
        stranded = await runnable_export_jobs(session, dt.datetime.now(dt.UTC))
    for org_id, job_id in stranded:
        await defer_export(app, job_id, org_id)
    return len(stranded)


async def retry_stalled_jobs(app: App, stalled_after: float) -> int:
    """procrastinate jobs left `doing` by a dead worker go back to `todo`; returns how many."""
    retried = 0
    stalled = await app.job_manager.get_stalled_jobs(
        queue=QUEUE, seconds_since_heartbeat=stalled_after
    )
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
            retried += 1
        except UniqueViolation:
            # Its queueing lock: a task for the same export (or sweep) already waits and will
            # do the work, so this one ends.
            with contextlib.suppress(ConnectorException):
                await app.job_manager.finish_job(job, Status.FAILED, delete_job=False)
        except ConnectorException as exc:  # another worker's sweep took it first
            log.debug("stalled job %s: %s", job.id, exc)
    return retried


async def take_over(app: App, db: Database, runner: JobRunner, pacing: Pacing) -> None:
    """One take-over sweep: stalled tasks, stranded exports, owed mails (the module's doc)."""
    retried = await retry_stalled_jobs(app, pacing.stalled_after)
    if retried:
        log.info("retried %d procrastinate jobs of stopped workers", retried)
    await redefer_stranded(app, db)
    while await runner.run_notifications_once():
        pass


async def take_over_loop(app: App, db: Database, runner: JobRunner, pacing: Pacing) -> None:
    while True:
        try:
            await take_over(app, db, runner, pacing)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed sweep (e.g. the database restarting) must not stop the next
            log.exception("take-over sweep failed")
        await asyncio.sleep(pacing.sweep)


async def ensure_schema(app: App) -> None:
    """Applies procrastinate's schema once (its own tables, beside ours)."""
    exists = await app.connector.execute_query_one_async(
        query="SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
    )
    if not exists["present"]:
        await app.schema_manager.apply_schema_async()


async def apply_queue_schema(database_url: str) -> None:
    """`migrate` applies procrastinate's schema as the tables' owner: the app role may not."""
    app = App(connector=PsycopgConnector(conninfo=conninfo(database_url)))
    async with app.open_async():
        await ensure_schema(app)


async def run_worker(
    db: Database, settings: Settings, *, retry_seconds: float = 5.0, **options: Any
) -> None:
    """Runs the procrastinate worker until SIGTERM/SIGINT, reconnecting after database loss.

    procrastinate stops its worker when a side task (the LISTEN connection) loses the
    database, e.g. while PostgreSQL restarts; left alone the process would exit and exports
    would wait for a supervisor. Here the worker starts again once the database is back; a
    signal stops it gracefully (running jobs finish; their leases protect them if not).
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
            loop.add_signal_handler(sig, stopping.set)
    try:
        while not stopping.is_set():
            try:
                await _run_worker_once(db, settings, stopping, **options)
            except Exception as exc:  # connection loss: wait, then reconnect
                log.warning("worker: %s: %s; restarting in %.0f s", type(exc).__name__, exc,
                            retry_seconds)  # fmt: skip
            else:
                if not stopping.is_set():
                    log.warning("worker stopped by itself; restarting in %.0f s", retry_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), retry_seconds)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def _run_worker_once(
    db: Database, settings: Settings, stopping: asyncio.Event, **options: Any
) -> None:
    app = make_app(settings)
    pacing = Pacing.of(settings)
    runner = JobRunner(db, settings)
    worker_options: dict[str, Any] = {
        "update_heartbeat_interval": pacing.heartbeat,
        "stalled_worker_timeout": pacing.stalled_after,
        **options,
    }
    async with app.open_async():
        await ensure_schema(app)
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                additional_context={"db": db, "runner": runner},
                install_signal_handlers=False,  # ours above: a signal is no reason to restart
                **worker_options,
            )
        )
        sweeping = asyncio.create_task(take_over_loop(app, db, runner, pacing))
        stop = asyncio.create_task(stopping.wait())
        try:
            await asyncio.wait({worker, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            sweeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeping
            if not worker.done():
                worker.cancel()  # procrastinate stops gracefully on cancellation
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
        if not stopping.is_set():
            worker.result()  # raises what stopped the worker, if anything
