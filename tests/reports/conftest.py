"""The report tests call GraphQL like the other API tests: the same `http`, `api_key`, `gql`."""

from tests.graphql.conftest import api_key, gql, http

__all__ = ["api_key", "gql", "http"]
