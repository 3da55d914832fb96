"""SQL functions SQLite lacks, registered on every SQLite connection (member360.db).

The compiled reads (member360.reads) build a response's JSON in one statement. PostgreSQL
states a local time, a cursor and a global id in SQL; SQLite has no time zones and no base64,
so it calls these, which are the Python executor's own rules (relay.encode_cursor,
datetime.isoformat in the organization's zone).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo


def _instant(stored: str) -> dt.datetime:
    # SQLAlchemy keeps an instant on SQLite as naive UTC text ("2025-06-01 10:00:00.000000").
    return dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC)


def local_time(stored: str | None, zone: str) -> str | None:
    """The instant as graphql-core sends a DateTime in the organization's zone."""
    if stored is None:
        return None
    return _instant(stored).astimezone(ZoneInfo(zone)).isoformat()


def time_cursor(stored: str, row_id: int) -> str:
    """graphql/relay.py's encode_cursor of (instant, row id)."""
    text = f"{_instant(stored).isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def url_base64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# name -> (number of arguments, function); deterministic, so SQLite may use them in indexes.
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "m360_local_time": (2, local_time),
    "m360_time_cursor": (2, time_cursor),
    "m360_base64": (1, url_base64),
}


def register(connection: Any) -> None:
    """On a DB-API connection (sqlite3's, or SQLAlchemy's aiosqlite adapter)."""
    for name, (arity, function) in FUNCTIONS.items():
        connection.create_function(name, arity, function, deterministic=True)
