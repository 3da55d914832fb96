"""Users: argon2 passwords, sign-in and sign-out, cookie sessions with CSRF, roles, throttling."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from member360.app import create_app
from member360.audit.models import AuditEvent
from member360.auth.models import LoginThrottle, User, UserSession
from member360.auth.routes import CSRF_COOKIE, SESSION_COOKIE
from member360.auth.users import (
    Authenticator,
    LoginPolicy,
    TooManyAttempts,
    UserError,
    create_user,
)
from member360.config import Settings
from member360.db import ALL_ORGS, Database
from member360.orgs.service import OrgInfo, create_org
from tests.conftest import cli_env
from tests.security.conftest import STRONG_SECRET

PASSWORD = "correct horse battery staple"
ME = "{ me { kind email role scopes organization { slug } } }"
REPORT = (
    '{ interactionReport(filter: {from: "2026-01-01", to: "2026-01-31"}, first: 1)'
    " { edges { node { userId } } } }"
)


def _email() -> str:
    return f"{uuid.uuid4().hex[:10]}@staff.example.com"


@pytest_asyncio.fixture(loop_scope="session")
async def admin(db: Database, org: OrgInfo) -> str:
    email = _email()
    await create_user(db, org, email=email, role="ADMIN", password=PASSWORD)
    return email


@pytest_asyncio.fixture(loop_scope="session")
async def agent(db: Database, org: OrgInfo) -> str:
    email = _email()
    await create_user(db, org, email=email, role="AGENT", password=PASSWORD)
    return email


def _client(db: Database, **settings: Any) -> httpx.AsyncClient:
    app = create_app(Settings(_env_file=None, **settings), db=db, background=False)  # type: ignore[call-arg]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def _login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/auth/login", json={"email": email, "password": password})


async def _gql(client: httpx.AsyncClient, query: str, *, csrf: bool = True) -> httpx.Response:
    headers = {"X-CSRF-Token": client.cookies.get(CSRF_COOKIE, "")} if csrf else {}
    return await client.post("/graphql", json={"query": query}, headers=headers)


async def test_password_is_stored_as_argon2_hash(db: Database, org: OrgInfo, admin: str) -> None:
    async with db.session(org.id) as session:
        stored = await session.scalar(select(User.password_hash).where(User.email == admin))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("email", "role", "password", "field"),
    [
        ("not-an-email", "ADMIN", PASSWORD, "email"),
        ("x@example.com", "OWNER", PASSWORD, "role"),
        ("x@example.com", "AGENT", "short", "password"),
    ],
)
async def test_create_user_refuses_bad_input_naming_the_field(
    db: Database, org: OrgInfo, email: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(UserError, match=f"^{field}:"):
        await create_user(db, org, email=email, role=role, password=password)


async def test_email_belongs_to_one_user(db: Database, org: OrgInfo, admin: str) -> None:
    other = await create_org(db, f"org-{uuid.uuid4().hex[:8]}", name="B", time_zone="UTC")
    with pytest.raises(UserError, match=r"^email: a user with this email already exists"):
        await create_user(db, other, email=admin.upper(), role="AGENT", password=PASSWORD)


async def test_login_sets_httponly_session_and_readable_csrf_cookies(
    db: Database, org: OrgInfo, admin: str
) -> None:
    async with _client(db) as client:
        response = await _login(client, admin.upper())  # emails match in any case
        assert response.status_code == 200, response.text
        assert response.json()["user"] == {
            "email": admin,
            "role": "ADMIN",
            "org": {"slug": org.slug, "name": org.name, "timeZone": org.time_zone},
        }
        cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
        assert "httponly" in cookies[SESSION_COOKIE] and "samesite=lax" in cookies[SESSION_COOKIE]
        assert "httponly" not in cookies[CSRF_COOKIE]
        # Development over http: not Secure, or the browser would drop them on 127.0.0.1.
        assert "secure" not in cookies[SESSION_COOKIE]

        me = await _gql(client, ME)
        assert me.status_code == 200, me.text
        viewer = me.json()["data"]["me"]
        assert viewer["kind"] == "USER" and viewer["email"] == admin and viewer["role"] == "ADMIN"
        assert "pii:read" in viewer["scopes"] and "reports:read" in viewer["scopes"]
        who = await client.get("/auth/me")
        assert who.status_code == 200 and who.json()["user"]["email"] == admin


@pytest.mark.parametrize(
    ("settings", "secure"),
    [
        # The scheme people use decides, not M360_ENV: over plain HTTP a browser would drop
        # Secure cookies (except on localhost) and every request after sign-in would get 401.
        ({"env": "production", "public_url": "http://10.1.2.3:8000"}, False),
        ({"env": "production", "public_url": "https://member360.example.com"}, True),
        ({"public_url": "HTTPS://member360.example.com"}, True),
        ({"env": "production", "public_url": "http://10.1.2.3", "cookie_secure": "true"}, True),
        ({"public_url": "https://member360.example.com", "cookie_secure": "false"}, False),
        ({"public_url": "https://member360.example.com", "cookie_secure": ""}, True),
    ],
)
async def test_cookies_are_secure_when_the_public_url_is_https(
    db: Database, admin: str, settings: dict[str, str], secure: bool
) -> None:
    async with _client(db, secret_key=STRONG_SECRET, **settings) as client:
        response = await _login(client, admin)
        assert response.status_code == 200
        cookies = response.headers.get_list("set-cookie")
        assert len(cookies) == 2
        for cookie in cookies:
            assert ("; secure" in cookie.lower()) is secure, cookie
        client.headers["X-CSRF-Token"] = client.cookies.get(CSRF_COOKIE, "")
        ended = await client.post("/auth/logout")
        assert ended.status_code == 204
        for cookie in ended.headers.get_list("set-cookie"):
            assert ("; secure" in cookie.lower()) is secure, cookie


def test_cookie_and_public_url_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="M360_COOKIE_SECURE must be auto, true or false"):
        Settings(_env_file=None, cookie_secure="sometimes")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="M360_PUBLIC_URL must be an absolute http"):
        Settings(_env_file=None, public_url="member360.example.com")  # type: ignore[call-arg]
    assert Settings(_env_file=None).cookie_secure == "auto"  # type: ignore[call-arg]


async def test_session_token_is_stored_hashed(db: Database, org: OrgInfo, admin: str) -> None:
    async with _client(db) as client:
        await _login(client, admin)
        token = client.cookies[SESSION_COOKIE]
    async with db.session(org.id) as session:
        hashes = (await session.execute(select(UserSession.token_hash))).scalars().all()
    assert token not in hashes and all(len(h) == 64 for h in hashes)


async def test_wrong_password_and_unknown_email_get_the_same_401(db: Database, admin: str) -> None:
    async with _client(db) as client:
        wrong = await _login(client, admin, "not the password at all")
        unknown = await _login(client, _email())
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ({"email": "a@b.c"}, "application/json", 400, "password: required"),
        ({"email": 5, "password": "x"}, "application/json", 400, "email: required"),
        (None, "application/x-www-form-urlencoded", 415, "application/json"),
    ],
)
async def test_login_refuses_malformed_requests(
    db: Database, body: Any, content_type: str, status: int, message: str
) -> None:
    async with _client(db) as client:
        if body is None:
            response = await client.post(
                "/auth/login",
                content="email=a%40b.c&password=x",
                headers={"Content-Type": content_type},
            )
        else:
            response = await client.post("/auth/login", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]


async def test_cookie_requests_need_the_csrf_token(db: Database, admin: str) -> None:
    async with _client(db) as client:
        await _login(client, admin)
        missing = await _gql(client, ME, csrf=False)
        assert missing.status_code == 403
        assert missing.json()["errors"][0]["extensions"]["code"] == "CSRF_FAILED"
        wrong = await client.post(
            "/graphql", json={"query": ME}, headers={"X-CSRF-Token": "forged"}
        )
        assert wrong.status_code == 403
        # Another user's token does not fit this session either.
        assert (await _gql(client, ME)).status_code == 200


async def test_logout_ends_the_session_everywhere(db: Database, org: OrgInfo, admin: str) -> None:
    async with _client(db) as client:
        await _login(client, admin)
        token, csrf = client.cookies[SESSION_COOKIE], client.cookies[CSRF_COOKIE]
        refused = await client.post("/auth/logout")  # no CSRF token: a foreign page's attempt
        assert refused.status_code == 403
        out = await client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert SESSION_COOKIE not in client.cookies
    # The stolen cookie of the ended session is worthless, in a fresh client too.
    async with _client(db) as other:
        other.cookies.set(SESSION_COOKIE, token)
        other.cookies.set(CSRF_COOKIE, csrf)
        after = await _gql(other, ME)
        assert after.status_code == 401
        assert (await other.get("/auth/me")).status_code == 401
    async with db.session(org.id) as session:
        actions = (
            (
                await session.execute(
                    select(AuditEvent.action).where(
                        AuditEvent.org_id == org.id, AuditEvent.actor == f"user:{admin}"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert "login.succeeded" in actions and "logout" in actions


async def test_expired_session_is_refused(db: Database, admin: str) -> None:
    auth = Authenticator(db, "secret", LoginPolicy(session_hours=1))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    new = await auth.login(admin, PASSWORD, "203.0.113.9", now=past)
    assert new is not None
    assert await auth.resolve(new.token) is None
    assert await auth.resolve(new.token, now=past + dt.timedelta(minutes=30)) is not None


async def test_agent_reads_members_but_not_the_report(db: Database, agent: str) -> None:
    async with _client(db) as client:
        assert (await _login(client, agent)).status_code == 200
        me = (await _gql(client, ME)).json()["data"]["me"]
        assert me["role"] == "AGENT" and "reports:read" not in me["scopes"]
        members = await _gql(
            client, '{ customers(search: "a", first: 1) { edges { node { id } } } }'
        )
        assert members.status_code == 200 and "errors" not in members.json()
        report = (await _gql(client, REPORT)).json()
        assert report["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        export = (
            await _gql(
                client,
                'mutation { requestExport(input: {interactionReport: {from: "2026-01-01",'
                ' to: "2026-01-31"}}) { id } }',
            )
        ).json()
        assert export["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_failed_logins_lock_the_account_then_it_recovers(db: Database, admin: str) -> None:
    auth = Authenticator(db, "secret", LoginPolicy(max_failures_per_account=3, window_seconds=600))
    now = dt.datetime.now(dt.UTC)
    assert await auth.login(admin, "wrong password 1", "198.51.100.1", now=now) is None
    assert await auth.login(admin, "wrong password 2", "198.51.100.2", now=now) is None

    with pytest.raises(TooManyAttempts) as third:
        await auth.login(admin, "wrong password 3", "198.51.100.3", now=now)
    assert 590 <= third.value.retry_after <= 600
    # Locked: even the right password is refused, from any address.
    with pytest.raises(TooManyAttempts):
        await auth.login(admin, PASSWORD, "198.51.100.4", now=now + dt.timedelta(seconds=60))
    # After the window the right password works again and clears the count.
    later = now + dt.timedelta(seconds=601)
    assert await auth.login(admin, PASSWORD, "198.51.100.4", now=later) is not None
    assert await auth.login(admin, "wrong again", "198.51.100.4", now=later) is None


async def test_one_address_guessing_many_accounts_is_locked(db: Database, org: OrgInfo) -> None:
    auth = Authenticator(db, "secret", LoginPolicy(max_failures_per_address=4))
    address = f"192.0.2.{uuid.uuid4().int % 250}"
    now = dt.datetime.now(dt.UTC)
    for _ in range(3):
        assert await auth.login(_email(), "guess guess guess", address, now=now) is None

    with pytest.raises(TooManyAttempts):
        await auth.login(_email(), "guess guess guess", address, now=now)
    # The counters name neither the emails nor the address.
    async with db.session(ALL_ORGS) as session:
        subjects = (await session.execute(select(LoginThrottle.subject))).scalars().all()
    assert all(address not in s and "@" not in s for s in subjects)


async def test_http_login_answers_429_with_retry_after(db: Database, org: OrgInfo) -> None:
    email = _email()
    await create_user(db, org, email=email, role="AGENT", password=PASSWORD)
    async with _client(db, login_max_failures_per_account=2) as client:
        assert (await _login(client, email, "wrong wrong wrong")).status_code == 401
        locked = await _login(client, email, "wrong wrong wrong")
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
        assert int(locked.headers["Retry-After"]) > 0
        assert (await _login(client, email)).status_code == 429


async def test_api_keys_still_work_beside_sessions(db: Database, org: OrgInfo) -> None:
    from member360.auth.keys import create_api_key

    key = await create_api_key(db, org, ["customers:read"])
    async with _client(db) as client:
        response = await client.post(
            "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 200
    assert response.json()["data"]["me"]["kind"] == "API_KEY"
    assert response.json()["data"]["me"]["role"] is None


def test_cli_user_create_reads_the_password_from_the_environment(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "M360_DATABASE_URL": url}
    cli = [sys.executable, "-m", "member360.cli"]
    subprocess.run(
        [*cli, "org", "create", "acme", "--name", "Acme", "--time-zone", "UTC"],
        env=env,
        check=True,
        capture_output=True,
    )
    made = subprocess.run(
        [*cli, "user", "create", "--org", "acme", "--email", "Ops@Acme.test", "--role", "AGENT"],
        env={**env, "M360_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert "created AGENT ops@acme.test in acme" in made.stdout
    weak = subprocess.run(
        [*cli, "user", "create", "--org", "acme", "--email", "b@acme.test", "--role", "ADMIN"],
        env={**env, "M360_PASSWORD": "short"},
        capture_output=True,
        text=True,
    )
    assert weak.returncode != 0 and "password: at least 12 characters" in weak.stderr


async def test_admin_reads_sign_ins_in_the_audit_log_agent_cannot(
    db: Database, admin: str, agent: str
) -> None:
    audit = "{ auditEvents(first: 50) { edges { node { actor action } } } }"
    async with _client(db) as client:
        await _login(client, admin)
        seen = (await _gql(client, audit)).json()
        assert "errors" not in seen, seen
        events = [e["node"] for e in seen["data"]["auditEvents"]["edges"]]
        assert {"actor": f"user:{admin}", "action": "login.succeeded"} in events
    async with _client(db) as client:
        await _login(client, agent)
        refused = (await _gql(client, audit)).json()
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_agents_see_their_own_export_jobs_and_never_a_report_job(
    db: Database, org: OrgInfo, admin: str, agent: str
) -> None:
    from tests.factories import ingest_ok, make_customer

    await ingest_ok(db, org, make_customer("c1"))
    request = "mutation($input: RequestExportInput!) { requestExport(input: $input) { id } }"
    listing = "{ exportJobs(first: 50) { edges { node { id } } } }"

    async def run(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-CSRF-Token": client.cookies.get(CSRF_COOKIE, "")},
        )
        return dict(response.json())

    tab = {"customerTab": {"customerId": "c1", "tab": "POINTS_ACTIVITY"}}
    report = {"interactionReport": {"from": "2026-01-01", "to": "2026-01-31"}}
    async with _client(db) as as_admin, _client(db) as as_agent:
        await _login(as_admin, admin)
        await _login(as_agent, agent)
        admin_tab = (await run(as_admin, request, input=tab))["data"]["requestExport"]["id"]
        admin_report = (await run(as_admin, request, input=report))["data"]["requestExport"]["id"]
        agent_tab = (await run(as_agent, request, input=tab))["data"]["requestExport"]["id"]

        def ids(result: dict[str, Any]) -> set[str]:
            return {e["node"]["id"] for e in result["data"]["exportJobs"]["edges"]}

        assert {admin_tab, admin_report, agent_tab} <= ids(await run(as_admin, listing))
        assert ids(await run(as_agent, listing)) == {agent_tab}
        job = "query($id: ID!) { exportJob(id: $id) { id } }"
        assert (await run(as_agent, job, id=admin_report))["data"]["exportJob"] is None
        assert (await run(as_agent, job, id=agent_tab))["data"]["exportJob"] == {"id": agent_tab}


# ------------------------------------------------------------------ client address behind a proxy

PROXY = "127.0.0.2"  # plays nginx: a loopback peer the settings trust
STRANGER = "127.0.0.3"  # any other peer, which may send the header too


@pytest.fixture
def quick_unknown_emails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown emails verify against a cheap argon2 hash: 50 sign-ins take a second, not 30.

    The hash's own parameters set the cost of verifying it; the code path is the real one.
    """
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr("member360.auth.users._DUMMY_HASH", cheap.hash("not a password"))


