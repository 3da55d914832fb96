"""The schema: composes each domain's Query and Mutation types."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig

from member360.audit.types import AuditQuery
from member360.customers.queries import CustomerQuery
from member360.exports.mutations import ExportMutation
from member360.exports.types import ExportQuery
from member360.graphql.limits import graphql_extensions
from member360.history.mutations import CouponMutation
from member360.ingest.mutations import IngestMutation
from member360.logs import OperationLogExtension, log_graphql_errors
from member360.orgs.types import Organization, Viewer, organization_of
from member360.reports.queries import ReportQuery


@strawberry.type
class OrgQuery:
    @strawberry.field
    def me(self, info: strawberry.Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            organization=organization_of(info),
            scopes=sorted(p.scopes),
            kind="USER" if p.user_email else "API_KEY",
            email=p.user_email,
            role=p.role,
        )

    @strawberry.field
    def organization(self, info: strawberry.Info) -> Organization:
        return organization_of(info)


@strawberry.type
class Query(OrgQuery, CustomerQuery, ReportQuery, ExportQuery, AuditQuery):
    pass


@strawberry.type
class Mutation(IngestMutation, ExportMutation, CouponMutation):
    pass


class Member360Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Strawberry's default logs each error with the document around it (member data in
        # literals); ours logs the code, the path and the message without quoted values.
        log_graphql_errors(errors)


def build_schema(*, production: bool = False) -> strawberry.Schema:
    """The schema; in production without introspection, suggestions or unexpected detail.

    The limits extension also caches parsing and validation: doing them again for the same
    document is most of a small query's cost.
    """
    return Member360Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=production),
        extensions=[*graphql_extensions(production=production), OperationLogExtension],
    )


schema = build_schema()


@functools.cache
def schema_for(*, production: bool) -> strawberry.Schema:
    return build_schema(production=True) if production else schema
