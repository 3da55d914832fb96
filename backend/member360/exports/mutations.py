from __future__ import annotations

import strawberry

from member360.exports.types import (
    CustomerTabExport,
    ExportDelivery,
    ExportJob,
    check_customer_tab,
    request_export_field,
)
from member360.graphql.errors import bad_input, forbidden
from member360.graphql.info import Info
from member360.reports.interactions import ReportInputError
from member360.reports.types import InteractionReportFilter


@strawberry.input
class RequestExportInput:
    interaction_report: InteractionReportFilter | None = strawberry.field(
        default=None, description="Exactly one of interactionReport / customerTab."
    )
    customer_tab: CustomerTabExport | None = strawberry.field(
        default=None, description="Exactly one of interactionReport / customerTab."
    )
    delivery: ExportDelivery = ExportDelivery.DOWNLOAD
    email: str | None = strawberry.field(default=None, description="Required for EMAIL delivery.")


@strawberry.type
class ExportMutation:
    @strawberry.mutation(description="Queues an Excel export; returns at once with the QUEUED job.")
    async def request_export(self, info: Info, input: RequestExportInput) -> ExportJob:
        given = [
            name
            for name in ("interaction_report", "customer_tab")
            if getattr(input, name) is not None
        ]
        if len(given) != 1:
            raise bad_input("input: give exactly one of interactionReport, customerTab")
        if input.interaction_report is not None:
            info.context.require("reports:read", "requestExport of the interaction report")
            try:
                report_filter = input.interaction_report.to_filter().checked()
            except ReportInputError as exc:
                raise bad_input(
                    f"input.interactionReport.{str(exc).removeprefix('filter.')}"
                ) from None
            if report_filter.email is not None and not info.context.pii:
                # The same rule as the report itself: email is personal data.
                raise forbidden(
                    "input.interactionReport.email: filtering by email needs the pii:read scope"
                )
            return await request_export_field(
                info,
                kind="REPORT",
                params={"filter": report_filter.as_params()},
                delivery=input.delivery,
                email=input.email,
            )
        assert input.customer_tab is not None
        params = await check_customer_tab(info, input.customer_tab)
        return await request_export_field(
            info, kind="CUSTOMER_TAB", params=params, delivery=input.delivery, email=input.email
        )
