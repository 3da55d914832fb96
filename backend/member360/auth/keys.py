"""API keys: random secrets shown once, stored as SHA-256 hashes, resolved to a principal."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from member360.audit.models import AuditEvent
from member360.auth.keyuse import stamp_key_use
from member360.auth.models import ApiKey
from member360.crossorg import org_of_api_key
from member360.db import Database, rebind
from member360.orgs.service import OrgInfo, get_org

SCOPES = (
    "customers:read",
    "reports:read",
    "exports:write",
    "coupons:write",
    "events:write",
    "pii:read",
)
KEY_PREFIX = "m360_"
ROLES = ("ADMIN", "AGENT")
# Admins do everything; agents work member pages (read, resend coupons, download a tab) and
# never see the report or request its export (report exports also need reports:read).
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "ADMIN": frozenset(SCOPES),
    "AGENT": frozenset({"customers:read", "coupons:write", "exports:write", "pii:read"}),
}


class AuthError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    """Who is calling: the organization, the scopes, and which key (or user) it is.

    Users carry a role (ADMIN or AGENT) whose scopes `ROLE_SCOPES` lists; API keys carry the
    scopes they were created with and no role.
    """

    org: OrgInfo
    scopes: frozenset[str]
    key_id: int | None = None
    user_email: str | None = None
    user_id: int | None = None
    role: str | None = None

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def is_admin(self) -> bool:
        return self.role == "ADMIN"


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough; passwords get argon2 instead.
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(text: str) -> list[str]:
    scopes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise AuthError(f"unknown scope {unknown[0]!r}; scopes are {', '.join(SCOPES)}")
    if not scopes:
        raise AuthError("at least one scope is required")
    return scopes


async def create_api_key(
    db: Database, org: OrgInfo, scopes: list[str], name: str | None = None
) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with db.session(org.id) as session, session.begin():
        session.add(
            ApiKey(
                org_id=org.id,
                prefix=key[:12],
                key_hash=hash_key(key),
                name=name,
                scopes=scopes,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    return key


@dataclass(frozen=True)
class KeyInfo:
    """A key as operators see it: never the secret (nor its hash)."""

    id: int
    prefix: str
    name: str | None
    scopes: tuple[str, ...]
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def _info(row: ApiKey) -> KeyInfo:
    assert row.id is not None
    return KeyInfo(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


async def list_api_keys(db: Database, org: OrgInfo) -> list[KeyInfo]:
    async with db.session(org.id) as session:
        rows = (
            await session.execute(
                select(ApiKey).where(ApiKey.org_id == org.id).order_by(ApiKey.id)  # type: ignore[arg-type]
            )
        ).scalars()
        return [_info(row) for row in rows]


async def revoke_api_key(db: Database, org: OrgInfo, ref: str) -> tuple[KeyInfo, bool]:
    """Revokes the org's key named by its id, its prefix or the whole key.

    Returns the key and whether this call revoked it (False: it already was). Raises
    AuthError when no key of the org (or more than one) matches.
    """
    ref = ref.strip()
    if ref.isdigit():
        cond = ApiKey.id == int(ref)
    elif ref.startswith(KEY_PREFIX) and len(ref) > 12:
        cond = ApiKey.key_hash == hash_key(ref)  # the whole key was pasted
    else:
        cond = ApiKey.prefix == ref
    async with db.session(org.id) as session, session.begin():
        rows = list(
            (
                await session.execute(
                    select(ApiKey).where(ApiKey.org_id == org.id, cond)  # type: ignore[arg-type]
                )
            ).scalars()
        )
        if not rows:
            raise AuthError(f"no API key of {org.slug} has the id or prefix {ref!r}")
        if len(rows) > 1:
            raise AuthError(f"{len(rows)} keys of {org.slug} start with {ref!r}: give the key's id")
        row = rows[0]
        if row.revoked_at is not None:
            return _info(row), False
        row.revoked_at = dt.datetime.now(dt.UTC)
        session.add(
            AuditEvent(
                org_id=org.id,
                at=row.revoked_at,
                actor="cli",
                action="api_key.revoked",
                target=row.prefix,
                detail={"keyId": row.id},
            )
        )
        await session.flush()
        return _info(row), True


class KeyResolver:
    """Resolves bearer keys with a short cache, so a request costs no lookup query.

    The cache keeps a key for `ttl` seconds: a revoked key stops working within that time.
    `clock` is injectable so tests can pass the time instead of waiting it out.
    """

    def __init__(
        self, db: Database, ttl: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.db = db
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._orgs: dict[int, OrgInfo] = {}

    async def resolve(self, key: str) -> Principal | None:
        digest = hash_key(key)
        now = self.clock()
        hit = self._cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
        principal = await self._lookup(digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self.ttl, principal)
        return principal

    async def _lookup(self, digest: str) -> Principal | None:
        async with self.db.session(None) as session, session.begin():
            # The key names its organization; its row is then read under that binding.
            org_id = await org_of_api_key(session, digest)
            if org_id is None:
                return None
            await rebind(session, org_id)
            row = (
                await session.execute(
                    select(  # type: ignore[call-overload]
                        ApiKey.id,
                        ApiKey.org_id,
                        ApiKey.scopes,
                        ApiKey.revoked_at,
                        ApiKey.name,
                        ApiKey.last_used_at,
                    ).where(ApiKey.key_hash == digest)
                )
            ).one_or_none()
            if row is None or row.revoked_at is not None:
                return None
            # Stamps last_used_at; the first use in an hour also goes to the audit log.
            await stamp_key_use(
                session,
                key_id=row.id,
                org_id=row.org_id,
                name=row.name,
                last_used_at=row.last_used_at,
                now=dt.datetime.now(dt.UTC),
            )
        org = self._orgs.get(row.org_id)
        if org is None:
            org = self._orgs[row.org_id] = await get_org(self.db, org_id=row.org_id)
        return Principal(org=org, scopes=frozenset(row.scopes), key_id=row.id)
