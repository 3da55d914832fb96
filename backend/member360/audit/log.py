"""Writing the audit log: how it names who acted, and one event in its own transaction.

Actors are `user:<email>` for a signed-in user, `api-key:<id>` for a partner app, `link` for
a signed download link (it carries no credential) and `cli` for the command line. The log is
readable by the organization's admin users only (Query.auditEvents), never written to the
application log.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from member360.audit.models import AuditEvent
from member360.db import Database

if TYPE_CHECKING:
    # Only its attributes are read: auth imports this module, so not at run time.
    from member360.auth.keys import Principal


def user_actor(email: str) -> str:
    """How the audit log names a user (readable by the org's admins only, never logged)."""
    return f"user:{email}"


def actor_of(principal: Principal) -> str:
    return (
        user_actor(principal.user_email) if principal.user_email else f"api-key:{principal.key_id}"
    )


async def audit(
    db: Database, org_id: int, actor: str, action: str, target: str | None, **detail: Any
) -> None:
    """Records one event in a transaction of its own (for actions that write nothing else)."""
    async with db.session(org_id) as session, session.begin():
        session.add(
            AuditEvent(
                org_id=org_id,
                at=dt.datetime.now(dt.UTC),
                actor=actor,
                action=action,
                target=target,
                detail=detail or None,
            )
        )
