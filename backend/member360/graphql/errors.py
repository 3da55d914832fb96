"""Every code a GraphQL error carries (`extensions.code`, which clients rely on), and the
helpers that build coded errors.

A refusal the caller can act on always has a code; an error without one is unexpected, and
production answers it as INTERNAL_SERVER_ERROR (limits.MaskUnexpectedErrors).

Domain code refuses input without this module: it raises member360.errors.InputError, and
the schema's execution context (member360.graphql.schema) turns one raised while a field
resolves into `input_refusal(error)`.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from member360.errors import InputError, PageTooLarge

BAD_USER_INPUT = "BAD_USER_INPUT"
FORBIDDEN = "FORBIDDEN"
PAGE_TOO_LARGE = "PAGE_TOO_LARGE"
DELIVERY_FAILED = "DELIVERY_FAILED"
RATE_LIMITED = "RATE_LIMITED"
UNAVAILABLE = "UNAVAILABLE"
# The limits' refusals of a whole request (member360.graphql.limits, member360.security).
QUERY_TOO_LONG = "QUERY_TOO_LONG"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
BATCHING_DISABLED = "BATCHING_DISABLED"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def refusal(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def bad_input(message: str, field: str | None = None) -> GraphQLError:
    """BAD_USER_INPUT; `field` (as the caller wrote it) goes into the extensions when given."""
    if field is None:
        return refusal(message, BAD_USER_INPUT)
    return refusal(message, BAD_USER_INPUT, field=field)


def forbidden(message: str, **extensions: Any) -> GraphQLError:
    return refusal(message, FORBIDDEN, **extensions)


def input_refusal(error: InputError) -> GraphQLError:
    """How the API answers a domain's InputError."""
    code = PAGE_TOO_LARGE if isinstance(error, PageTooLarge) else BAD_USER_INPUT
    if error.field is None:
        return refusal(str(error), code)
    return refusal(str(error), code, field=error.field)


def coded(error: GraphQLError, code: str, **extensions: Any) -> GraphQLError:
    """The same error with `extensions.code` (and any other extensions) set."""
    return GraphQLError(
        error.message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        {**(error.extensions or {}), "code": code, **extensions},
    )


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None
