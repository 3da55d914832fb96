"""What each customer tab exports: its on-screen columns and every row, newest first.

The rows come from the same statements the GraphQL tabs page through (graphql/paging.py), with
no page limit, so a tab's workbook shows exactly what the tab shows.
"""

from __future__ import annotations

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
from member360.history.registry import MEMBER_TABS
from member360.history.tab import HistoryTab, ListTab
from member360.ledger.expiry_schedule.tab import open_lots_statement, schedule

# The export's tab argument: one member per registered tab, in the registry's order (which is
# the schema's). Functional: its members are the declarations' `customer_tab` names.
# mypy reads only literal members; these come from the registry, so it is told the type.
_TAB_NAMES: type[Enum] = Enum(  # type: ignore[misc]
    "CustomerTab", [(tab.customer_tab, tab.customer_tab) for tab in MEMBER_TABS]
)
CustomerTab = strawberry.enum(_TAB_NAMES, name="CustomerTab")


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


# Every tab's sheet, in the enum's order.
TABS: dict[Enum, TabExport] = {
    CustomerTab(tab.customer_tab): declared(tab) if isinstance(tab, HistoryTab) else listed(tab)
    for tab in MEMBER_TABS
}


async def tab_batches(
    db: Database,
    org_id: int,
    tz: ZoneInfo,
    customer_pk: int,
    tab: Enum,  # a CustomerTab
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