@pytest.fixture
def throttles() -> str:
    """A secret of the test's own: sign-in counters are keyed by it, so earlier tests' failures
    from the same addresses (127.0.0.1 is every test client's) do not count here."""
    return f"throttles-of-{uuid.uuid4().hex}"


def _client_from(db: Database, peer: str, secret: str, **settings: Any) -> httpx.AsyncClient:
    values = {"trusted_proxies": PROXY, "secret_key": secret, **settings}
    app = create_app(Settings(_env_file=None, **values), db=db, background=False)  # type: ignore[call-arg]
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _login_via(
    client: httpx.AsyncClient, email: str, password: str, forwarded_for: str
) -> httpx.Response:
    return await client.post(
        "/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )


def _forwarded(n: int) -> str:
    # A client-written part first: only the right-most untrusted hop counts.
    return f"192.0.2.1, 198.51.{uuid.uuid4().int % 250}.{n}"


async def _address_of_sign_in(db: Database, org: OrgInfo, email: str) -> str | None:
    async with db.session(org.id) as session:
        detail = await session.scalar(
            select(AuditEvent.detail)
            .where(AuditEvent.actor == f"user:{email}", AuditEvent.action == "login.succeeded")
            .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
            .limit(1)
        )
    return None if detail is None else detail.get("address")


async def test_behind_a_trusted_proxy_failures_count_per_forwarded_client(
    db: Database, org: OrgInfo, agent: str, quick_unknown_emails: None, throttles: str
) -> None:
    # The reproduction: 50 failed sign-ins through the proxy, 50 different clients.
    clients = [_forwarded(n) for n in range(50)]
    async with _client_from(db, PROXY, throttles) as proxy:
        for forwarded_for in clients:
            failed = await _login_via(proxy, _email(), "wrong wrong wrong", forwarded_for)
            assert failed.status_code == 401, failed.text
        # Nobody is locked out: not a 51st client, not one of the 50 (one failure each).
        assert (await _login_via(proxy, agent, PASSWORD, _forwarded(50))).status_code == 200
        again = await _login_via(proxy, agent, PASSWORD, clients[7])
        assert again.status_code == 200
    assert await _address_of_sign_in(db, org, agent) == clients[7].rsplit(", ", 1)[1]


async def test_behind_a_trusted_proxy_one_forwarded_client_is_locked_out_alone(
    db: Database, agent: str, quick_unknown_emails: None, throttles: str
) -> None:
    guesser, other = _forwarded(1), _forwarded(2)
    async with _client_from(db, PROXY, throttles, login_max_failures_per_address=3) as proxy:
        for _ in range(2):
            assert (await _login_via(proxy, _email(), "guess guess", guesser)).status_code == 401
        locked = await _login_via(proxy, _email(), "guess guess", guesser)
        assert locked.status_code == 429 and locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
        assert (await _login_via(proxy, agent, PASSWORD, guesser)).status_code == 429
        assert (await _login_via(proxy, agent, PASSWORD, other)).status_code == 200


async def test_a_chain_of_trusted_proxies_is_skipped(
    db: Database, org: OrgInfo, agent: str, throttles: str
) -> None:
    # A load balancer (10.0.0.0/8) in front of nginx: the client is the address before both.
    async with _client_from(db, PROXY, throttles, trusted_proxies=f"{PROXY},10.0.0.0/8") as proxy:
        response = await _login_via(proxy, agent, PASSWORD, "192.0.2.1, 203.0.113.9, 10.1.2.3")
        assert response.status_code == 200
    assert await _address_of_sign_in(db, org, agent) == "203.0.113.9"


async def test_from_an_untrusted_peer_the_header_is_ignored(
    db: Database, org: OrgInfo, agent: str, quick_unknown_emails: None, throttles: str
) -> None:
    # Same settings, another peer: its 50 different X-Forwarded-For values are one address.
    async with _client_from(db, STRANGER, throttles) as stranger:
        for n in range(49):
            failed = await _login_via(stranger, _email(), "wrong wrong wrong", _forwarded(n))
            assert failed.status_code == 401, failed.text
        locked = await _login_via(stranger, _email(), "wrong wrong wrong", _forwarded(49))
        assert locked.status_code == 429 and locked.json()["error"]["code"] == "TOO_MANY_ATTEMPTS"
        # The right password from "another client" is the same peer: refused.
        assert (await _login_via(stranger, agent, PASSWORD, _forwarded(50))).status_code == 429
    # Through the proxy the same user still signs in: only the stranger is locked out.
    async with _client_from(db, PROXY, throttles) as proxy:
        assert (await _login_via(proxy, agent, PASSWORD, _forwarded(51))).status_code == 200


async def test_without_trusted_proxies_the_peer_is_the_client(
    db: Database, org: OrgInfo, agent: str, caplog: pytest.LogCaptureFixture, throttles: str
) -> None:
    # The default trusts nobody, loopback included.
    assert Settings(_env_file=None).trusted_proxy_networks == []  # type: ignore[call-arg]
    with caplog.at_level(logging.INFO, logger="member360.request"):
        async with _client_from(db, "127.0.0.1", throttles, trusted_proxies="") as direct:
            response = await _login_via(direct, agent, PASSWORD, "203.0.113.10")
    assert response.status_code == 200
    assert await _address_of_sign_in(db, org, agent) == "127.0.0.1"
    lines = [r for r in caplog.records if getattr(r, "path", None) == "/auth/login"]
    assert [r.client for r in lines] == ["127.0.0.1"]  # type: ignore[attr-defined]


async def test_log_lines_name_the_forwarded_client(
    db: Database, agent: str, caplog: pytest.LogCaptureFixture, throttles: str
) -> None:
    with caplog.at_level(logging.INFO, logger="member360.request"):
        async with _client_from(db, PROXY, throttles) as proxy:
            await _login_via(proxy, agent, PASSWORD, "192.0.2.1, 203.0.113.11")
        async with _client_from(db, STRANGER, throttles) as stranger:
            await _login_via(stranger, agent, PASSWORD, "203.0.113.12")
    lines = [r for r in caplog.records if getattr(r, "path", None) == "/auth/login"]
    assert [r.client for r in lines] == ["203.0.113.11", STRANGER]  # type: ignore[attr-defined]


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    parsed = Settings(_env_file=None, trusted_proxies=" 10.0.0.7/8, 127.0.0.2 ,::1,")  # type: ignore[call-arg]
    assert parsed.trusted_proxy_networks == ["10.0.0.0/8", "127.0.0.2", "::1"]
    for bad in ("nginx", "*", "10.0.0.0/33"):
        with pytest.raises(ValueError, match=r"M360_TRUSTED_PROXIES: .* is not an IP address"):
            Settings(_env_file=None, trusted_proxies=bad)  # type: ignore[call-arg]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _login_from(
    source: str, url: str, email: str, password: str, forwarded_for: str
) -> httpx.Response:
    # A real TCP connection from `source` (any 127.x address is this machine's loopback).
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, base_url=url, timeout=30) as client:
        return client.post(
            "/auth/login",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": forwarded_for},
        )


