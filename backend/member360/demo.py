"""The demo organization `make run` serves: created once, then reused."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from sqlalchemy import select

from member360.auth.keys import SCOPES, create_api_key
from member360.auth.models import User
from member360.auth.users import create_user, set_password
from member360.config import Settings
from member360.db import Database
from member360.demo_events import generate_demo_events
from member360.ingest.importer import Importer
from member360.migrate import migrate_for
from member360.orgs.models import EXTENDED_ATTRIBUTES
from member360.orgs.service import OrgError, OrgInfo, create_org, get_org

# Emails follow the org's slug, so a second demo org (`demo --slug x`) gets its own users.
DEMO_ROLES = ("ADMIN", "AGENT")


async def _fresh_login(db: Database, org: OrgInfo, email: str, role: str) -> str:
    """A new password for a demo user on every run (none is kept anywhere to print again)."""
    password = secrets.token_urlsafe(12)
    # Demo emails follow the org's slug, so the user, if any, is this org's (create_user
    # refuses an email another organization already uses).
    async with db.session(org.id) as session:
        exists = await session.scalar(select(User.id).where(User.email == email))
    if exists is None:
        await create_user(db, org, email=email, role=role, password=password)
    else:
        await set_password(db, org, email, password)
    return password


async def ensure_demo(
    settings: Settings,
    *,
    slug: str = "demo",
    members: int = 3000,
    echo: Callable[[str], None] = print,
) -> str:
    await migrate_for(settings)
    db = Database(settings.database_url)
    try:
        try:
            org: OrgInfo | None = await get_org(db, slug=slug)
            echo(f"demo organization {slug!r} is already there")
        except OrgError:
            org = None
        if org is None:
            org = await create_org(
                db,
                slug,
                name="Demo Loyalty",
                time_zone="Asia/Kolkata",
                hierarchy=True,
                surveys=True,
                extended_attributes=list(EXTENDED_ATTRIBUTES),
            )
            echo(f"creating demo organization {slug!r}: {members} members, a year of activity…")
            started = time.monotonic()
            events = generate_demo_events(members=members, has_surveys=True, has_hierarchy=True)
            outcome = await Importer(db, org, batch_size=settings.import_batch_size).run(
                enumerate(events, 1)
            )
            if outcome.error is not None:
                raise RuntimeError(
                    f"demo data failed to import at event {outcome.error.position}: {outcome.error}"
                )
            echo(f"imported {outcome.applied} events in {time.monotonic() - started:.1f} s")
        for role in DEMO_ROLES:
            email = f"{role.lower()}@{slug}.member360.test"
            password = await _fresh_login(db, org, email, role)
            echo(f"demo {role.lower()} login: {email} / {password}")
        key = await create_api_key(db, org, list(SCOPES), name="demo")
        echo(f"demo API key for {slug!r} (every scope); send it as 'Authorization: Bearer <key>':")
        return key
    finally:
        await db.dispose()
