"""Scalars beyond GraphQL's own, declared for the schema's `scalar_map`."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# GraphQL's Int is 32-bit: a sum over a whole program (every member's points in a report
# filter) passes 2,147,483,647 on a big one. Sent as a JSON number, like Int, so readers that
# took the Int keep working; exact in JavaScript up to 2^53, far beyond any sum of Int points
# over the rows one filter can hold.
BigInt = NewType("BigInt", int)


def _parse_big_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise ValueError("BigInt takes a whole number within 64 bits")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        description="A 64-bit signed integer, sent as a JSON number (exact up to 2^53).",
        serialize=int,
        parse_value=_parse_big_int,
    ),
}
