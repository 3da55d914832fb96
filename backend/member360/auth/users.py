"""Users of the web app: argon2 passwords, sign-in with throttling, cookie sessions.

A session is a random token in an HttpOnly cookie; the database keeps only its SHA-256 (the
token carries 256 random bits, so a fast hash is enough, as for API keys). Each session also
has a CSRF token the SPA reads from a second cookie and echoes in `X-CSRF-Token`: a cross-site
page can make the browser send the cookies but cannot read them, so it cannot echo the token.

Failed sign-ins are counted in `login_throttles` per account and per client address (keyed
hashes, so neither is stored), in the database so that every API process sees the same counts.
The address is the connection's peer, or the forwarded client behind a trusted proxy
(M360_TRUSTED_PROXIES); sign-in and sign-out audit entries record it for the admins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from member360.audit.log import user_actor
from member360.audit.models import AuditEvent
from member360.auth.keys import ROLE_SCOPES, ROLES, Principal
from member360.auth.models import LoginThrottle, User, UserSession
from member360.crossorg import org_of_session, org_of_user
from member360.db import Database, rebind
from member360.orgs.service import OrgInfo, get_org

_hasher = PasswordHasher()
# Verified when the email is unknown, so an unknown account costs the same time as a wrong
# password and response times do not tell which emails exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a cap keeps hashing a bounded cost
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


class UserError(ValueError):
    """A user could not be created; the message names the field and the reason."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class LoginPolicy:
    max_failures_per_account: int = 5
    max_failures_per_address: int = 50
    window_seconds: int = 900
    session_hours: float = 12.0


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: dt.datetime
    principal: Principal


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> str:
    value = normalize_email(email)
    if not _EMAIL.match(value) or len(value) > 320:
        raise UserError("email: not an email address")
    return value


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password: at least {MIN_PASSWORD_LENGTH} characters are required")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"password: at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def create_user(db: Database, org: OrgInfo, *, email: str, role: str, password: str) -> User:
    email = check_email(email)
    if role not in ROLES:
        raise UserError(f"role: must be one of {', '.join(ROLES)}")
    check_password(password)
    async with db.session(org.id) as session, session.begin():
        # Sign-in names a user by email alone: an email is taken in every organization.
        if await org_of_user(session, email) is not None:
            raise UserError("email: a user with this email already exists")
        user = User(
            org_id=org.id,
            email=email,
            role=role,
            password_hash=hash_password(password),
            created_at=dt.datetime.now(dt.UTC),
        )
        session.add(user)
    return user


async def set_password(db: Database, org: OrgInfo, email: str, password: str) -> None:
    """Sets a user's password and ends their sessions (the demo reissues its logins)."""
    check_password(password)
    email = normalize_email(email)
    now = dt.datetime.now(dt.UTC)
    async with db.session(org.id) as session, session.begin():
        user = await session.scalar(select(User).where(User.org_id == org.id, User.email == email))
        if user is None:
            raise UserError(f"email: no user {email} in organization {org.slug}")
        user.password_hash = hash_password(password)
        await session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=now)
        )


