"""Per-request context: who calls, their organization, and the request's dataloaders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from member360.auth.keys import Principal
from member360.config import Settings
from member360.db import Database, TenantNotBound
from member360.graphql.errors import forbidden
from member360.graphql.paging import (
    HistorySpec,
    KeyedRows,
    PagedHistoryLoader,
    RowsByKeyLoader,
)
from member360.history.tab import HistoryTab


class RequestFinished(RuntimeError):
    """A read asked for after the request's answer went out (nobody would read its rows)."""


class Loaders:
    """Every dataloader of one request, created on first use: a tab's pages through
    `history_page(tab)`, rows by key (a redemption's breakup) through `keyed(rows)`.

    The request's reads share one session (one pooled connection) and take turns on it: the
    loaders of a page dispatch together, and a connection per batch would need a dozen
    connections per request where one, used in turn, is faster.
    """

    def __init__(self, db: Database, org_id: int) -> None:
        self.db = db
        self.org_id = org_id
        self.dialect = db.dialect
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._running: set[asyncio.Future[Sequence[Any]]] = set()
        self._closed = False
        self._history_pages: dict[HistoryTab, PagedHistoryLoader] = {}
        self._keyed: dict[KeyedRows, RowsByKeyLoader] = {}

    async def fetch(self, stmt: Any, params: dict[str, Any] | None = None) -> Sequence[Any]:
        """Runs a read on the request's session.

        Prebuilt statements bind the organization as `:org_id`; those go straight to the
        session's connection (skipping the ORM layer, a third of a small query's cost) once
        the bound value is checked to be this request's organization. Anything else goes
        through the session and its fail-closed tenant guard.

        The read runs shielded from its caller's cancellation: when a non-null field fails,
        graphql-core cancels its siblings, and a statement interrupted halfway would leave
        the shared connection busy. A dataloader's batch outlives the cancelled fields that
        asked for it. `aclose` waits for both.
        """
        read = asyncio.ensure_future(self._fetch(stmt, params))
        self._running.add(read)
        read.add_done_callback(self._running.discard)
        return await asyncio.shield(read)

    async def _fetch(self, stmt: Any, params: dict[str, Any] | None) -> Sequence[Any]:
        async with self._lock:
            if self._closed:
                raise RequestFinished("the request's answer is sent: no more reads")
            if self._session is None:
                self._session = self.db.session(self.org_id)
            if params and "org_id" in params:
                if params["org_id"] != self.org_id:
                    raise TenantNotBound("a read bound another organization than the request's")
                connection = await self._session.connection()
                return (await connection.execute(stmt, params)).all()
            return (await self._session.execute(stmt, params or {})).all()

    async def rollback(self) -> None:
        """Ends the request's transaction after a failed read, so later reads can run."""
        async with self._lock:
            if self._session is not None:
                await self._session.rollback()

    async def aclose(self) -> None:
        # Reads still running (siblings of a failed field, dataloader batches) finish first;
        # a read that would start afterwards is refused, so no session outlives the request.
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        self._closed = True
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None

    def _paged(self, spec: HistorySpec) -> PagedHistoryLoader:
        return PagedHistoryLoader(self.fetch, self.org_id, self.dialect, spec)

    def history_page(self, tab: HistoryTab) -> PagedHistoryLoader:
        """The request's loader of a registered tab's pages (an unregistered one is a bug)."""
        loader = self._history_pages.get(tab)
        if loader is None:
            loader = self._history_pages[tab] = self._paged(tab.spec)
        return loader

    def keyed(self, rows: KeyedRows) -> RowsByKeyLoader:
        """The request's loader of rows by key (a redemption's breakup, a member's open lots)."""
        loader = self._keyed.get(rows)
        if loader is None:
            loader = self._keyed[rows] = RowsByKeyLoader(
                self.fetch, self.org_id, self.dialect, rows.statement, attrgetter(rows.key)
            )
        return loader


@dataclass
class Context:
    db: Database
    principal: Principal
    loaders: Loaders
    settings: Settings
    queue: Any = None  # procrastinate app when export jobs go to `member360 worker` processes
    limits: Any = None  # member360.ratelimit.RateLimits (None: no limits, e.g. in-process tests)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def org_id(self) -> int:
        return self.principal.org.id

    @cached_property
    def tz(self) -> ZoneInfo:
        return self.principal.org.tz

    @cached_property
    def pii(self) -> bool:
        # Cached: personal fields ask once per row of a report page.
        return self.principal.can("pii:read")

    async def aclose(self) -> None:
        await self.loaders.aclose()

    def require(self, scope: str, what: str = "this operation") -> None:
        """For checks that depend on arguments; root fields declare theirs in FIELD_SCOPES."""
        if not self.principal.can(scope):
            raise forbidden(f"{what} needs the {scope} scope", scope=scope)


def make_context(db: Database, principal: Principal, settings: Settings) -> Context:
    return Context(
        db=db, principal=principal, loaders=Loaders(db, principal.org.id), settings=settings
    )
