from tests.ingest.api import graphql, ingest_events  # noqa: F401  (fixtures)