class Authenticator:
    """Signs users in and out and resolves session cookies to principals."""

    def __init__(self, db: Database, secret_key: str, policy: LoginPolicy | None = None) -> None:
        self.db = db
        self.policy = policy or LoginPolicy()
        self._subject_key = hashlib.sha256(b"login-throttle:" + secret_key.encode()).digest()
        self._orgs: dict[int, OrgInfo] = {}

    def _subject(self, kind: str, value: str) -> str:
        digest = hmac.new(self._subject_key, value.encode(), hashlib.sha256).hexdigest()
        return f"{kind}:{digest[:64]}"

    async def _org(self, org_id: int) -> OrgInfo:
        org = self._orgs.get(org_id)
        if org is None:
            org = self._orgs[org_id] = await get_org(self.db, org_id=org_id)
        return org

    async def login(
        self, email: str, password: str, address: str, now: dt.datetime | None = None
    ) -> NewSession | None:
        """A new session, or None for a wrong email or password.

        Raises TooManyAttempts while the account or the address is locked out; a lockout
        refuses even the right password, so guessing cannot continue past the limit.
        """
        now = now or dt.datetime.now(dt.UTC)
        email = normalize_email(email)
        subjects = {
            self._subject("account", email): self.policy.max_failures_per_account,
            self._subject("address", address): self.policy.max_failures_per_address,
        }
        async with self.db.session(None) as session, session.begin():
            await self._check_lockout(session, subjects, now)
            user = await _user_by_email(session, email)
        # argon2 takes ~0.1 s of CPU on purpose; in a thread (cffi releases the GIL) a flood of
        # sign-in attempts no longer stalls every other request of this process.
        verified = await asyncio.to_thread(
            _verify, user.password_hash if user else _DUMMY_HASH, password
        )
        ok = verified and user is not None
        if not ok:
            async with self.db.session(user.org_id if user else None) as session, session.begin():
                retry_after = await self._count_failure(session, subjects, now)
                if user is not None:
                    session.add(_audit_row(user.org_id, user.email, "login.failed", now, address))
            # Raised after the commit: the failure that reached the limit must be counted.
            if retry_after is not None:
                raise TooManyAttempts(retry_after)
            return None
        assert user is not None and user.id is not None
        async with self.db.session(user.org_id) as session, session.begin():
            # Success forgets this account's failures (the address keeps its count: one
            # address trying many accounts is the attack the address limit is for).
            account = self._subject("account", email)
            await session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.subject == account)
                .values(failures=0, locked_until=None)
            )
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = now + dt.timedelta(hours=self.policy.session_hours)
            session.add(
                UserSession(
                    org_id=user.org_id,
                    user_id=user.id,
                    token_hash=_sha256(token),
                    csrf_hash=_sha256(csrf),
                    created_at=now,
                    expires_at=expires,
                )
            )
            await session.execute(update(User).where(User.id == user.id).values(last_login_at=now))
            if _needs_rehash(user.password_hash):
                await session.execute(
                    update(User)
                    .where(User.id == user.id)
                    .values(password_hash=hash_password(password))
                )
            session.add(_audit_row(user.org_id, user.email, "login.succeeded", now, address))
        principal = await self._principal(user.id, user.org_id, user.email, user.role)
        return NewSession(token, csrf, expires, principal)

    async def _check_lockout(
        self, session: AsyncSession, subjects: dict[str, int], now: dt.datetime
    ) -> None:
        rows = (
            await session.execute(
                select(LoginThrottle.locked_until).where(LoginThrottle.subject.in_(list(subjects)))
            )
        ).all()
        waits = [r.locked_until for r in rows if r.locked_until and r.locked_until > now]
        if waits:
            raise TooManyAttempts(_seconds_until(max(waits), now))

    async def _count_failure(
        self, session: AsyncSession, subjects: dict[str, int], now: dt.datetime
    ) -> int | None:
        """Counts one failure on each subject; the wait in seconds if one is now locked."""
        window = dt.timedelta(seconds=self.policy.window_seconds)
        locked: list[dt.datetime] = []
        for subject, limit in subjects.items():
            # Insert-if-missing first, so concurrent failures on one subject (several API
            # processes) queue on its row lock instead of racing to insert it.
            insert = _insert_for(self.db.dialect)(LoginThrottle).values(
                subject=subject, failures=0, window_start=now
            )
            await session.execute(insert.on_conflict_do_nothing(index_elements=["subject"]))
            row = await session.get(LoginThrottle, subject, with_for_update=True)
            assert row is not None
            if row.window_start + window <= now:
                row.failures, row.window_start, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = now + window
                locked.append(row.locked_until)
        return _seconds_until(max(locked), now) if locked else None

    async def resolve(self, token: str, now: dt.datetime | None = None) -> UserPrincipal | None:
        """The signed-in user behind a session cookie, or None if it ended or expired."""
        now = now or dt.datetime.now(dt.UTC)
        token_hash = _sha256(token)
        async with self.db.session(None) as session, session.begin():
            if not await _bind_session_org(session, token_hash):
                return None
            row = (
                await session.execute(
                    select(
                        UserSession.id,
                        UserSession.csrf_hash,
                        User.id.label("user_id"),
                        User.org_id,
                        User.email,
                        User.role,
                    )
                    .join(User, User.id == UserSession.user_id)
                    .where(
                        UserSession.token_hash == token_hash,
                        UserSession.ended_at.is_(None),
                        UserSession.expires_at > now,
                        User.disabled_at.is_(None),
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        principal = await self._principal(row.user_id, row.org_id, row.email, row.role)
        return UserPrincipal(principal, row.id, row.csrf_hash)

    async def logout(
        self, token: str, address: str | None = None, now: dt.datetime | None = None
    ) -> bool:
        now = now or dt.datetime.now(dt.UTC)
        token_hash = _sha256(token)
        async with self.db.session(None) as session, session.begin():
            if not await _bind_session_org(session, token_hash):
                return False
            row = (
                await session.execute(
                    select(UserSession.id, User.id.label("user_id"), User.org_id, User.email)
                    .join(User, User.id == UserSession.user_id)
                    .where(UserSession.token_hash == token_hash, UserSession.ended_at.is_(None))
                )
            ).one_or_none()
            if row is None:
                return False
            await session.execute(
                update(UserSession).where(UserSession.id == row.id).values(ended_at=now)
            )
            session.add(_audit_row(row.org_id, row.email, "logout", now, address))
        return True

    async def _principal(self, user_id: int, org_id: int, email: str, role: str) -> Principal:
        return Principal(
            org=await self._org(org_id),
            scopes=ROLE_SCOPES[role],
            user_id=user_id,
            user_email=email,
            role=role,
        )


@dataclass(frozen=True)
class UserPrincipal:
    principal: Principal
    session_id: int
    csrf_hash: str

    def csrf_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(_sha256(token or ""), self.csrf_hash)


async def _user_by_email(session: AsyncSession, email: str) -> User | None:
    """The enabled user signing in with this email; the session is left bound to their org."""
    org_id = await org_of_user(session, email)
    if org_id is None:
        return None
    await rebind(session, org_id)
    return await session.scalar(select(User).where(User.email == email, User.disabled_at.is_(None)))


async def _bind_session_org(session: AsyncSession, token_hash: str) -> bool:
    """Binds the session to the organization of the cookie's session; False if there is none."""
    org_id = await org_of_session(session, token_hash)
    if org_id is None:
        return False
    await rebind(session, org_id)
    return True


def _insert_for(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _verify(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def _seconds_until(when: dt.datetime, now: dt.datetime) -> int:
    return max(1, int((when - now).total_seconds() + 0.999))


def _audit_row(
    org_id: int, email: str, action: str, now: dt.datetime, address: str | None
) -> AuditEvent:
    return AuditEvent(
        org_id=org_id,
        at=now,
        actor=user_actor(email),
        action=action,
        detail={"address": address} if address else None,
    )
