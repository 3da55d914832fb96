"""The checks of graphql-cop (github.com/dolevf/graphql-cop), re-implemented: each sends the
tool's payload and applies its "vulnerable" test, which must come out false.

Checks that hold in both modes run on each; those production alone must pass (GET queries,
suggestions, IDE, introspection) run on production, with development shown to differ where
that is by design.
"""

from __future__ import annotations

import pytest

from member360.db import Database
from tests.security.conftest import Api, codes


async def graph_query(api: Api, query: str) -> dict:
    response = await api.post(query)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_alias_overloading(db: Database, api: Api) -> None:
    aliases = "".join(f"alias{i}:__typename \n" for i in range(101))
    result = await graph_query(api, "query { " + aliases + " }")
    assert not (result.get("data") or {}).get("alias100")
    assert codes(result) == ["TOO_MANY_ALIASES"]


async def test_batch_queries(db: Database, api: Api) -> None:
    batch = [{"query": "query { __typename }"}] * 10
    response = await api.client.post("/graphql", json=batch, headers=api.auth)
    assert response.status_code == 400
    body = response.json()
    assert not isinstance(body, list) and not isinstance(body.get("data"), list)
    assert codes(body) == ["BATCHING_DISABLED"]


async def test_batch_refused_without_credentials_and_with_whitespace(
    db: Database, api: Api
) -> None:
    response = await api.client.post(
        "/graphql",
        content=b' \r\n\t[{"query":"{ __typename }"}]',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 400 and codes(response.json()) == ["BATCHING_DISABLED"]


async def test_field_duplication(db: Database, api: Api) -> None:
    result = await graph_query(api, "query { " + "__typename \n" * 500 + "} ")
    assert not (result.get("data") or {}).get("__typename")
    assert codes(result) == ["QUERY_TOO_COMPLEX"]


async def test_directive_overloading(db: Database, api: Api) -> None:
    result = await graph_query(api, "query { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }")
    assert len(result["errors"]) != 10
    assert codes(result) == ["QUERY_TOO_COMPLEX"]


async def test_circular_introspection(db: Database, api: Api) -> None:
    query = (
        "query { __schema { types { fields { type { fields { type { fields { type { fields "
        "{ type { name } } } } } } } } } } }"
    )
    result = await graph_query(api, query)
    assert result.get("data") is None
    assert codes(result) and set(codes(result)) <= {"QUERY_TOO_DEEP", "INTROSPECTION_DISABLED"}


async def test_circular_introspection_within_the_depth_limit(db: Database, dev: Api) -> None:
    # Three nested introspection lists stay under 10 fields deep: graphql-core's
    # introspection depth rule refuses them, with the same code.
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert codes(await graph_query(dev, query)) == ["QUERY_TOO_DEEP"]


async def test_circular_fragment(db: Database, api: Api) -> None:
    query = """
    query { __schema { ...A } }
    fragment A on __Schema { __typename ...B }
    fragment B on __Schema { ...A }
    """
    result = await graph_query(api, query)
    assert "errors" in result


async def test_get_method_query_support(db: Database, prod: Api, dev: Api) -> None:
    response = await prod.client.get(
        "/graphql", params={"query": "{__typename}"}, headers=prod.auth
    )
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]
    # Development keeps GET queries (graphql-over-HTTP), behind the bearer key.
    response = await dev.client.get("/graphql", params={"query": "{__typename}"}, headers=dev.auth)
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "query", ["mutation {__typename}", "query q { __typename } mutation m { __typename }"]
)
async def test_get_based_mutation(db: Database, api: Api, query: str) -> None:
    params = {"query": query, "operationName": "m"} if "query q" in query else {"query": query}
    response = await api.client.get("/graphql", params=params, headers=api.auth)
    assert response.status_code == 405
    assert "data" not in response.json() and codes(response.json()) == ["METHOD_NOT_ALLOWED"]


async def test_get_based_mutation_that_would_write(db: Database, dev: Api) -> None:
    query = "mutation { ingestEvents(events: []) { applied } }"
    response = await dev.client.get("/graphql", params={"query": query}, headers=dev.auth)
    assert response.status_code == 405


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
)
async def test_post_based_csrf(db: Database, api: Api, content_type: str) -> None:
    # graphql-cop posts the query as a URL parameter; a cross-site form posts it as a body.
    response = await api.client.post(
        "/graphql", params={"query": "query {__typename}"}, headers=api.auth
    )
    assert response.status_code == 415
    response = await api.client.post(
        "/graphql",
        content=b"query=query+%7B__typename%7D",
        headers={**api.auth, "Content-Type": content_type},
    )
    assert response.status_code == 415
    assert "data" not in response.json()
    assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


async def test_field_suggestions(db: Database, prod: Api, dev: Api) -> None:
    query = "query { __schema { directive } }"
    result = await graph_query(prod, query)
    assert "Did you mean" not in str(result["errors"])
    assert "Did you mean" in str((await graph_query(dev, query))["errors"])


@pytest.mark.parametrize("path", ["/graphiql", "/playground", "/console", "/graphql"])
async def test_graphql_ide(db: Database, prod: Api, path: str) -> None:
    for headers in ({}, {"Accept": "text/html"}):
        response = await prod.client.get(path, headers=headers)
        assert not any(
            word in response.text
            for word in ("graphiql.min.css", "GraphQL Playground", "GraphiQL", "graphql-playground")
        ), (path, response.text[:200])


async def test_introspection(db: Database, prod: Api, dev: Api) -> None:
    query = "query { __schema { types { name fields { name } } } }"
    result = await graph_query(prod, query)
    assert not (result.get("data") or {}).get("__schema")
    assert "INTROSPECTION_DISABLED" in codes(result)
    single_type = await graph_query(prod, '{ __type(name: "Customer") { fields { name } } }')
    assert single_type["data"] is None and "INTROSPECTION_DISABLED" in codes(single_type)
    # __typename is no introspection; development keeps it all for GraphiQL.
    assert (await graph_query(prod, "{ __typename }")) == {"data": {"__typename": "Query"}}
    assert (await graph_query(dev, query))["data"]["__schema"]["types"]


async def test_trace_mode_and_unhandled_errors(db: Database, api: Api) -> None:
    for query in ("query { __typename }", "qwerty cop { abc }", "{ me { nope } }"):
        result = await graph_query(api, query)
        text = str(result).lower()
        assert "stacktrace" not in text and "'exception'" not in text and "tracing" not in text
        for error in result.get("errors", []):
            assert set(error.get("extensions", {})) <= {"code", "field", "cost", "maxCost"}
