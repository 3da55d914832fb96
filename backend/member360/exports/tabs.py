"""What each customer tab exports: its on-screen columns and every row, newest first.

The rows come from the same statements the GraphQL tabs page through (graphql/paging.py), with
no page limit, so a tab's workbook shows exactly what the tab shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy import select

from member360.db import Database, table
from member360.graphql.paging import HistorySpec, PageKey, history_statement
from member360.history import loaders as history
from member360.history.registry import MEMBER_TABS
from member360.history.tab import HistoryTab, ListTab
from member360.history.types import (
    PERSONAL_IDENTIFIERS,
    WITHHELD,
    coupon_status,
)
from member360.ledger.expiry_schedule.tab import open_lots_statement, schedule


@strawberry.enum
class CustomerTab(Enum):
    POINTS_REDEMPTIONS = "POINTS_REDEMPTIONS"
    POINTS_EXPIRY_SCHEDULE = "POINTS_EXPIRY_SCHEDULE"
    POINTS_EXPIRED = "POINTS_EXPIRED"
    POINTS_TIER_HISTORY = "POINTS_TIER_HISTORY"
    POINTS_PROMOTIONS = "POINTS_PROMOTIONS"
    POINTS_LOYALTY_TRACKER = "POINTS_LOYALTY_TRACKER"
    POINTS_TRANSFERS = "POINTS_TRANSFERS"
    POINTS_ACTIVITY = "POINTS_ACTIVITY"
    COUPONS_ISSUED = "COUPONS_ISSUED"
    COUPONS_REDEMPTIONS = "COUPONS_REDEMPTIONS"
    TRANSACTIONS = "TRANSACTIONS"
    INTERACTIONS = "INTERACTIONS"
    BEHAVIORAL_EVENTS = "BEHAVIORAL_EVENTS"
    LEADS = "LEADS"
    SEGMENT_HISTORY = "SEGMENT_HISTORY"
    IDENTIFIER_HISTORY = "IDENTIFIER_HISTORY"


@dataclass(frozen=True)
class TabColumn:
    title: str
    kind: str  # text | int | float | date | datetime | bool
    value: Callable[[Any], Any]
    personal: bool = False  # withheld (an empty cell) unless the requester may read it
    # The cell without pii:read where it is not an empty one (a personal rule of some rows).
    withheld: Callable[[Any], Any] | None = None

    def cell(self, row: Any, pii: bool) -> Any:
        if pii:
            return self.value(row)
        if self.withheld is not None:
            return self.withheld(row)
        return None if self.personal else self.value(row)


@dataclass(frozen=True)
class TabExport:
    title: str
    columns: Sequence[TabColumn]
    spec: HistorySpec | None
    variant: str | None = None


def _col(title: str, kind: str, attr: str) -> TabColumn:
    return TabColumn(title, kind, lambda r: getattr(r, attr))


def _coupon_status(row: Any) -> str:
    return coupon_status(row, dt.datetime.now(dt.UTC)).value


COUPON_COLUMNS = (
    _col("Coupon ID", "text", "coupon_id"),
    _col("Code", "text", "code"),
    _col("Series", "text", "series"),
    _col("Issued At", "datetime", "issued_at"),
    _col("Expires At", "datetime", "expires_at"),
    TabColumn("Status", "text", _coupon_status),
    _col("Redeemed At", "datetime", "redeemed_at"),
    _col("Order ID", "text", "order_id"),
    _col("Store ID", "text", "store_id"),
    _col("Resend Count", "int", "resend_count"),
)

_HAND_WRITTEN: dict[CustomerTab, TabExport] = {
    CustomerTab.POINTS_TIER_HISTORY: TabExport(
        "Points — Tier History",
        (
            _col("Changed At", "datetime", "changed_at"),
            _col("From Tier", "text", "from_tier"),
            _col("To Tier", "text", "to_tier"),
            _col("Reason", "text", "reason"),
        ),
        history.TIER_HISTORY,
    ),
    CustomerTab.COUPONS_ISSUED: TabExport(
        "Coupons — Issued", COUPON_COLUMNS, history.COUPONS_ISSUED
    ),
    CustomerTab.COUPONS_REDEMPTIONS: TabExport(
        "Coupons — Redemptions", COUPON_COLUMNS, history.COUPON_REDEMPTIONS
    ),
    CustomerTab.INTERACTIONS: TabExport(
        "Interactions",
        (
            _col("Sent At", "datetime", "sent_at"),
            _col("Channel", "text", "channel"),
            _col("Message ID", "text", "message_id"),
            _col("Subject", "text", "subject"),
            _col("Preview", "text", "preview"),
            _col("Status", "text", "status"),
            _col("Status Changed At", "datetime", "status_changed_at"),
            _col("Account", "text", "account"),
        ),
        history.INTERACTIONS,
    ),
    CustomerTab.IDENTIFIER_HISTORY: TabExport(
        "Identifier Change History",
        (
            _col("Changed At", "datetime", "changed_at"),
            _col("Identifier Type", "text", "identifier_type"),
            _col("Value", "text", "value"),
            _col("Action", "text", "action_type"),
            _col("Source", "text", "source"),
            _col("Account", "text", "account"),
        ),
        history.IDENTIFIER_HISTORY,
    ),
}


def declared(tab: HistoryTab) -> TabExport:
    """A declared tab's sheet: its node fields' columns, so the workbook shows what the tab does."""
    return TabExport(
        tab.export_title,
        tuple(
            TabColumn(c.title, c.kind, c.value, c.personal, c.withheld) for c in tab.export_columns
        ),
        tab.spec,
    )


def listed(tab: ListTab) -> TabExport:
    """A listed tab's sheet (the expiry schedule): its columns hold the list's values."""
    columns = tuple(
        TabColumn(title, kind, itemgetter(i)) for i, (title, kind) in enumerate(tab.columns)
    )
    return TabExport(tab.export_title, columns, None)


_DECLARED = {
    CustomerTab(tab.customer_tab): declared(tab) if isinstance(tab, HistoryTab) else listed(tab)
    for tab in MEMBER_TABS
}
# In the enum's order; a CustomerTab without a sheet fails here, at import.
TABS: dict[CustomerTab, TabExport] = {
    tab: _DECLARED[tab] if tab in _DECLARED else _HAND_WRITTEN[tab] for tab in CustomerTab
}


async def tab_batches(
    db: Database,
    org_id: int,
    tz: ZoneInfo,
    customer_pk: int,
    tab: CustomerTab,
    *,
    pii: bool,
    batch: int = 2000,
) -> AsyncIterator[list[list[Any]]]:
    """Every row of one member's tab as cell values, in batches, newest first.

    Personal columns, and email and mobile values in the identifier history, are withheld
    unless the requester could read personal data.
    """
    export = TABS[tab]
    if export.spec is None:  # the expiry schedule is computed from open lots, not paged
        async with db.session(org_id) as session:
            open_lots = (
                await session.execute(
                    open_lots_statement(db.dialect), {"org_id": org_id, "pks": [customer_pk]}
                )
            ).all()
        yield [[bucket.expires_on, bucket.points] for bucket in schedule(open_lots, tz)]
        return
    stmt, params = history_statement(
        export.spec,
        org_id,
        [customer_pk],
        PageKey(customer_pk, 10**9, None, export.variant),
        db.dialect,
    )
    async with db.session(org_id) as session:
        result = await session.stream(stmt, params)
        async for chunk in result.partitions(batch):
            values = [[column.cell(row, pii) for column in export.columns] for row in chunk]
            if tab is CustomerTab.IDENTIFIER_HISTORY and not pii:
                for row, cells in zip(chunk, values, strict=True):
                    if row.identifier_type in PERSONAL_IDENTIFIERS:
                        cells[2] = WITHHELD
            yield values


async def customer_pk_for(db: Database, org_id: int, customer_id: str) -> int | None:
    t = table("customers")
    async with db.session(org_id) as session:
        row = (
            await session.execute(
                select(t.c.id, t.c.merged_into_id).where(
                    t.c.org_id == org_id, t.c.customer_id == customer_id
                )
            )
        ).one_or_none()
        # A merged member's exports are the survivor's.
        while row is not None and row.merged_into_id is not None:
            row = (
                await session.execute(
                    select(t.c.id, t.c.merged_into_id).where(
                        t.c.org_id == org_id, t.c.id == row.merged_into_id
                    )
                )
            ).one_or_none()
    return None if row is None else int(row.id)
