"""Durable export jobs: requested in a request, run outside it, never lost.

The `export_jobs` row is the source of truth. A runner claims a runnable job by moving it to
RUNNING with a lease (`lease_until`) that it renews while it works; a runner that dies stops
renewing, the lease lapses, and any runner takes the job over. Failures retry with exponential
backoff until `max_attempts`, then the job ends FAILED with its error and the requester is told.
On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so any number of runners (API processes or
`member360 worker`) share the queue; with `M360_EXTERNAL_WORKERS=true` only workers run jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from member360 import mail
from member360.audit.log import actor_of
from member360.audit.models import AuditEvent
from member360.auth.keys import Principal
from member360.config import Settings
from member360.crossorg import export_jobs_owing_mail, owes_mail, runnable, runnable_export_jobs
from member360.db import Database
from member360.exports.links import download_url
from member360.exports.models import ExportJob, JobStatus
from member360.exports.tabs import TABS, CustomerTab, customer_pk_for, tab_batches
from member360.logs import log_scope, safe_message
from member360.orgs.service import OrgInfo, get_org

log = logging.getLogger("member360.exports")

EMAIL_SUBJECT = "Your Member360 export is ready"
FAILED_SUBJECT = "Your Member360 export failed"
# Runnable jobs a poll considers: runners polling at once skip each other's locked rows.
CLAIM_CANDIDATES = 8


class ExportRequestError(ValueError):
    """A request that cannot become a job; the message names the field."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def request_export(
    db: Database,
    settings: Settings,
    principal: Principal,
    *,
    kind: str,
    params: dict[str, Any],
    delivery: str,
    email: str | None,
) -> ExportJob:
    """Validates and records a job; it runs later, outside this request."""
    if delivery == "EMAIL":
        if not email:
            raise ExportRequestError("email: is required for EMAIL delivery")
        try:
            email = mail.check_address(email)
        except mail.AddressError as exc:
            raise ExportRequestError(str(exc)) from None
    elif email:
        try:
            email = mail.check_address(email)
        except mail.AddressError as exc:
            raise ExportRequestError(str(exc)) from None
    now = _now()
    job = ExportJob(
        org_id=principal.org.id,
        public_id=uuid.uuid4().hex,
        kind=kind,
        params={**params, "pii": principal.can("pii:read")},
        delivery=delivery,
        email=email,
        requested_by=actor_of(principal),
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=settings.job_max_attempts,
        run_after=now,
        created_at=now,
    )
    async with db.session(principal.org.id) as session, session.begin():
        session.add(job)
        session.add(
            AuditEvent(
                org_id=principal.org.id,
                at=now,
                actor=job.requested_by,
                action="export.requested",
                target=job.public_id,
                detail={"kind": kind, "delivery": delivery, **params},
            )
        )
    return job


@dataclass
class ExportOutcome:
    row_count: int
    file_name: str


class ExportFailed(Exception):
    """A job that cannot succeed however often it is retried (e.g. its member is gone)."""


