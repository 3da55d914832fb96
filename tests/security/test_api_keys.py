"""API keys at rest and in operators' hands: hashed, listed without secrets, revoked."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from member360.app import create_app
from member360.audit.models import AuditEvent
from member360.auth.keys import KeyResolver, create_api_key, hash_key, revoke_api_key
from member360.auth.models import ApiKey
from member360.db import Database
from member360.orgs.service import OrgInfo, create_org
from tests.security.conftest import settings_for
from tests.test_cli import member360

ME = {"query": "{ me { kind scopes } }"}


async def _row(db: Database, org: OrgInfo, key: str) -> ApiKey:
    async with db.session(org.id) as session:
        return (
            await session.execute(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
        ).scalar_one()


async def test_keys_are_hashed_at_rest_and_record_their_last_use(
    db: Database, org: OrgInfo
) -> None:
    key = await create_api_key(db, org, ["customers:read"], name="pos")
    row = await _row(db, org, key)
    stored = [str(v) for v in (row.prefix, row.key_hash, row.name, row.scopes)]
    assert not any(key in value for value in stored) and row.prefix == key[:12]
    assert row.last_used_at is None
    assert await KeyResolver(db).resolve(key) is not None
    assert (await _row(db, org, key)).last_used_at is not None


async def test_list_and_revoke_from_the_cli(db: Database, org: OrgInfo) -> None:
    key = await create_api_key(db, org, ["customers:read", "pii:read"], name="pos")
    unused = await create_api_key(db, org, ["reports:read"])
    await KeyResolver(db).resolve(key)  # sets last_used_at

    code, out, err = await member360(db, "api-key", "list", "--org", org.slug)
    assert code == 0, err
    header, *lines = out.strip().splitlines()
    assert header.split("\t") == [
        "id", "prefix", "name", "scopes", "created", "last used", "revoked",
    ]  # fmt: skip
    rows = {line.split("\t")[1]: line.split("\t") for line in lines}
    assert set(rows) == {key[:12], unused[:12]}
    assert rows[key[:12]][2:4] == ["pos", "customers:read,pii:read"]
    assert rows[key[:12]][5] != "-" and rows[unused[:12]][5] == "-"  # last used
    assert rows[key[:12]][6] == "-"  # not revoked
    for secret in (key, unused):
        assert secret[12:] not in out and hash_key(secret) not in out

    code, out, err = await member360(db, "api-key", "revoke", "--org", org.slug, key[:12])
    assert code == 0, err
    assert out.startswith(f"revoked key {rows[key[:12]][0]} ({key[:12]}…, pos,")
    assert await KeyResolver(db).resolve(key) is None
    assert await KeyResolver(db).resolve(unused) is not None
    code, out, _ = await member360(db, "api-key", "list", "--org", org.slug)
    assert [line.split("\t")[6] != "-" for line in out.strip().splitlines()[1:]] == [True, False]

    # Again: nothing to do, and it says so.
    code, out, _ = await member360(db, "api-key", "revoke", "--org", org.slug, key)
    assert code == 0 and "was already revoked on" in out
    # Unknown, or another organization's key: refused by name, nothing revoked.
    other = await create_org(db, f"o-{uuid.uuid4().hex[:8]}", name="Other", time_zone="UTC")
    theirs = await create_api_key(db, other, ["customers:read"])
    for ref in ("m360_nothere", theirs[:12], str((await _row(db, other, theirs)).id)):
        code, out, err = await member360(db, "api-key", "revoke", "--org", org.slug, ref)
        assert code != 0 and f"no API key of {org.slug} has the id or prefix {ref!r}" in err
    assert await KeyResolver(db).resolve(theirs) is not None
    async with db.session(org.id) as session:
        audited = (
            await session.execute(select(AuditEvent).where(AuditEvent.org_id == org.id))
        ).scalars()
        # (Besides the hourly api_key.used rows of the keys resolved above.)
        revocations = [(a.action, a.target) for a in audited if a.action != "api_key.used"]
        assert revocations == [("api_key.revoked", key[:12])]


async def test_revoke_by_id(db: Database, org: OrgInfo) -> None:
    key = await create_api_key(db, org, ["customers:read"])
    row = await _row(db, org, key)
    info, revoked = await revoke_api_key(db, org, str(row.id))
    assert revoked and info.prefix == key[:12] and info.revoked_at is not None
    assert (await revoke_api_key(db, org, str(row.id)))[1] is False


async def test_a_revoked_key_gets_401_once_its_cache_entry_lapses(
    db: Database, org: OrgInfo
) -> None:
    app = create_app(settings_for("development"), db=db, background=False)
    now = [1000.0]
    keys: KeyResolver = app.state.keys
    keys.clock = lambda: now[0]
    key = await create_api_key(db, org, ["customers:read"])
    auth = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        assert (await client.post("/graphql", json=ME, headers=auth)).status_code == 200
        await revoke_api_key(db, org, key[:12])
        # Within the cache's lifetime the key still answers (the documented window)...
        now[0] += keys.ttl - 0.5
        assert (await client.post("/graphql", json=ME, headers=auth)).status_code == 200
        # ...and once the entry lapses it is refused.
        now[0] += 1.0
        refused = await client.post("/graphql", json=ME, headers=auth)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert keys.ttl == 10.0
