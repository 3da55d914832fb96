"""Query.auditEvents: the organization's audit log, newest first, for admin users only.

Actions recorded (actor is `user:<email>`, `api-key:<id>`, or `link` for a signed download
link, which carries no credential):

- `export.requested` (target: the export job id; detail: kind, delivery, the export's filter);
- `export.downloaded` (target: the job id; detail: kind);
- `coupon.resent` (target: the coupon id; detail: channel);
- `api_key.used`: the first use of an API key in each clock hour (UTC); see
  member360.auth.keyuse;
- logins and sign-in failures (recorded by the users/sessions code).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.scalars import JSON

from member360.audit.models import AuditEvent as AuditRow
from member360.errors import InputError
from member360.graphql.errors import forbidden
from member360.graphql.info import Info
from member360.graphql.relay import (
    Connection,
    connection,
    decode_time_cursor,
    encode_cursor,
    page_size,
)


@strawberry.type(description="One audited action: who did what, when, to what.")
class AuditEvent:
    id: strawberry.ID
    at: dt.datetime = strawberry.field(description="When, in the organization's time zone.")
    actor: str = strawberry.field(description="user:<email>, api-key:<id>, or link.")
    action: str = strawberry.field(description="e.g. export.requested, api_key.used.")
    target: str | None
    detail: JSON | None


@strawberry.input
class AuditEventFilter:
    action: str | None = strawberry.field(default=None, description="Exact action name.")
    actor: str | None = strawberry.field(default=None, description="Exact actor.")
    from_: dt.datetime | None = strawberry.field(
        default=None,
        name="from",
        description="Events at or after this instant (no offset: the org's time zone).",
    )
    to: dt.datetime | None = strawberry.field(
        default=None, description="Events before this instant (no offset: the org's time zone)."
    )


AUDIT = AuditRow.__table__  # type: ignore[attr-defined]


def _instant(value: dt.datetime, tz: Any, field: str) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # within a day of year 1 or year 9999
        raise InputError(
            f"filter.{field}: {value.isoformat()} is out of range", field=f"filter.{field}"
        ) from None


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The organization's audit log, newest first (admin users only).")
    async def audit_events(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEvent]:
        ctx = info.context
        if not ctx.principal.is_admin:
            # API keys (whatever their scopes) and agents never read who did what.
            raise forbidden("auditEvents: only admin users may read the audit log")
        size = page_size(first)
        t = AUDIT
        stmt = select(t).where(t.c.org_id == ctx.org_id)
        if filter is not None:
            if filter.action is not None:
                stmt = stmt.where(t.c.action == filter.action)
            if filter.actor is not None:
                stmt = stmt.where(t.c.actor == filter.actor)
            if filter.from_ is not None:
                stmt = stmt.where(t.c.at >= _instant(filter.from_, ctx.tz, "from"))
            if filter.to is not None:
                stmt = stmt.where(t.c.at < _instant(filter.to, ctx.tz, "to"))
        cursor = decode_time_cursor(after)
        if cursor is not None:
            stmt = stmt.where(tuple_(t.c.at, t.c.id) < tuple_(*cursor))
        stmt = stmt.order_by(t.c.at.desc(), t.c.id.desc()).limit(size + 1)
        rows = list(await ctx.loaders.fetch(stmt))
        tz = ctx.tz
        return connection(
            rows[:size],
            len(rows) > size,
            lambda r: AuditEvent(
                id=strawberry.ID(str(r.id)),
                at=r.at.astimezone(tz),
                actor=r.actor,
                action=r.action,
                target=r.target,
                detail=r.detail,
            ),
            lambda r: encode_cursor(r.at, r.id),
            cursor is not None,
        )
