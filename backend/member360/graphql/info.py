"""The type of every resolver's `info`: Strawberry's Info with this API's request context.

A resolver declares `info: Info`, and a reader or mypy follows `info.context` to Context (the
caller, the organization, the request's loaders). Context is imported for type checking only:
the request context imports domain loaders, and domains import this module for resolvers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import strawberry

if TYPE_CHECKING:
    from member360.graphql.context import Context

    Info: TypeAlias = strawberry.Info[Context, None]
else:
    # Strawberry evaluates a resolver's annotations in the resolver's module, where Context is
    # not defined; to find the `info` parameter it only needs to see an Info.
    Info = strawberry.Info
