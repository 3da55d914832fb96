"""API keys: random secrets shown once, stored as SHA-256 hashes, resolved to a principal."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from member360.audit.keyuse import stamp_key_use
from member360.auth.models import ApiKey
from member360.db import ALL_ORGS, Database
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


class KeyResolver:
    """Resolves bearer keys with a short cache, so a request costs no lookup query.

    The cache keeps a key for `ttl` seconds: a revoked key stops working within that time.
    """

    def __init__(self, db: Database, ttl: float = 10.0) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._orgs: dict[int, OrgInfo] = {}

    async def resolve(self, key: str) -> Principal | None:
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit and hit[0] > now:
            return hit[1]
        principal = await self._lookup(digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self.ttl, principal)
        return principal

    async def _lookup(self, digest: str) -> Principal | None:
        async with self.db.session(ALL_ORGS) as session, session.begin():
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
