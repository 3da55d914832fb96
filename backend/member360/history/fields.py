"""A declared tab's GraphQL side: its node type and the connection field on Customer.

`history_connection(TAB)` is the whole of a tab's field on Customer: the resolver pages through
the request's loader for that tab (graphql/context.py builds one per registered tab) and turns
each row into the node the declaration describes.
"""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any, cast
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types.field import StrawberryField

from member360.graphql.access import personal
from member360.graphql.info import Info
from member360.graphql.paging import Page, PageKey
from member360.graphql.relay import (
    Connection,
    connection,
    decode_time_cursor,
    encode_cursor,
    page_size,
)
from member360.history.tab import HistoryTab

# Built node types by GraphQL name: tabs showing the same node (coupons issued and redeemed)
# share one type, so they must declare it alike (GraphQL type names are unique).
_NODE_TYPES: dict[str, tuple[HistoryTab, type[Any]]] = {}


def node_type(tab: HistoryTab) -> type[Any]:
    """The Strawberry type of a tab's nodes, built once per node name."""
    built = _NODE_TYPES.get(tab.node_name)
    if built is not None:
        first, kind = built
        if (first.fields, first.extends, first.keeps) != (tab.fields, tab.extends, tab.keeps):
            raise ValueError(
                f"{tab.field_name}: node {tab.node_name} is declared otherwise by "
                f"{first.field_name}"
            )
        return kind
    kind = _build_node_type(tab)
    _NODE_TYPES[tab.node_name] = (tab, kind)
    return kind


def _build_node_type(tab: HistoryTab) -> type[Any]:
    # Row columns the extra fields' resolvers use (a redemption's id): on the node, not in GraphQL.
    kept: Any = strawberry.Private[object]
    annotations: dict[str, Any] = {name: kept for name in tab.keeps}
    annotations |= {f.name: f.graphql_type for f in tab.fields}
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "__module__": __name__,
        "__qualname__": tab.node_name,
    }
    for node_field in tab.fields:
        if node_field.personal:
            namespace[node_field.name] = personal(node_field.description)
        elif node_field.description is not None:
            namespace[node_field.name] = strawberry.field(description=node_field.description)
    if tab.extends is not None:
        # Its Strawberry fields (resolvers) come after the declared ones, in its order.
        for name, value in vars(tab.extends).items():
            if isinstance(value, StrawberryField):
                namespace[name] = value
    return strawberry.type(type(tab.node_name, (), namespace))


def to_node(
    tab: HistoryTab, row: Any, tz: ZoneInfo, pii: bool, now: dt.datetime | None = None
) -> Any:
    """A page row as the tab's node; personal values are withheld without pii:read."""
    values = {name: getattr(row, name) for name in tab.keeps}
    for f in tab.fields:
        values[f.name] = f.shown_instead() if not pii and f.withheld(row) else f.value(row, tz, now)
    return node_type(tab)(**values)


def history_connection(tab: HistoryTab) -> Any:
    """The Customer field of a tab: `<field>(<variant>: Enum = null, first, after)`."""
    node = node_type(tab)
    variants = tab.variants

    async def resolve(root: Any, info: Info, **arguments: Any) -> Connection[Any]:
        variant = arguments.get(variants.argument) if variants is not None else None
        key = PageKey(
            root.pk,
            page_size(arguments.get("first")),
            decode_time_cursor(arguments.get("after")),
            variant.value if variant is not None else None,
        )
        page: Page = await info.context.loaders.history_page(tab).load(key)
        tz, pii, now = info.context.tz, info.context.pii, info.context.now
        return connection(
            page.rows,
            page.has_next,
            lambda row: to_node(tab, row, tz, pii, now),
            lambda row: encode_cursor(*tab.cursor_of(row)),
            page.has_previous,
        )

    # Strawberry reads a resolver's arguments from its signature: spell the tab's out.
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Any),
        inspect.Parameter("info", keyword, annotation=Info),
    ]
    if variants is not None:
        parameters.append(
            inspect.Parameter(
                variants.argument, keyword, default=None, annotation=variants.enum | None
            )
        )
    parameters += [
        inspect.Parameter("first", keyword, default=None, annotation=int | None),
        inspect.Parameter("after", keyword, default=None, annotation=str | None),
    ]
    # The node type is built at run time, so its connection is too (mypy sees no type here).
    returns = cast(Any, Connection)[node]
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=returns
    )
    resolve.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    return strawberry.field(resolver=resolve, description=tab.description)
