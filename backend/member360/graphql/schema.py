"""The schema: composes each domain's Query and Mutation types."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from member360.customers.queries import CustomerQuery
from member360.exports.mutations import ExportMutation
from member360.exports.types import ExportQuery
from member360.history.mutations import CouponMutation
from member360.ingest.mutations import IngestMutation
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
        )

    @strawberry.field
    def organization(self, info: strawberry.Info) -> Organization:
        return organization_of(info)


@strawberry.type
class Query(OrgQuery, CustomerQuery, ReportQuery, ExportQuery):
    pass


@strawberry.type
class Mutation(IngestMutation, ExportMutation, CouponMutation):
    pass


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Parsing and validating the same documents again is most of a small query's cost.
        extensions=[lambda: ParserCache(maxsize=512), lambda: ValidationCache(maxsize=512)],
    )


schema = build_schema()
