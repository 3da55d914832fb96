"""The schema: composes each domain's Query and Mutation types."""

from __future__ import annotations

import functools
import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext

from member360.audit.types import AuditQuery
from member360.customers.queries import CustomerQuery
from member360.errors import InputError
from member360.exports.mutations import ExportMutation
from member360.exports.types import ExportQuery
from member360.graphql.access import protect
from member360.graphql.errors import FORBIDDEN, code_of, input_refusal
from member360.graphql.info import Info
from member360.graphql.inputs import check_schema
from member360.graphql.limits import graphql_extensions
from member360.graphql.scalars import SCALARS
from member360.history.coupons.mutations import CouponMutation
from member360.ingest.mutations import IngestMutation
from member360.logs import OperationLogExtension, log_graphql_errors
from member360.orgs.types import Organization, Viewer, organization_of
from member360.reads.execute import CompiledReads
from member360.reports.queries import ReportQuery

log = logging.getLogger("member360.graphql")


@strawberry.type
class OrgQuery:
    @strawberry.field
    def me(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            organization=organization_of(info),
            scopes=sorted(p.scopes),
            kind="USER" if p.user_email else "API_KEY",
            email=p.user_email,
            role=p.role,
        )

    @strawberry.field
    def organization(self, info: Info) -> Organization:
        return organization_of(info)


@strawberry.type
class Query(OrgQuery, CustomerQuery, ReportQuery, ExportQuery, AuditQuery):
    pass


@strawberry.type
class Mutation(IngestMutation, ExportMutation, CouponMutation):
    pass


class AnsweringInputErrors(StrawberryGraphQLCoreExecutionContext):
    """Answers an InputError that a field's resolver raises as the refusal it stands for.

    graphql-core hands every error raised while a field resolves to `handle_field_error`
    before it becomes the field's error, so the code is set before Schema.process_errors logs
    the error and before production's masking reads it; fields that succeed pay nothing.
    """

    def handle_field_error(self, raw_error: Exception, *args: Any, **kwargs: Any) -> None:
        if isinstance(raw_error, InputError):
            raw_error = input_refusal(raw_error)
        super().handle_field_error(raw_error, *args, **kwargs)


class Member360Schema(strawberry.Schema):
    def get_extensions(self, sync: bool = False) -> list[Any]:
        extensions = super().get_extensions(sync)
        # The compiled reads await their statement; synchronous execution (introspect())
        # runs on the Python executor alone.
        return [e for e in extensions if not isinstance(e, CompiledReads)] if sync else extensions

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Logs a request's scope refusals as one line, every other error on its own line.

        A caller without pii:read who selects a report's email gets one FORBIDDEN error per
        row: a line for each would cost more than the page. Strawberry's default would log
        each error with the document around it (member data in literals); log_graphql_errors
        logs the code, the path and the message without quoted values.
        """
        refused = [e for e in errors if code_of(e) == FORBIDDEN]
        if refused and log.isEnabledFor(logging.INFO):
            paths = sorted(
                {".".join(str(p) for p in e.path or () if not isinstance(p, int)) for e in refused}
            )
            log.info("refused %d field(s) for a missing scope: %s", len(refused), ", ".join(paths))
        log_graphql_errors([e for e in errors if code_of(e) != FORBIDDEN])


def build_schema(*, production: bool = False) -> strawberry.Schema:
    """The schema; in production without introspection, suggestions or unexpected detail.

    The limits extension also caches parsing and validation: doing them again for the same
    document is most of a small query's cost.
    """
    built = Member360Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=SCALARS),
        execution_context_class=AnsweringInputErrors,
        # CompiledReads after the limits: a read they refuse never reaches the planner.
        extensions=[
            *graphql_extensions(production=production),
            OperationLogExtension,
            CompiledReads,
        ],
    )
    protect(built)
    check_schema(built._schema)
    return built


schema = build_schema()


@functools.cache
def schema_for(*, production: bool) -> strawberry.Schema:
    return build_schema(production=True) if production else schema
