"""Relay connections: opaque keyset cursors over (time, id), newest first."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError, GraphQLField

from member360.graphql.errors import PAGE_TOO_LARGE, bad_input, refusal

NodeT = TypeVar("NodeT")

MAX_PAGE = 100
DEFAULT_PAGE = 20
# Field metadata naming a connection's own cap on `first` (see `page_cap`).
PAGE_CAP = "member360.page_cap"
_DEFINITION = "strawberry-definition"  # where Strawberry keeps the StrawberryField of a field


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo


# Row ids are 64-bit signed integers on both databases.
MAX_ROW_ID = 2**63 - 1
_ROW_ID = re.compile(r"[1-9][0-9]{0,18}")


def encode_cursor(moment: dt.datetime | str, row_id: int) -> str:
    value = moment.isoformat() if isinstance(moment, dt.datetime) else moment
    return base64.urlsafe_b64encode(f"{value}|{row_id}".encode()).decode()


def invalid_cursor(argument: str = "after") -> GraphQLError:
    return bad_input(
        f"{argument}: invalid cursor (pass the cursor of an edge this connection returned)",
        field=argument,
    )


def decode_base64(value: str) -> bytes:
    """Strict URL-safe base64 (the lenient default skips foreign characters); ValueError."""
    return base64.b64decode(value.encode("ascii"), altchars=b"-_", validate=True)


def row_id_of(text: str) -> int:
    """A row id as cursors and global ids write it; ValueError unless 1 .. MAX_ROW_ID."""
    if not _ROW_ID.fullmatch(text) or int(text) > MAX_ROW_ID:
        raise ValueError(text)
    return int(text)


def _split_cursor(cursor: str) -> tuple[str, int]:
    value, row_id = decode_base64(cursor).decode().rsplit("|", 1)
    if "\x00" in value:
        # No row holds one (PostgreSQL cannot even take it as a parameter). Other control
        # characters may sit in names imported before the import format refused them.
        raise ValueError(cursor)
    return value, row_id_of(row_id)


def decode_time_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    if cursor is None:
        return None
    try:
        value, row_id = _split_cursor(cursor)
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC), row_id
    except (ValueError, OverflowError):  # UnicodeError is a ValueError
        raise invalid_cursor() from None


def decode_text_cursor(cursor: str | None) -> tuple[str, int] | None:
    if cursor is None:
        return None
    try:
        return _split_cursor(cursor)
    except ValueError:
        raise invalid_cursor() from None


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise bad_input("first: must not be negative")
    if first > MAX_PAGE:
        raise refusal(f"first: at most {MAX_PAGE} rows per page", PAGE_TOO_LARGE)
    return first


def page_cap(cap: int) -> dict[str, Any]:
    """Field metadata for a connection whose pages may hold another number of rows than
    MAX_PAGE: `@strawberry.field(metadata=page_cap(500))`. The field's resolver still checks
    `first` itself; the limits read the cap to refuse a larger `first` before anything runs.
    """
    return {PAGE_CAP: cap}


def page_cap_of(field: GraphQLField) -> int:
    """The cap on a connection field's `first`: its declared `page_cap`, else MAX_PAGE."""
    definition = (field.extensions or {}).get(_DEFINITION)
    cap = (getattr(definition, "metadata", None) or {}).get(PAGE_CAP, MAX_PAGE)
    return int(cap)


def connection(
    rows: Sequence[Any],
    has_next: bool,
    to_node: Callable[[Any], NodeT],
    cursor_of: Callable[[Any], str],
    has_previous: bool,
) -> Connection[NodeT]:
    edges = [Edge(cursor=cursor_of(r), node=to_node(r)) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
