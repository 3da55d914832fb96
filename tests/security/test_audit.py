"""Query.auditEvents: admins read their organization's audit log; keys and agents may not.

Users sign in through the lead's session code; here an admin's Principal (what a session
resolves to) runs the schema directly, and API keys go through HTTP.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update

from member360.audit.models import AuditEvent
from member360.auth.keys import ROLE_SCOPES, SCOPES, KeyResolver, Principal, create_api_key
from member360.auth.models import ApiKey
from member360.config import Settings
from member360.db import Database
from member360.graphql.context import make_context
from member360.graphql.schema import schema
from member360.orgs.service import OrgInfo, create_org
from tests.factories import ingest_ok, make_customer
from tests.security.conftest import Api, codes

AUDIT = """query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id at actor action target detail } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
T0 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)


def admin_of(org: OrgInfo, role: str = "ADMIN") -> Principal:
    return Principal(
        org=org, scopes=ROLE_SCOPES[role], user_id=41, user_email="boss@acme.test", role=role
    )


async def run(db: Database, principal: Principal, **variables: Any) -> dict[str, Any]:
    context = make_context(db, principal, Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        result = await schema.execute(AUDIT, variable_values=variables, context_value=context)
    finally:
        await context.aclose()
    return {
        "data": result.data,
        "errors": [{"message": e.message, "extensions": e.extensions} for e in result.errors or []],
    }


async def add_events(db: Database, org: OrgInfo, *events: tuple[int, str, str]) -> None:
    async with db.session(org.id) as session, session.begin():
        for minutes, actor, action in events:
            session.add(
                AuditEvent(
                    org_id=org.id,
                    at=T0 + dt.timedelta(minutes=minutes),
                    actor=actor,
                    action=action,
                    target=f"t{minutes}",
                    detail={"n": minutes},
                )
            )


async def test_admin_reads_newest_first_with_paging_and_only_their_org(
    db: Database, org: OrgInfo
) -> None:
    other = await create_org(db, f"org-{uuid.uuid4().hex[:10]}", name="Other", time_zone="UTC")
    await add_events(
        db,
        org,
        (0, "api-key:1", "export.requested"),
        (10, "user:a@acme.test", "coupon.resent"),
        (20, "link", "export.downloaded"),
        (30, "api-key:1", "export.requested"),
        (40, "api-key:2", "api_key.used"),
    )
    await add_events(db, other, (50, "api-key:9", "export.requested"))
    admin = admin_of(org)
    seen: list[str] = []
    after = None
    pages = []
    while True:
        result = await run(db, admin, first=2, after=after)
        assert not result["errors"], result
        page = result["data"]["auditEvents"]
        pages.append(page)
        seen += [edge["node"]["target"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["t40", "t30", "t20", "t10", "t0"]  # never the other org's t50
    assert [len(p["edges"]) for p in pages] == [2, 2, 1]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    newest = pages[0]["edges"][0]["node"]
    # The org's time zone (Asia/Kolkata): 06:40 UTC is 12:10 +05:30.
    assert newest["at"] == "2026-03-01T12:10:00+05:30"
    assert (newest["actor"], newest["action"], newest["detail"]) == (
        "api-key:2",
        "api_key.used",
        {"n": 40},
    )
    # The other org's admin sees only its own event.
    theirs = await run(db, admin_of(other))
    assert [e["node"]["target"] for e in theirs["data"]["auditEvents"]["edges"]] == ["t50"]


async def test_filters(db: Database, org: OrgInfo) -> None:
    await add_events(
        db,
        org,
        (0, "api-key:1", "export.requested"),
        (10, "user:a@acme.test", "coupon.resent"),
        (20, "api-key:1", "export.requested"),
        (30, "api-key:2", "export.requested"),
    )
    admin = admin_of(org)

    async def targets(**filter: Any) -> list[str]:
        result = await run(db, admin, filter=filter)
        assert not result["errors"], result
        return [e["node"]["target"] for e in result["data"]["auditEvents"]["edges"]]

    assert await targets(action="export.requested") == ["t30", "t20", "t0"]
    assert await targets(actor="api-key:1") == ["t20", "t0"]
    assert await targets(action="export.requested", actor="api-key:2") == ["t30"]
    # from is inclusive, to exclusive; an instant without offset is in the org's time zone.
    assert await targets(**{"from": "2026-03-01T06:10:00+00:00", "to": "2026-03-01T06:30:00Z"}) == [
        "t20",
        "t10",
    ]
    assert await targets(**{"from": "2026-03-01T11:40:00"}) == ["t30", "t20", "t10"]
    assert await targets(action="nothing.like.this") == []


async def test_keys_and_agents_are_forbidden(db: Database, org: OrgInfo, dev: Api) -> None:
    await add_events(db, org, (0, "api-key:1", "export.requested"))
    # A key with every scope still is not an admin user.
    over_http = await dev.gql(AUDIT)
    assert codes(over_http) == ["FORBIDDEN"] and over_http["data"] is None
    agent = await run(db, admin_of(org, role="AGENT"))
    assert [e["extensions"]["code"] for e in agent["errors"]] == ["FORBIDDEN"]
    assert "only admin users" in agent["errors"][0]["message"]


async def test_export_requests_are_audited_with_the_key(
    db: Database, org: OrgInfo, dev: Api
) -> None:
    await ingest_ok(db, org, make_customer("c1", name="Asha Rao"))
    result = await dev.gql(
        "mutation($input: RequestExportInput!) { requestExport(input: $input) { id } }",
        input={"customerTab": {"customerId": "c1", "tab": "LEADS"}},
    )
    job_id = result["data"]["requestExport"]["id"]
    events = (await run(db, admin_of(org), filter={"action": "export.requested"}))["data"]
    [node] = [e["node"] for e in events["auditEvents"]["edges"]]
    assert node["target"] == job_id and node["actor"].startswith("api-key:")
    assert node["detail"]["kind"] == "CUSTOMER_TAB" and node["detail"]["tab"] == "LEADS"


async def key_use_events(db: Database, org: OrgInfo) -> list[Any]:
    async with db.session(org.id) as session:
        return list(
            (
                await session.execute(
                    select(AuditEvent.actor, AuditEvent.detail).where(
                        AuditEvent.org_id == org.id,  # type: ignore[arg-type]
                        AuditEvent.action == "api_key.used",  # type: ignore[arg-type]
                    )
                )
            ).all()
        )


async def test_key_use_is_audited_once_per_hour_across_processes(
    db: Database, org: OrgInfo
) -> None:
    key = await create_api_key(db, org, list(SCOPES), name="crm sync")
    # Two API processes, no cache: every request looks the key up.
    one, two = KeyResolver(db, ttl=0), KeyResolver(db, ttl=0)
    for resolver in (one, two, one, two, one):
        principal = await resolver.resolve(key)
        assert principal is not None
    events = await key_use_events(db, org)
    assert events == [(f"api-key:{principal.key_id}", {"name": "crm sync"})]
    # The next hour's first use is recorded again (last use moved back past the hour).
    async with db.session(org.id) as session, session.begin():
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == principal.key_id)  # type: ignore[arg-type]
            .values(last_used_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        )
    await two.resolve(key)
    await one.resolve(key)
    assert len(await key_use_events(db, org)) == 2
    # A cached key costs no lookup and writes nothing.
    cached = KeyResolver(db, ttl=3600)
    await cached.resolve(key)
    for _ in range(5):
        await cached.resolve(key)
    assert len(await key_use_events(db, org)) == 2
