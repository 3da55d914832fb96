"""Domain refusals (member360.errors) become coded GraphQL errors without domain code knowing
GraphQL: the schema's execution context answers them while the field resolves."""

from __future__ import annotations

import pytest
import strawberry

from member360.errors import InputError, PageTooLarge
from member360.graphql.limits import graphql_extensions
from member360.graphql.schema import AnsweringInputErrors


@strawberry.type
class Refusing:
    @strawberry.field
    def unnamed(self) -> int:
        raise InputError("search: must not be empty")

    @strawberry.field
    def named(self) -> int | None:
        raise InputError("filter.to: before from", field="filter.to")

    @strawberry.field
    def page(self) -> list[int] | None:
        raise PageTooLarge("first: at most 500 rows per page (got 501)", field="first")

    @strawberry.field
    def bug(self) -> int | None:
        raise ValueError("not a refusal")


def schema(production: bool) -> strawberry.Schema:
    return strawberry.Schema(
        query=Refusing,
        execution_context_class=AnsweringInputErrors,
        extensions=graphql_extensions(production=production),
    )


@pytest.mark.parametrize("production", [False, True])
async def test_input_errors_are_answered_with_their_code_and_field(production: bool) -> None:
    result = await schema(production).execute("{ named page }")
    errors = {tuple(e.path): e for e in result.errors or []}
    assert errors[("named",)].message == "filter.to: before from"
    assert errors[("named",)].extensions == {"code": "BAD_USER_INPUT", "field": "filter.to"}
    assert errors[("page",)].extensions == {"code": "PAGE_TOO_LARGE", "field": "first"}
    assert result.data == {"named": None, "page": None}


async def test_an_input_error_without_a_field_has_only_the_code() -> None:
    # A non-null field: the error still reaches the answer coded (data is then null).
    result = await schema(False).execute("{ unnamed }")
    assert [(e.message, e.extensions) for e in result.errors or []] == [
        ("search: must not be empty", {"code": "BAD_USER_INPUT"})
    ]


async def test_other_errors_stay_unexpected() -> None:
    # Only InputError is a refusal: any other ValueError is a bug, masked in production.
    result = await schema(True).execute("{ bug }")
    (error,) = result.errors or []
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert error.message == "Unexpected error."
