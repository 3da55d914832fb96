"""A database outage answers 503 UNAVAILABLE with Retry-After, never a 500 (issue 7 fault runs)."""

from __future__ import annotations

import httpx
from sqlalchemy import exc as sa_exc
from starlette.applications import Starlette
from starlette.routing import Route

from member360.app import create_app
from member360.db import Database
from member360.unavailable import DatabaseUnavailableMiddleware, is_database_unavailable


async def test_graphql_request_while_the_database_is_down_gets_503() -> None:
    # Port 1 refuses connections: the key lookup, the first statement, cannot connect.
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(db=broken, background=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer k"}
        )
    await broken.dispose()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    # The security headers middleware still wraps the answer.
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_other_errors_stay_500() -> None:
    async def boom(_: object) -> None:
        raise FileNotFoundError("not a database problem")

    app = Starlette(routes=[Route("/", boom)])
    wrapped = DatabaseUnavailableMiddleware(app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wrapped, raise_app_exceptions=False),
        base_url="http://t",
    ) as client:
        response = await client.get("/")
    assert response.status_code == 500


def test_wrapped_connection_errors_are_recognised() -> None:
    refused = ConnectionRefusedError(111, "Connect call failed")
    wrapped = sa_exc.DBAPIError("SELECT 1", None, refused, connection_invalidated=True)
    assert is_database_unavailable(wrapped)
    try:
        try:
            raise refused
        except ConnectionRefusedError as inner:
            raise RuntimeError("while resolving the key") from inner
    except RuntimeError as outer:
        assert is_database_unavailable(outer)
    assert not is_database_unavailable(ValueError("bad input"))
    assert not is_database_unavailable(FileNotFoundError(2, "gone"))


def test_production_masking_names_a_database_outage() -> None:
    from graphql import GraphQLError

    from member360.graphql.limits import MaskUnexpectedErrors

    mask = MaskUnexpectedErrors()
    lost = GraphQLError("connection lost", original_error=ConnectionResetError(104, "reset"))
    masked = mask.anonymise_error(lost)
    assert masked.extensions == {"code": "UNAVAILABLE"}
    assert "temporarily unavailable" in masked.message
    bug = mask.anonymise_error(GraphQLError("boom", original_error=KeyError("x")))
    assert bug.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert bug.message == "Unexpected error."
