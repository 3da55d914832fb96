"""Relay connections: opaque keyset cursors over (time, id), newest first."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

NodeT = TypeVar("NodeT")

MAX_PAGE = 100
DEFAULT_PAGE = 20


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


def encode_cursor(moment: dt.datetime | str, row_id: int) -> str:
    value = moment.isoformat() if isinstance(moment, dt.datetime) else moment
    return base64.urlsafe_b64encode(f"{value}|{row_id}".encode()).decode()


def decode_time_cursor(cursor: str | None) -> tuple[dt.datetime, int] | None:
    if cursor is None:
        return None
    try:
        value, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit("|", 1)
        return dt.datetime.fromisoformat(value).astimezone(dt.UTC), int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(
            "after: not a cursor from this connection", extensions={"code": "BAD_USER_INPUT"}
        ) from None


def decode_text_cursor(cursor: str | None) -> tuple[str, int] | None:
    if cursor is None:
        return None
    try:
        value, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit("|", 1)
        return value, int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(
            "after: not a cursor from this connection", extensions={"code": "BAD_USER_INPUT"}
        ) from None


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if first < 0:
        raise GraphQLError("first: must not be negative", extensions={"code": "BAD_USER_INPUT"})
    if first > MAX_PAGE:
        raise GraphQLError(
            f"first: at most {MAX_PAGE} rows per page", extensions={"code": "PAGE_TOO_LARGE"}
        )
    return first


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
