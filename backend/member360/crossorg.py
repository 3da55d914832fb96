"""The questions the app asks across organizations, answered with ids only.

Row-level security shows the app's database role one organization per transaction, and the
all-organizations binding only to the tables' owner (migration 0007). A few questions come
before the organization is known (which one issued this API key, this session cookie, this
sign-in email) or span them (where lots are due, which export jobs can run or still owe a
mail). On PostgreSQL each is a SECURITY DEFINER function of migration 0007 answering exactly
that question with ids, never a tenant row, for an exact match only; the caller then binds the
organization it got and reads the rows under row-level security like any request. So even SQL
injected through the app's connection cannot read every tenant in one statement.

On SQLite (no row-level security, one process) the same questions are plain queries across
organizations, let past the tenant guard by the ACROSS_ORGS execution option.

Each function takes the caller's session, bound or not, so a lookup and the work that follows
share one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from member360.auth.models import ApiKey, User, UserSession
from member360.db import ACROSS_ORGS, table
from member360.exports.models import ExportJob, JobStatus


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _one(session: AsyncSession, function: str, query: Select[Any], value: str) -> int | None:
    if _postgresql(session):
        found = await session.scalar(text(f"SELECT {function}(:value)"), {"value": value})
    else:
        found = await session.scalar(query.execution_options(**{ACROSS_ORGS: True}))
    return None if found is None else int(found)


async def org_of_api_key(session: AsyncSession, key_hash: str) -> int | None:
    """The organization of the API key with exactly this hash, or None."""
    query = select(ApiKey.org_id).where(ApiKey.key_hash == key_hash)
    return await _one(session, "m360_org_of_api_key", query, key_hash)


async def org_of_session(session: AsyncSession, token_hash: str) -> int | None:
    """The organization of the web-app session with exactly this token hash, or None."""
    query = select(UserSession.org_id).where(UserSession.token_hash == token_hash)
    return await _one(session, "m360_org_of_session", query, token_hash)


async def org_of_user(session: AsyncSession, email: str) -> int | None:
    """The organization of the user with exactly this (normalized) email, or None."""
    query = select(User.org_id).where(User.email == email)
    return await _one(session, "m360_org_of_user", query, email)


async def orgs_with_due_lots(session: AsyncSession, due_by: dt.datetime) -> list[int]:
    """Organizations with a lot whose expiry has come by `due_by`."""
    if _postgresql(session):
        rows = await session.scalars(
            text("SELECT m360_orgs_with_due_lots(:due_by)"), {"due_by": due_by}
        )
        return [int(r) for r in rows]
    lots = table("lots")
    query = (
        select(lots.c.org_id).where(lots.c.remaining > 0, lots.c.expires_at <= due_by).distinct()
    )
    return [int(r) for r in await session.scalars(query.execution_options(**{ACROSS_ORGS: True}))]


def runnable(now: dt.datetime) -> ColumnElement[bool]:
    """A job a runner may claim: queued and due, or running under a lease that lapsed."""
    return (
        (ExportJob.status == JobStatus.QUEUED) & (ExportJob.run_after <= now)  # type: ignore[arg-type]
    ) | ((ExportJob.status == JobStatus.RUNNING) & (ExportJob.lease_until < now))  # type: ignore[arg-type, operator]


def owes_mail(now: dt.datetime) -> ColumnElement[bool]:
    """A finished job whose requester was not told yet (e.g. the mail server was down)."""
    return (
        ExportJob.notified_at.is_(None)  # type: ignore[union-attr]
        & ExportJob.email.is_not(None)  # type: ignore[union-attr]
        & (ExportJob.run_after <= now)  # type: ignore[operator]
        & (
            ((ExportJob.status == JobStatus.SUCCEEDED) & (ExportJob.delivery == "EMAIL"))
            | (ExportJob.status == JobStatus.FAILED)
        )
    )


async def _jobs(
    session: AsyncSession,
    function: str,
    where: ColumnElement[bool],
    order: tuple[Any, ...],
    now: dt.datetime,
    limit: int | None,
) -> list[tuple[int, int]]:
    if _postgresql(session):
        rows = await session.execute(
            text(f"SELECT org_id, job_id FROM {function}(:at, :max_rows)"),
            {"at": now, "max_rows": limit},
        )
    else:
        query = select(ExportJob.org_id, ExportJob.id).where(where).order_by(*order).limit(limit)  # type: ignore[call-overload]
        rows = await session.execute(query.execution_options(**{ACROSS_ORGS: True}))
    return [(int(org_id), int(job_id)) for org_id, job_id in rows]


async def runnable_export_jobs(
    session: AsyncSession, now: dt.datetime, limit: int | None = None
) -> list[tuple[int, int]]:
    """(org id, job id) of runnable export jobs, the longest waiting first."""
    order = (ExportJob.run_after, ExportJob.id)
    return await _jobs(session, "m360_runnable_export_jobs", runnable(now), order, now, limit)


async def export_jobs_owing_mail(
    session: AsyncSession, now: dt.datetime, limit: int | None = None
) -> list[tuple[int, int]]:
    """(org id, job id) of finished jobs whose requester is still to be mailed, oldest first."""
    order = (ExportJob.id,)
    return await _jobs(session, "m360_export_jobs_owing_mail", owes_mail(now), order, now, limit)
