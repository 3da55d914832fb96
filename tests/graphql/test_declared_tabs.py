"""The declared history tabs (history/registry.py): what the API, the workbook and the SPA show
is what the declaration says, and a declaration's parts that no tab uses yet do what they say."""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType
from sqlalchemy import func
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from member360.db import Database, table
from member360.exports.tabs import TABS, CustomerTab, customer_pk_for, tab_batches
from member360.graphql.paging import PageKey, history_statement
from member360.graphql.schema import schema
from member360.history.fields import node_type, to_node
from member360.history.registry import HISTORY_TABS
from member360.history.tab import Export, HistoryTab, NodeField, Present, Variants
from member360.orgs.service import OrgInfo
from tests.factories import (
    at,
    earn,
    event,
    ingest_ok,
    make_customer,
    purchase,
    redeem,
    return_,
    transfer,
)
from tests.graphql.conftest import GraphQLCall

MEMBER_TABS = Path(__file__).parents[2] / "frontend/src/features/customers/memberTabs.tsx"


def _object(name: str) -> GraphQLObjectType:
    kind = schema._schema.type_map[name]
    assert isinstance(kind, GraphQLObjectType)
    return kind


def _nullable(annotation: Any) -> bool:
    return type(None) in getattr(annotation, "__args__", ())


@pytest.mark.parametrize("tab", HISTORY_TABS, ids=lambda t: t.field_name)
def test_the_node_type_is_the_declared_fields(tab: HistoryTab) -> None:
    node = _object(tab.node_name)
    declared = [(to_camel_case(f.name), _nullable(f.graphql_type)) for f in tab.fields]
    in_schema = [(n, not isinstance(f.type, GraphQLNonNull)) for n, f in node.fields.items()]
    extended = [to_camel_case(name) for name in _extends(tab)]
    assert in_schema[: len(declared)] == declared
    assert [name for name, _ in in_schema[len(declared) :]] == extended
    assert str(_parent(tab).fields[to_camel_case(tab.field_name)].type) == (
        f"{tab.node_name}Connection!"
    )


def _extends(tab: HistoryTab) -> list[str]:
    if tab.extends is None:
        return []
    return [n for n, v in vars(tab.extends).items() if isinstance(v, StrawberryField)]


def _parent(tab: HistoryTab) -> GraphQLObjectType:
    """The type that carries the tab's field: Customer, or the type of Customer.<under>."""
    customer = _object("Customer")
    if not tab.under:
        return customer
    kind = customer.fields[tab.under].type
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    assert isinstance(kind, GraphQLObjectType)
    return kind


@pytest.mark.parametrize("tab", HISTORY_TABS, ids=lambda t: t.field_name)
def test_the_workbook_has_the_declared_columns(tab: HistoryTab) -> None:
    sheet = TABS[CustomerTab(tab.customer_tab)]
    assert sheet.title == tab.export_title
    assert sheet.spec is tab.spec
    exported = tab.exported_fields
    assert [c.title for c in sheet.columns] == [f.export.title for f in exported if f.export]
    assert [c.kind for c in sheet.columns] == [f.cell_kind for f in exported]


@pytest.mark.parametrize("tab", HISTORY_TABS, ids=lambda t: t.field_name)
def test_the_spa_tab_exports_the_declared_tab(tab: HistoryTab) -> None:
    """The SPA tab's export (a one-line entry), or every sub-tab's (a tab with sub-tabs)."""
    lines = MEMBER_TABS.read_text().splitlines()
    # "points/activity": the sub-tab "activity" of the tab "points".
    *outer, key = tab.spa_tab.split("/")
    start = (
        next(i for i, line in enumerate(lines) if f"value: '{outer[0]}'," in line) if outer else 0
    )
    at_tab = next(i for i in range(start, len(lines)) if f"value: '{key}'," in lines[i])
    if "exportTab:" in lines[at_tab]:
        entry = [lines[at_tab]]
    else:  # its sub-tabs follow, up to the tab's closing brace
        end = next(i for i in range(at_tab, len(lines)) if lines[i] == "  },")
        entry = lines[at_tab:end]
    exports = [re.search(r"exportTab: '(\w+)'", line) for line in entry]
    assert [m.group(1) for m in exports if m] and {m.group(1) for m in exports if m} == {
        tab.customer_tab
    }


def test_every_history_connection_is_a_registered_tab() -> None:
    """Customer's connections (and those of its points/coupons tabs) are the registry's tabs,
    so what derives from the registry (exports, the N+1 guard's coverage) sees every one."""
    found = []

    def walk(kind: GraphQLObjectType, prefix: str) -> None:
        for name, field in kind.fields.items():
            target = field.type
            while isinstance(target, GraphQLNonNull):
                target = target.of_type
            if isinstance(target, GraphQLObjectType) and target.name.endswith("Connection"):
                found.append(prefix + name)
            elif isinstance(target, GraphQLObjectType) and target.name.endswith("History"):
                walk(target, f"{prefix}{name}.")

    walk(_object("Customer"), "")
    assert sorted(found) == sorted(tab.path for tab in HISTORY_TABS)


