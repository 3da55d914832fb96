from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.db import Database
from member360.orgs.service import OrgInfo

GraphQLCall = Callable[..., Awaitable[dict[str, Any]]]


@pytest_asyncio.fixture(loop_scope="session")
async def http(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db=db, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def api_key(db: Database, org: OrgInfo) -> str:
    return await create_api_key(db, org, list(SCOPES))


@pytest_asyncio.fixture(loop_scope="session")
async def gql(http: httpx.AsyncClient, api_key: str) -> GraphQLCall:
    async def call(query: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key or api_key}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    return call