async def produce_export(
    db: Database, settings: Settings, job: ExportJob, org: OrgInfo
) -> ExportOutcome:
    """Writes the job's workbook into the export directory (atomically: temp file, then rename)."""
    from member360.exports.xlsx import Column, WorkbookInfo, write_workbook_async

    export_dir = Path(settings.export_dir)
    await asyncio.to_thread(_prepare_dir, export_dir, job.public_id)
    final = export_dir / f"{job.public_id}.xlsx"
    partial = export_dir / f".{job.public_id}.{os.getpid()}.partial.xlsx"
    tz = org.tz
    generated = _now().astimezone(tz)
    if job.kind == "CUSTOMER_TAB":
        tab = CustomerTab(job.params["tab"])
        customer_id = job.params["customerId"]
        pk = await customer_pk_for(db, org.id, customer_id)
        if pk is None:
            raise ExportFailed(f"customerId: unknown customer {customer_id!r}")
        export = TABS[tab]
        columns = [Column(c.title, c.kind) for c in export.columns]  # type: ignore[arg-type]
        batches = tab_batches(db, org.id, tz, pk, tab, pii=bool(job.params.get("pii")))
        info = WorkbookInfo(
            title=f"{export.title} — customer {customer_id}",
            notes=[
                ("Customer", customer_id),
                ("Tab", export.title),
                ("Time zone", org.time_zone),
                ("Generated at", generated.isoformat(timespec="seconds")),
            ],
            time_zone=org.time_zone,
        )
    elif job.kind == "REPORT":
        from member360.exports.report_export import report_workbook

        columns, batches, info = await report_workbook(db, org, job.params, generated)
    else:
        raise ExportFailed(f"kind: unknown export kind {job.kind!r}")
    try:
        result = await write_workbook_async(
            partial, columns, batches, info, max_rows_per_sheet=settings.export_sheet_rows
        )
        os.replace(partial, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return ExportOutcome(row_count=result.row_count, file_name=final.name)


def _prepare_dir(export_dir: Path, public_id: str) -> None:
    export_dir.mkdir(parents=True, exist_ok=True)
    for stale in export_dir.glob(f".{public_id}.*.partial.xlsx*"):
        stale.unlink(missing_ok=True)  # left by a runner that died mid-write (file and spool)


class JobRunner:
    """Claims and runs export jobs until stopped; safe to run in many processes at once."""

    def __init__(self, db: Database, settings: Settings, *, worker_id: str | None = None) -> None:
        self.db = db
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = dt.timedelta(seconds=settings.job_lease_seconds)

    async def run_forever(self) -> None:
        while True:
            try:
                ran = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken poll must not end the runner
                log.exception("job runner poll failed")
                ran = False
            if not ran:
                await asyncio.sleep(self.settings.job_poll_seconds)

    async def run_once(self) -> bool:
        """Runs at most one job (or one pending notification); False when there was none."""
        job = await self.claim()
        if job is not None:
            await self.execute(job)
            return True
        return await self.run_notifications_once()

    async def run_notifications_once(self) -> bool:
        """Mails one requester who was not told yet; False when there was none."""
        pending = await self._claim_notification()
        if pending is None:
            return False
        await self._notify(pending)
        return True

    async def claim(self, job_id: int | None = None, org_id: int | None = None) -> ExportJob | None:
        """Takes the next runnable job (or the given one, if it is runnable) under a lease.

        Candidates come from a cross-organization lookup (ids only); each is then claimed
        under its own organization's binding.
        """
        now = _now()
        if job_id is not None and org_id is not None:
            candidates = [(org_id, job_id)]
        else:
            # A task deferred without its organization (before 0007) looks among all of them.
            limit = CLAIM_CANDIDATES if job_id is None else None
            async with self.db.session(None) as session:
                candidates = await runnable_export_jobs(session, now, limit)
            if job_id is not None:
                candidates = [c for c in candidates if c[1] == job_id]
        for candidate_org, candidate_id in candidates:
            job = await self._claim(candidate_org, candidate_id, now)
            if job is not None:
                return job
        return None

    async def _claim(self, org_id: int, job_id: int, now: dt.datetime) -> ExportJob | None:
        async with self.db.session(org_id) as session, session.begin():
            locked = await session.scalar(
                select(ExportJob.id)
                .where(ExportJob.id == job_id, runnable(now))  # type: ignore[arg-type]
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has a single writer anyway
            )
            if locked is None:  # done meanwhile, or another runner holds it
                return None
            result = await session.execute(
                update(ExportJob)
                .where(ExportJob.id == job_id)  # type: ignore[arg-type]
                .where(runnable(now))
                .values(
                    status=JobStatus.RUNNING,
                    lease_until=now + self.lease,
                    worker_id=self.worker_id,
                    attempts=ExportJob.attempts + 1,
                    started_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # another runner took it between the two statements
                return None
            job = (
                await session.execute(select(ExportJob).where(ExportJob.id == job_id))
            ).scalar_one()  # type: ignore[arg-type]
            session.expunge(job)
            return job

    async def _renew_lease(self, job: ExportJob) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            async with self.db.session(job.org_id) as session, session.begin():
                await session.execute(
                    update(ExportJob)
                    .where(ExportJob.id == job.id, ExportJob.worker_id == self.worker_id)  # type: ignore[arg-type]
                    .values(lease_until=_now() + self.lease)
                )

    async def execute(self, job: ExportJob) -> None:
        with log_scope(org_id=job.org_id, operation=f"export.{job.kind.lower()}"):
            await self._execute(job)

    async def _execute(self, job: ExportJob) -> None:
        org = await get_org(self.db, org_id=job.org_id)
        renewer = asyncio.create_task(self._renew_lease(job))
        try:
            outcome = await produce_export(self.db, self.settings, job, org)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await self._failed(job, exc)
            return
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        now = _now()
        async with self.db.session(job.org_id) as session, session.begin():
            await session.execute(
                update(ExportJob)
                .where(ExportJob.id == job.id, ExportJob.worker_id == self.worker_id)  # type: ignore[arg-type]
                .values(
                    status=JobStatus.SUCCEEDED,
                    row_count=outcome.row_count,
                    file_name=outcome.file_name,
                    finished_at=now,
                    expires_at=now + dt.timedelta(days=self.settings.export_link_days),
                    lease_until=None,
                    error=None,
                )
            )
        log.info("export %s succeeded: %d rows", job.public_id, outcome.row_count)
        if job.delivery == "EMAIL":
            refreshed = await self._load(job)
            await self._notify(refreshed)

    async def _failed(self, job: ExportJob, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        final = isinstance(exc, ExportFailed) or job.attempts >= job.max_attempts
        now = _now()
        values: dict[str, Any] = {"error": message[:2000], "lease_until": None}
        if final:
            values.update(status=JobStatus.FAILED, finished_at=now)
        else:
            backoff = self.settings.job_backoff_seconds * (2 ** (job.attempts - 1))
            values.update(status=JobStatus.QUEUED, run_after=now + dt.timedelta(seconds=backoff))
        log.warning(
            "export %s attempt %d failed: %s", job.public_id, job.attempts, safe_message(message)
        )
        async with self.db.session(job.org_id) as session, session.begin():
            await session.execute(
                update(ExportJob)
                .where(ExportJob.id == job.id, ExportJob.worker_id == self.worker_id)
                .values(**values)  # type: ignore[arg-type]
            )
        if final and job.email:
            await self._notify(await self._load(job))

    async def _load(self, job: ExportJob) -> ExportJob:
        async with self.db.session(job.org_id) as session:
            fresh = (
                await session.execute(select(ExportJob).where(ExportJob.id == job.id))
            ).scalar_one()  # type: ignore[arg-type]
            session.expunge(fresh)
            return fresh

    async def _claim_notification(self) -> ExportJob | None:
        """A finished job whose requester was not told yet (e.g. the SMTP server was down)."""
        now = _now()
        async with self.db.session(None) as session:
            candidates = await export_jobs_owing_mail(session, now, CLAIM_CANDIDATES)
        for org_id, job_id in candidates:
            async with self.db.session(org_id) as session, session.begin():
                job = (
                    await session.execute(
                        select(ExportJob).where(ExportJob.id == job_id, owes_mail(now))  # type: ignore[arg-type]
                    )
                ).scalar_one_or_none()
                if job is None:
                    continue
                # Hold it for a lease so two runners do not mail the same job.
                result = await session.execute(
                    update(ExportJob)
                    .where(ExportJob.id == job.id, ExportJob.run_after == job.run_after)  # type: ignore[arg-type]
                    .values(run_after=now + self.lease)
                )
                if result.rowcount != 1:
                    continue
                session.expunge(job)
                return job
        return None

    async def _notify(self, job: ExportJob) -> None:
        assert job.email is not None
        if job.status == JobStatus.SUCCEEDED:
            url = download_url(self.settings, job.public_id, job.org_id)
            expires = (
                job.expires_at.isoformat(timespec="minutes") if job.expires_at else "in a few days"
            )
            subject = EMAIL_SUBJECT
            body = (
                f"Your export ({job.row_count} rows) is ready.\n\nDownload it here:\n{url}\n\n"
                f"The link works until {expires} (UTC).\n"
            )
        else:
            subject = FAILED_SUBJECT
            body = (
                f"Your export could not be produced after {job.attempts} attempts.\n\n"
                f"Reason: {job.error}\n"
            )
        try:
            await mail.send_mail(self.settings, job.email, subject, body)
        except Exception as exc:  # SMTP down: try again later, the job itself is done
            # The exception's text may name the recipient: log its type only.
            log.warning("mail for export %s failed: %s", job.public_id, type(exc).__name__)
            async with self.db.session(job.org_id) as session, session.begin():
                await session.execute(
                    update(ExportJob)
                    .where(ExportJob.id == job.id)  # type: ignore[arg-type]
                    .values(
                        run_after=_now() + dt.timedelta(seconds=self.settings.job_backoff_seconds)
                    )
                )
            return
        async with self.db.session(job.org_id) as session, session.begin():
            await session.execute(
                update(ExportJob).where(ExportJob.id == job.id).values(notified_at=_now())  # type: ignore[arg-type]
            )
