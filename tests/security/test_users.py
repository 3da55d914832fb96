"""Users: argon2 passwords, sign-in and sign-out, cookie sessions with CSRF, roles, throttling."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from member360.app import create_app
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
from member360.exports.models import AuditEvent
from member360.orgs.service import OrgInfo, create_org

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


async def test_production_cookies_are_secure(db: Database, admin: str) -> None:
    async with _client(db, env="production") as client:
        response = await _login(client, admin)
        assert response.status_code == 200
        for cookie in response.headers.get_list("set-cookie"):
            assert "secure" in cookie.lower()


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
