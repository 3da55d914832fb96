"""GraphQL surface of exports: request one, follow its job, list the org's jobs."""

from __future__ import annotations

import datetime as dt
import logging
import re
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy import select, tuple_

from member360.audit.log import actor_of
from member360.auth.keys import Principal
from member360.exports.jobs import ExportRequestError, request_export
from member360.exports.links import download_url
from member360.exports.models import ExportJob as ExportJobRow
from member360.exports.models import JobStatus
from member360.exports.tabs import CustomerTab, customer_pk_for
from member360.graphql.access import personal
from member360.graphql.errors import bad_input
from member360.graphql.info import Info
from member360.graphql.relay import (
    Connection,
    connection,
    decode_time_cursor,
    encode_cursor,
    page_size,
)


def local(moment: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(tz)


log = logging.getLogger("member360.exports")
# A job's public id: uuid4().hex (exports.jobs.request_export).
_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")


@strawberry.enum
class ExportStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.enum
class ExportDelivery(Enum):
    DOWNLOAD = "DOWNLOAD"
    EMAIL = "EMAIL"


@strawberry.input
class CustomerTabExport:
    customer_id: str
    tab: CustomerTab


@strawberry.type
class ExportJob:
    id: strawberry.ID
    kind: str
    status: ExportStatus
    delivery: ExportDelivery
    email: str | None = personal("The address the link is mailed to (EMAIL delivery).")
    row_count: int | None
    download_url: str | None = strawberry.field(
        description="Signed link, present once SUCCEEDED and until it expires."
    )
    expires_at: dt.datetime | None
    error: str | None
    attempts: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    emailed_at: dt.datetime | None = strawberry.field(
        description="When the link (or the failure) was mailed; null while that mail is "
        "pending: an unreachable mail server is retried until it answers."
    )

    @classmethod
    def from_row(cls, row: ExportJobRow, info: Info) -> ExportJob:
        ctx = info.context
        tz = ctx.tz
        url = None
        if row.status == JobStatus.SUCCEEDED and (
            row.expires_at is None or row.expires_at > ctx.now
        ):
            url = download_url(ctx.settings, row.public_id, row.org_id)
        return cls(
            id=strawberry.ID(row.public_id),
            kind=row.kind,
            status=ExportStatus(row.status),
            delivery=ExportDelivery(row.delivery),
            email=row.email if ctx.pii else None,
            row_count=row.row_count,
            download_url=url,
            expires_at=local(row.expires_at, tz),
            error=row.error,
            attempts=row.attempts,
            created_at=row.created_at.astimezone(tz),
            finished_at=local(row.finished_at, tz),
            emailed_at=local(row.notified_at, tz),
        )


def _visible_jobs(principal: Principal) -> list[Any]:
    """Conditions on the jobs a caller may see.

    Agents see the jobs they requested (their Exports page is "my jobs"); admin users and API
    keys (an organization's integrations) see the organization's. Report jobs also need
    reports:read: an agent never gets a link to a report workbook.
    """
    conditions: list[Any] = []
    if principal.role is not None and not principal.is_admin:
        conditions.append(ExportJobRow.requested_by == actor_of(principal))
    if not principal.can("reports:read"):
        conditions.append(ExportJobRow.kind != "REPORT")
    return conditions


@strawberry.type
class ExportQuery:
    @strawberry.field
    async def export_job(self, info: Info, id: strawberry.ID) -> ExportJob | None:
        ctx = info.context
        if not _PUBLIC_ID.fullmatch(str(id)):
            raise bad_input(
                "id: invalid id (pass the id of an export job this API returned)", field="id"
            )
        async with ctx.db.session(ctx.org_id) as session:
            row = (
                await session.execute(
                    select(ExportJobRow).where(
                        ExportJobRow.org_id == ctx.org_id,  # type: ignore[arg-type]
                        ExportJobRow.public_id == str(id),  # type: ignore[arg-type]
                        *_visible_jobs(ctx.principal),
                    )
                )
            ).scalar_one_or_none()
        return None if row is None else ExportJob.from_row(row, info)

    @strawberry.field(
        description="Export jobs, newest first: the organization's for admin users and API "
        "keys, an agent's own for agents; report jobs need reports:read."
    )
    async def export_jobs(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[ExportJob]:
        ctx = info.context
        size = page_size(first)
        stmt = select(ExportJobRow).where(
            ExportJobRow.org_id == ctx.org_id,  # type: ignore[arg-type]
            *_visible_jobs(ctx.principal),
        )
        cursor = decode_time_cursor(after)
        if cursor is not None:
            stmt = stmt.where(tuple_(ExportJobRow.created_at, ExportJobRow.id) < tuple_(*cursor))  # type: ignore[arg-type]
        stmt = stmt.order_by(ExportJobRow.created_at.desc(), ExportJobRow.id.desc()).limit(size + 1)  # type: ignore[attr-defined, union-attr]
        async with ctx.db.session(ctx.org_id) as session:
            rows = list((await session.execute(stmt)).scalars())
        return connection(
            rows[:size],
            len(rows) > size,
            lambda r: ExportJob.from_row(r, info),
            lambda r: encode_cursor(r.created_at, r.id),
            cursor is not None,
        )


async def request_export_field(
    info: Info,
    *,
    kind: str,
    params: dict[str, Any],
    delivery: ExportDelivery,
    email: str | None,
) -> ExportJob:
    ctx = info.context
    if ctx.limits is not None:
        # Past the per-hour export budget: RATE_LIMITED, which the app answers with HTTP 429.
        await ctx.limits.check_export(ctx.principal)
    try:
        job = await request_export(
            ctx.db,
            ctx.settings,
            ctx.principal,
            kind=kind,
            params=params,
            delivery=delivery.value,
            email=email,
        )
    except ExportRequestError as exc:
        raise bad_input(str(exc)) from None
    if ctx.queue is not None:
        from member360.exports.queue import defer_export

        try:
            await defer_export(ctx.queue, job.id, job.org_id)
        except Exception:  # the job is recorded: the workers' sweep defers it within half a lease
            log.exception("deferring export %s failed", job.public_id)
    return ExportJob.from_row(job, info)


async def check_customer_tab(info: Info, tab: CustomerTabExport) -> dict[str, Any]:
    ctx = info.context
    ctx.require("customers:read", "requestExport of a customer tab")
    if await customer_pk_for(ctx.db, ctx.org_id, tab.customer_id) is None:
        raise bad_input(f"customerTab.customerId: unknown customer {tab.customer_id!r}")
    return {"customerId": tab.customer_id, "tab": tab.tab.value}
