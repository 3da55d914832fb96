"""The production app for tests of the import side: `ingestEvents` and queries, every scope."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.orgs.service import OrgInfo

IngestCall = Callable[[list[Any]], Awaitable[dict[str, Any]]]
QueryCall = Callable[..., Awaitable[dict[str, Any]]]

INGEST = """mutation Ingest($events: [JSON!]!) {
  ingestEvents(events: $events) { applied duplicates errors { index field message eventId } }
}"""


async def _client(db: Database, org: OrgInfo) -> AsyncIterator[QueryCall]:
    key = await create_api_key(db, org, list(SCOPES))
    # Production refuses an example secret; any strong one will do here.
    settings = Settings(_env_file=None, env="production", secret_key="s" * 48)  # type: ignore[call-arg]
    app = create_app(settings, db=db, background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def call(query: str, **variables: Any) -> dict[str, Any]:
            # Serialized here: httpx refuses NaN, and would send a lone surrogate unescaped.
            body = json.dumps({"query": query, "variables": variables}).encode()
            response = await client.post(
                "/graphql",
                content=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            assert response.status_code == 200, response.text
            return dict(response.json())

        yield call


@pytest_asyncio.fixture(loop_scope="session")
async def graphql(db: Database, org: OrgInfo) -> AsyncIterator[QueryCall]:
    """Runs a GraphQL document with variables against the production app (every scope)."""
    async for call in _client(db, org):
        yield call


@pytest_asyncio.fixture(loop_scope="session")
async def ingest_events(graphql: QueryCall) -> IngestCall:
    """Posts events to ingestEvents; answers the whole GraphQL response body."""

    async def call(events: list[Any]) -> dict[str, Any]:
        return await graphql(INGEST, events=events)

    return call