async def test_on_screen_is_in_the_workbook(db: Database, org: OrgInfo, gql: GraphQLCall) -> None:
    """Each declared tab's GraphQL values and workbook cells agree, column by column."""
    await ingest_ok(
        db,
        org,
        make_customer("ann", when=at(0)),
        event(
            "lead.created",
            when=at(1),
            leadId="L1",
            customerId="ann",
            leadType="Upgrade",
            leadFor="Gold",
            status="OPEN",
            subStatus="New",
            lastFollowUpAt=at(1, hours=2),
            nextFollowUpAt=at(3),
            extendedFields={"budget": 10},
        ),
        event(
            "segment.changed",
            when=at(2),
            customerId="ann",
            segment="Value",
            fromPartition="Low",
            toPartition="High",
        ),
        event("segment.changed", when=at(3), customerId="ann", segment="Churn"),
        purchase("ann", "O1", 120.5, 40, when=at(4)),
        return_("ann", "O1", 60.25, when=at(5)),
        event(
            "event.tracked",
            when=at(6),
            customerId="ann",
            trackingId="E1",
            event="store.visit",
            source="POS",
            accountId="A1",
            tillCode="T-INTEGRATION",
            attributes={"tillCode": 7, "aisle": "3"},
        ),
        event("event.tracked", when=at(7), customerId="ann", trackingId="E2", event="app.open"),
        # The points tabs: a promotion, a tracker credit, a redemption, a transfer, an expiry.
        make_customer("ben", when=at(0)),
        event("campaign.defined", when=at(0), campaignId="C1", name="Festive Bonus"),
        earn("ann", 30, when=at(8), actionId=1008, campaignId="C1"),
        earn("ann", 7, when=at(9), category="TRACKER", trackerValue=3.5),
        redeem("ann", 20, when=at(10), orderId="O2"),
        transfer("ann", "ben", 5, when=at(11)),
        earn("ann", 5, when=at(-400), expiresAt=at(-300)),
        # Tier history, coupons, interactions, identifier history.
        event("tier.changed", when=at(12), customerId="ann", toTier="Gold", reason="Spend"),
        event(
            "coupon.issued",
            when=at(12),
            couponId="CP1",
            code="SAVE10",
            series="Festive",
            customerId="ann",
            expiresAt=at(200),
        ),
        event("coupon.issued", when=at(12), couponId="CP2", code="X", customerId="ann"),
        event("coupon.redeemed", when=at(13), couponId="CP2", orderId="O3", storeId="S1"),
        event(
            "communication.sent",
            when=at(13),
            messageId="M1",
            customerId="ann",
            channel="EMAIL",
            subject="Hello",
            status="SENT",
        ),
        event("communication.statusChanged", when=at(14), messageId="M1", status="DELIVERED"),
        event(
            "customer.identifierChanged",
            when=at(14),
            customerId="ann",
            identifierType="EXTERNAL_ID",
            value="EXT-1",
            source="CRM",
        ),
        event(
            "customer.identifierChanged",
            when=at(15),
            customerId="ann",
            identifierType="EMAIL",
            value="ann@example.com",
        ),
    )
    pk = await customer_pk_for(db, org.id, "ann")
    assert pk is not None
    for tab in HISTORY_TABS:
        names = [to_camel_case(f.name) for f in tab.fields]
        selection = f"{{ edges {{ node {{ {' '.join(names)} }} }} }}"
        for part in reversed(tab.path.split(".")):
            selection = f"{{ {part} {selection} }}"
        result = await gql(f'{{ customer(customerId: "ann") {selection} }}')
        assert "errors" not in result, result
        found = result["data"]["customer"]
        for part in tab.path.split("."):
            found = found[part]
        on_screen = [e["node"] for e in found["edges"]]
        batches = tab_batches(db, org.id, org.tz, pk, CustomerTab(tab.customer_tab), pii=True)
        workbook = [cells async for batch in batches for cells in batch]
        assert len(on_screen) == len(workbook) >= 1, tab.field_name
        exported = tab.exported_fields
        for node, cells in zip(on_screen, workbook, strict=True):
            for f, cell in zip(exported, cells, strict=True):
                shown = node[to_camel_case(f.name)]
                if f.present is Present.LOCAL_TIME and shown is not None:
                    shown = dt.datetime.fromisoformat(shown)
                assert shown == cell, (tab.field_name, f.name)


class LeadStatus(Enum):
    OPEN = "OPEN"
    WON = "WON"


# Parts of a declaration no registered tab uses yet: a variant argument, a computed field and
# a personal field, over the leads table.
PROBE = HistoryTab(
    field_name="probe_leads",
    node_name="ProbeLead",
    table=table("leads"),
    time_column="created_at",
    fields=(
        NodeField("lead_id", str, Export("Lead ID")),
        NodeField(
            "status_length",
            int,
            Export("Status Length"),
            expression=lambda source: func.length(source.c.status),
        ),
        NodeField("lead_for", str | None, Export("For"), personal=True),
        NodeField("created_at", dt.datetime, Export("Created At"), present=Present.LOCAL_TIME),
    ),
    customer_tab="LEADS",
    export_title="Leads",
    spa_tab="leads",
    variants=Variants("status", LeadStatus, "status"),
)


