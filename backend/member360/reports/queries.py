"""Root field of the All Interactions report."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import strawberry

from member360.graphql.errors import forbidden
from member360.graphql.info import Info
from member360.graphql.relay import PageInfo, page_cap
from member360.reports.interactions import (
    MAX_PAGE,
    Page,
    RowKey,
    Summary,
    fetch_page,
    fetch_summary,
    page_size,
)
from member360.reports.types import (
    InteractionReportConnection,
    InteractionReportEdge,
    InteractionReportFilter,
    InteractionReportRow,
)


def _selected(selections: Iterable[Any]) -> set[str]:
    """Names of the fields selected on the connection, through fragments."""
    names: set[str] = set()
    for sel in selections:
        if getattr(sel, "name", None) is not None and not hasattr(sel, "type_condition"):
            names.add(sel.name)
        else:  # a fragment spread or inline fragment
            names |= _selected(sel.selections)
    return names


@strawberry.type
class ReportQuery:
    @strawberry.field(
        description="The All Interactions report: one row per member, action, order and custom "
        "id per day (organization time zone), newest day first. Needs reports:read.",
        metadata=page_cap(MAX_PAGE),
    )
    async def interaction_report(
        self,
        info: Info,
        filter: InteractionReportFilter,
        first: int | None = 50,
        after: str | None = None,
    ) -> InteractionReportConnection:
        ctx = info.context
        org, pii = ctx.principal.org, ctx.pii
        f = filter.to_filter().checked()
        size = page_size(first)
        start = RowKey.from_cursor(after) if after is not None else None
        if f.email is not None and not pii:
            raise forbidden(
                "filter.email: searching by email needs the pii:read scope", field="filter.email"
            )
        wanted = _selected(info.selected_fields[0].selections)
        count_rows = "totalCount" in wanted
        jobs: list[Any] = []
        if wanted & {"edges", "pageInfo"}:
            jobs.append(fetch_page(ctx.db, org, f, pii=pii, first=size, after=start))
        if count_rows or "totals" in wanted:
            jobs.append(fetch_summary(ctx.db, org, f, pii=pii, count_rows=count_rows))
        # Page and totals run side by side, each in its own session.
        done = await asyncio.gather(*jobs)
        page = next((d for d in done if isinstance(d, Page)), Page([], False))
        summary = next((d for d in done if isinstance(d, Summary)), None)
        edges = [
            InteractionReportEdge(cursor=row.key.cursor(), node=InteractionReportRow.from_row(row))
            for row in page.rows
        ]
        return InteractionReportConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=start is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            rows_total=summary.rows if summary else None,
            points_total=summary.points if summary else None,
        )
