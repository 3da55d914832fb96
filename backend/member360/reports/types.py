"""GraphQL types of the All Interactions report; report rows become types only in `from_row`."""

from __future__ import annotations

import datetime as dt

import strawberry

from member360.graphql.access import personal
from member360.graphql.relay import PageInfo
from member360.graphql.scalars import BigInt
from member360.reports.interactions import ReportFilter, ReportRow


@strawberry.input(description="The report's filter; every given field must match.")
class InteractionReportFilter:
    from_: dt.date = strawberry.field(
        name="from", description="First day, inclusive, in the organization's time zone."
    )
    to: dt.date = strawberry.field(
        description="Last day, inclusive, in the organization's time zone."
    )
    name: str | None = strawberry.field(
        default=None, description="Member name contains this (any case)."
    )
    email: str | None = strawberry.field(
        default=None, description="Member email contains this (any case); needs pii:read."
    )
    order_id: str | None = None
    action_id: int | None = None
    store_id: str | None = None
    coupon: str | None = strawberry.field(
        default=None, description="The reward name of an action-series benefit."
    )
    source: str | None = None
    content_text: str | None = strawberry.field(
        default=None, description="Any text column of the row contains this (any case)."
    )

    def to_filter(self) -> ReportFilter:
        return ReportFilter(
            from_=self.from_,
            to=self.to,
            name=self.name,
            email=self.email,
            order_id=self.order_id,
            action_id=self.action_id,
            store_id=self.store_id,
            coupon=self.coupon,
            source=self.source,
            content_text=self.content_text,
        )


@strawberry.type(
    description="One loyalty action of one member on one day: the points of its activities "
    "with the same order and custom id, summed."
)
class InteractionReportRow:
    date: dt.date
    name: str
    user_id: str
    email: str | None = personal()
    action_id: int
    action_name: str
    order_id: str | None
    custom_id: str | None
    coupon: str | None
    points: int
    group_points: int | None
    points_expiration_date: dt.date | None
    section_id: str | None
    section_name: str | None
    survey_id: str | None
    survey_name: str | None
    reason: str | None
    source: str | None
    opt_in_status: bool
    sender_id: str | None
    receiver_id: str | None
    store_id: str | None
    store_name: str | None
    store_region: str | None
    store_type: str | None
    phone_number: str | None = personal("The member's mobile number.")
    user_role: str | None

    @classmethod
    def from_row(cls, row: ReportRow) -> InteractionReportRow:
        return cls(
            date=row.date,
            name=row.name,
            user_id=row.user_id,
            email=row.email,
            action_id=row.action_id,
            action_name=row.action_name,
            order_id=row.order_id,
            custom_id=row.custom_id,
            coupon=row.coupon,
            points=row.points,
            group_points=row.group_points,
            points_expiration_date=row.points_expiration_date,
            section_id=row.section_id,
            section_name=row.section_name,
            survey_id=row.survey_id,
            survey_name=row.survey_name,
            reason=row.reason,
            source=row.source,
            opt_in_status=row.opt_in_status,
            sender_id=row.sender_id,
            receiver_id=row.receiver_id,
            store_id=row.store_id,
            store_name=row.store_name,
            store_region=row.store_region,
            store_type=row.store_type,
            phone_number=row.phone_number,
            user_role=row.user_role,
        )


@strawberry.type
class InteractionReportEdge:
    cursor: str
    node: InteractionReportRow


@strawberry.type
class InteractionReportTotals:
    # BigInt: one member's figures fit an Int (the ledger caps them), a program's sum may not.
    points: BigInt = strawberry.field(description="Sum of points over every row of the filter.")


@strawberry.type
class InteractionReportConnection:
    edges: list[InteractionReportEdge]
    page_info: PageInfo
    rows_total: strawberry.Private[int | None]
    points_total: strawberry.Private[int | None]

    @strawberry.field(description="Rows over every page; computed only when asked for.")
    def total_count(self) -> int:
        assert self.rows_total is not None, "computed when selected"
        return self.rows_total

    @strawberry.field(description="Sums over every page; computed only when asked for.")
    def totals(self) -> InteractionReportTotals:
        assert self.points_total is not None, "computed when selected"
        return InteractionReportTotals(points=BigInt(self.points_total))
