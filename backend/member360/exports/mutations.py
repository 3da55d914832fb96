from __future__ import annotations

import strawberry

from graphql import GraphQLError
from member360.exports.types import (
    CustomerTabExport,
    ExportDelivery,
    ExportJob,
    check_customer_tab,
    request_export_field,
)


@strawberry.input
class RequestExportInput:
    customer_tab: CustomerTabExport | None = strawberry.field(
        default=None, description="Exactly one of interactionReport / customerTab."
    )
    delivery: ExportDelivery = ExportDelivery.DOWNLOAD
    email: str | None = strawberry.field(default=None, description="Required for EMAIL delivery.")


@strawberry.type
class ExportMutation:
    @strawberry.mutation(description="Queues an Excel export; returns at once with the QUEUED job.")
    async def request_export(self, info: strawberry.Info, input: RequestExportInput) -> ExportJob:
        info.context.require("exports:write")
        given = [name for name in ("customer_tab",) if getattr(input, name) is not None]
        if len(given) != 1:
            raise GraphQLError(
                "input: give exactly one of interactionReport, customerTab",
                extensions={"code": "BAD_USER_INPUT"},
            )
        assert input.customer_tab is not None
        params = await check_customer_tab(info, input.customer_tab)
        return await request_export_field(
            info, kind="CUSTOMER_TAB", params=params, delivery=input.delivery, email=input.email
        )
