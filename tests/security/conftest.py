"""Clients of the app in development and in production mode, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.orgs.service import OrgInfo

MODES = ["development", "production"]
# Production refuses a short or example secret.
STRONG_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass
class Api:
    """One app (one mode) and a key with every scope."""

    client: httpx.AsyncClient
    key: str
    production: bool

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | None = None,
        **body: Any,
    ) -> httpx.Response:
        return await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}, **body},
            headers={"Authorization": f"Bearer {key or self.key}"},
        )

    async def gql(self, query: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        response = await self.post(query, variables, key=key)
        assert response.status_code == 200, response.text
        return dict(response.json())


def settings_for(mode: str, **values: Any) -> Settings:
    return Settings(_env_file=None, env=mode, secret_key=STRONG_SECRET, **values)  # type: ignore[call-arg]


@pytest_asyncio.fixture(loop_scope="session")
async def api_key(db: Database, org: OrgInfo) -> str:
    return await create_api_key(db, org, list(SCOPES))


async def _api(db: Database, key: str, mode: str) -> AsyncIterator[Api]:
    app = create_app(settings_for(mode), db=db, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(client, key, production=mode == "production")


@pytest_asyncio.fixture(loop_scope="session")
async def dev(db: Database, api_key: str) -> AsyncIterator[Api]:
    async for api in _api(db, api_key, "development"):
        yield api


@pytest_asyncio.fixture(loop_scope="session")
async def prod(db: Database, api_key: str) -> AsyncIterator[Api]:
    async for api in _api(db, api_key, "production"):
        yield api


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(loop_scope="session")
async def api(db: Database, api_key: str, mode: str) -> AsyncIterator[Api]:
    """The app in each mode: for what must hold in development and production alike."""
    async for one in _api(db, api_key, mode):
        yield one


def codes(result: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in result.get("errors", [])]
