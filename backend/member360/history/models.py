"""Non-points history of a member: transactions, coupons, messages, events, segments,
identifier and tier changes. Each row keeps the member it came from when a merge moved it.

Each history type keeps its table in its own folder (history/<type>/models.py); these are the
columns every history table has.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column
from sqlmodel import Field

from member360.db import BigId, UTCDateTime


def instant(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime, nullable=nullable))


def moved_from() -> Any:
    return Field(default=None, sa_column=Column(BigId, nullable=True))