async def test_variants_computed_and_personal_fields(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("bea", when=at(0)),
        event("lead.created", when=at(1), leadId="B1", customerId="bea", status="OPEN"),
        event("lead.created", when=at(2), leadId="B2", customerId="bea", status="WON", leadFor="X"),
    )
    pk = await customer_pk_for(db, org.id, "bea")
    assert pk is not None

    async def page(variant: str | None) -> list[Any]:
        key = PageKey(pk, 10, None, variant)
        stmt, params = history_statement(PROBE.spec, org.id, [pk], key, db.dialect)
        async with db.session(org.id) as session:
            return list((await session.execute(stmt, params)).all())

    assert [r.lead_id for r in await page(None)] == ["B2", "B1"]
    won = await page("WON")
    # An expression's value has a label of its own in the row (it may replace a column).
    length = PROBE.fields[1]
    assert length.label == "status_length_value"
    assert [(r.lead_id, length.stored(r)) for r in won] == [("B2", 3)]
    assert [c.title for c in PROBE.export_columns] == [
        "Lead ID",
        "Status Length",
        "For",
        "Created At",
    ]
    assert [c.personal for c in PROBE.export_columns] == [False, False, True, False]
    tz = org.tz
    withheld = to_node(PROBE, won[0], tz, pii=False)
    granted = to_node(PROBE, won[0], tz, pii=True)
    assert (withheld.lead_for, granted.lead_for) == (None, "X")
    assert granted.created_at.utcoffset() == won[0].created_at.astimezone(tz).utcoffset()
    assert granted.status_length == 3
    assert isinstance(node_type(PROBE)(**vars(granted)), node_type(PROBE))


def test_a_declaration_refuses_a_column_its_table_lacks() -> None:
    with pytest.raises(ValueError, match="no such column"):
        HistoryTab(
            field_name="leads",
            node_name="Broken",
            table=table("leads"),
            time_column="created_at",
            fields=(NodeField("lead_idd", str, Export("Lead ID")),),
            customer_tab="LEADS",
            export_title="Leads",
            spa_tab="leads",
        )


async def test_a_variant_argument_filters_the_tab(
    db: Database, org: OrgInfo, gql: GraphQLCall
) -> None:
    """transactions(type:) is the declaration's variant: the enum argument keeps its rows."""
    await ingest_ok(
        db,
        org,
        make_customer("cal", when=at(0)),
        purchase("cal", "P1", 50.0, 10, when=at(1)),
        purchase("cal", "P2", 70.0, 0, when=at(2)),
        return_("cal", "P1", 50.0, when=at(3)),
    )

    async def orders(argument: str) -> list[tuple[str, str]]:
        result = await gql(
            f'{{ customer(customerId: "cal") {{ transactions{argument} '
            "{ edges { node { type orderId } } } } }"
        )
        assert "errors" not in result, result
        edges = result["data"]["customer"]["transactions"]["edges"]
        return [(e["node"]["type"], e["node"]["orderId"]) for e in edges]

    assert await orders("") == [("RETURN", "P1"), ("PURCHASE", "P2"), ("PURCHASE", "P1")]
    assert await orders("(type: PURCHASE)") == [("PURCHASE", "P2"), ("PURCHASE", "P1")]
    assert await orders("(type: RETURN)") == [("RETURN", "P1")]


def test_an_enum_field_shows_its_member_and_exports_its_name() -> None:
    status = NodeField("status", LeadStatus | None, Export("Status"), present=Present.ENUM)
    row = type("Row", (), {"status": "WON"})()
    assert status.value(row, ZoneInfo("UTC")) is LeadStatus.WON
    assert status.stored(row) == "WON"
    assert status.cell_kind == "text"
    assert status.value(type("Row", (), {"status": None})(), ZoneInfo("UTC")) is None
    with pytest.raises(ValueError, match="Enum annotation"):
        NodeField("status", str, Export("Status"), present=Present.ENUM)


def test_a_derived_field_names_the_columns_it_reads() -> None:
    def first_letter(row: Any) -> str:
        return str(row.status)[:1]

    letter = NodeField("letter", str, Export("Letter"), derived=first_letter, reads=("status",))
    assert letter.stored(type("Row", (), {"status": "OPEN"})()) == "O"
    with pytest.raises(TypeError, match="derived in Python"):
        letter.sql(table("leads"))
    with pytest.raises(ValueError, match="names the columns"):
        NodeField("letter", str, Export("Letter"), derived=first_letter)
    with pytest.raises(ValueError, match="no such column"):
        HistoryTab(
            field_name="leads",
            node_name="BrokenDerived",
            table=table("leads"),
            time_column="created_at",
            fields=(
                NodeField("letter", str, Export("L"), derived=first_letter, reads=("statuss",)),
            ),
            customer_tab="LEADS",
            export_title="Leads",
            spa_tab="leads",
        )
