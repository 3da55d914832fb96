"""Who may read what: the scope each field needs, and the personal-data fields.

Two declarations, both checked against the built schema by `protect` (so a new root field
without a declared scope, or a stale entry, fails the schema build rather than a request):

- `FIELD_SCOPES`: every root Query and Mutation field, and every nested field that reaches
  another scope's data, names the scope it needs (or `ANY_CALLER`). A caller without it gets
  null and a GraphQL error with `extensions.code = "FORBIDDEN"`.
- `personal()`: the field factory that marks personal data (email, mobile, phone). Without
  pii:read such a field resolves to null with a FORBIDDEN error at its path; with it, the
  value. `protect` installs a plain graphql-core resolver on each: no Strawberry `Info`, no
  argument handling, so a granted personal field costs what a plain attribute does (the
  report page resolves 50 rows of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

from member360.graphql.errors import forbidden

PII_SCOPE = "pii:read"
ANY_CALLER = None  # any valid credential of the organization
# The metadata key `personal()` sets; its value is the predicate (or True for always).
PERSONAL = "member360.personal"
_BACKREF = "strawberry-definition"  # where Strawberry keeps the StrawberryField of a field

FIELD_SCOPES: dict[str, str | None] = {
    "Query.me": ANY_CALLER,  # who am I: the SPA's sign-in check
    "Query.organization": ANY_CALLER,  # name, time zone, catalogs: any key of the org
    "Query.customer": "customers:read",
    "Query.customers": "customers:read",
    "Query.interactionReport": "reports:read",
    "Query.exportJob": "exports:write",
    "Query.exportJobs": "exports:write",
    # Admin users only, whatever the scopes: the resolver checks the role (audit/types.py).
    "Query.auditEvents": ANY_CALLER,
    "Mutation.ingestEvents": "events:write",
    "Mutation.resendCoupon": "coupons:write",
    # A report export also needs reports:read and a customer tab customers:read: the
    # resolver checks those, as they depend on the input.
    "Mutation.requestExport": "exports:write",
    # Distinct sources of the org's points activities: the report's drop-down, report data.
    "Organization.sources": "reports:read",
}


def personal(description: str | None = None, *, when: Callable[[Any], bool] | None = None) -> Any:
    """A personal-data field: its value needs pii:read.

    `when(obj)` narrows it to some objects (an identifier change is personal only for EMAIL
    and MOBILE identifiers). The object must hold the value (None when withheld) in the
    attribute of the field's Python name.
    """
    return strawberry.field(description=description, metadata={PERSONAL: when or True})


def _personal_resolver(attr: str, label: str, when: Callable[[Any], bool] | None) -> Any:
    message = f"{label} is personal data: reading it needs the {PII_SCOPE} scope"

    if when is None:

        def resolve(root: Any, info: GraphQLResolveInfo) -> Any:
            if info.context.pii:
                return getattr(root, attr)
            raise forbidden(message, scope=PII_SCOPE)

    else:

        def resolve(root: Any, info: GraphQLResolveInfo) -> Any:
            if info.context.pii or not when(root):
                return getattr(root, attr)
            raise forbidden(message, scope=PII_SCOPE)

    return resolve


def _scoped_resolver(inner: Any, label: str, scope: str) -> Any:
    message = f"{label} needs the {scope} scope"

    def resolve(root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if not info.context.principal.can(scope):
            raise forbidden(message, scope=scope)
        return inner(root, info, **args)

    return resolve


def _fields(schema: strawberry.Schema) -> Iterator[tuple[str, str, GraphQLField, Any]]:
    """(type name, field label, graphql-core field, personal mark or None) of every field."""
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(_BACKREF)
            mark = (getattr(definition, "metadata", None) or {}).get(PERSONAL)
            yield type_.name, f"{type_.name}.{name}", field, mark


def personal_fields(schema: strawberry.Schema) -> frozenset[str]:
    """Every field `personal()` marks, as "Type.field"."""
    return frozenset(label for _, label, _, mark in _fields(schema) if mark is not None)


def protect(schema: strawberry.Schema) -> None:
    """Installs the scope checks and the personal-data resolvers on a built schema.

    Raises when a root field has no declared scope or a declared field does not exist.
    """
    gql: GraphQLSchema = schema._schema
    roots = {t.name for t in (gql.query_type, gql.mutation_type) if t is not None}
    seen: set[str] = set()
    for type_name, label, field, mark in _fields(schema):
        if mark is not None:
            python_name = field.extensions[_BACKREF].python_name
            field.resolve = _personal_resolver(python_name, label, None if mark is True else mark)
        if label in FIELD_SCOPES:
            seen.add(label)
            scope = FIELD_SCOPES[label]
            if scope is not None:
                assert field.resolve is not None, f"{label}: a scoped field needs a resolver"
                field.resolve = _scoped_resolver(field.resolve, label, scope)
        elif type_name in roots:
            raise RuntimeError(f"{label}: declare its scope in FIELD_SCOPES")
    missing = set(FIELD_SCOPES) - seen
    if missing:
        raise RuntimeError(f"FIELD_SCOPES names fields the schema lacks: {sorted(missing)}")
