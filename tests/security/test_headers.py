"""Security headers on every response: pages, API answers, refusals, errors, downloads."""

from __future__ import annotations

import re

import httpx
import pytest

from member360.app import create_app
from member360.db import Database
from member360.security import (
    CONTENT_SECURITY_POLICY,
    GRAPHIQL_CONTENT_SECURITY_POLICY,
    STRICT_TRANSPORT_SECURITY,
)
from tests.security.conftest import Api, settings_for

ALWAYS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_hardened(response: httpx.Response, production: bool) -> None:
    for name, value in ALWAYS.items():
        seen = response.headers.get(name)
        if name == "content-security-policy":
            # The web app's page adds a per-response nonce for its runtime styles, nothing else.
            seen = re.sub(r" 'nonce-[A-Za-z0-9+/=_-]+'", "", seen or "")
        assert seen == value, (response.request.url, name)
    assert "camera=()" in response.headers["permissions-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    hsts = response.headers.get("strict-transport-security")
    assert hsts == (STRICT_TRANSPORT_SECURITY if production else None)


def test_the_policy_suits_a_same_origin_spa() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no CDN
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


async def test_every_response_carries_the_headers(db: Database, api: Api) -> None:
    client = api.client
    responses = [
        await client.get("/"),
        await client.get("/livez"),
        await client.get("/readyz"),
        await client.get("/no-such-page"),  # the web app's deep-link fallback
        await client.get("/auth/no-such-route"),  # 404: API paths never fall back to the app
        await client.get("/exports/not-a-token"),
        await api.post("{ me { kind } }"),
        await api.post("{ me { nope } }"),
        await client.post("/graphql", json={"query": "{ me { kind } }"}),  # 401
        await client.post("/graphql", json=[{"query": "{ __typename }"}]),  # 400
        await client.post("/graphql", data={"query": "{ __typename }"}),  # 415
        await client.put("/graphql", json={"query": "{ __typename }"}),  # 405
    ]
    assert {r.status_code for r in responses} >= {200, 400, 401, 404, 405, 415}
    for response in responses:
        assert_hardened(response, api.production)


async def test_graphql_answers_are_not_stored(db: Database, api: Api) -> None:
    assert (await api.post("{ me { kind } }")).headers["cache-control"] == "no-store"


async def test_the_development_graphiql_page_gets_its_own_policy(db: Database, dev: Api) -> None:
    page = await dev.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.headers["content-security-policy"] == GRAPHIQL_CONTENT_SECURITY_POLICY
    assert page.headers["x-frame-options"] == "DENY"
    # every script the page loads is allowed by the policy
    assert "https://unpkg.com/" in page.text
    assert "'unsafe-eval'" not in GRAPHIQL_CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("mode", ["development", "production"])
async def test_a_server_error_carries_the_headers_and_no_detail(
    db: Database, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: object, key: str) -> None:
        raise RuntimeError("connection to 10.0.0.5 refused")

    monkeypatch.setattr("member360.app.KeyResolver.resolve", broken)
    app = create_app(settings_for(mode), db=db, background=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/graphql", json={"query": "{ me { kind } }"}, headers={"Authorization": "Bearer x"}
        )
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert_hardened(response, mode == "production")