async def test_member360_serve_trusts_only_the_configured_proxy(
    db: Database, agent: str, tmp_path: Path, throttles: str
) -> None:
    # uvicorn on its own trusts X-Forwarded-For from 127.0.0.1; `serve` must not.
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **cli_env(db),
        "M360_TRUSTED_PROXIES": PROXY,
        "M360_SECRET_KEY": throttles,
        "M360_LOGIN_MAX_FAILURES_PER_ADDRESS": "3",
        "M360_EXPORT_DIR": str(tmp_path / "exports"),
        "FORWARDED_ALLOW_IPS": "*",  # uvicorn's own knob: ignored
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "member360.cli",
            "serve",
            "--port",
            str(port),
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=out,
        )
    try:
        await _wait_until_live(url, server, log)

        def scenario() -> None:
            # 127.0.0.1 is no proxy here: three clients it names are one address, locked.
            for n in range(3):
                answer = _login_from("127.0.0.1", url, _email(), "guess guess", _forwarded(n))
                assert answer.status_code == (429 if n == 2 else 401), answer.text
            assert _login_from("127.0.0.1", url, agent, PASSWORD, "203.0.113.20").status_code == 429
            # The trusted proxy's clients are counted one by one.
            for n in range(3):
                answer = _login_from(PROXY, url, _email(), "guess guess", _forwarded(n))
                assert answer.status_code == 401, answer.text
            assert _login_from(PROXY, url, agent, PASSWORD, "203.0.113.21").status_code == 200

        await asyncio.to_thread(scenario)
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert "client addresses: X-Forwarded-For from 127.0.0.2" in log.read_text()


async def _wait_until_live(url: str, server: asyncio.subprocess.Process, log: Path) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(450):
            if server.returncode is not None:
                pytest.fail(f"member360 serve exited:\n{log.read_text(errors='replace')}")
            try:
                if (await client.get(f"{url}/livez")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"member360 serve did not come up:\n{log.read_text(errors='replace')}")
