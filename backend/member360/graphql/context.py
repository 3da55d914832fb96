"""Per-request context: who calls, their organization, and the request's dataloaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

from graphql import GraphQLError
from member360.auth.keys import Principal
from member360.db import Database
from member360.graphql.paging import PagedHistoryLoader, RowsByKeyLoader
from member360.history import loaders as history
from member360.ledger import loaders as ledger


class Loaders:
    """Every dataloader of one request, created on first use (`<thing>_by_<key>`)."""

    def __init__(self, db: Database, org_id: int) -> None:
        self.db = db
        self.org_id = org_id

    def _paged(self, spec: object) -> PagedHistoryLoader:
        return PagedHistoryLoader(self.db, self.org_id, spec)  # type: ignore[arg-type]

    @cached_property
    def activity_by_customer(self) -> PagedHistoryLoader:
        return self._paged(ledger.ACTIVITY)

    @cached_property
    def redemptions_by_customer(self) -> PagedHistoryLoader:
        return self._paged(ledger.REDEMPTIONS)

    @cached_property
    def expired_by_customer(self) -> PagedHistoryLoader:
        return self._paged(ledger.EXPIRED)

    @cached_property
    def transfers_by_customer(self) -> PagedHistoryLoader:
        return self._paged(ledger.TRANSFERS)

    @cached_property
    def tier_changes_by_customer(self) -> PagedHistoryLoader:
        return self._paged(ledger.TIER_HISTORY)

    @cached_property
    def transactions_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.TRANSACTIONS)

    @cached_property
    def coupons_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.COUPONS_ISSUED)

    @cached_property
    def coupon_redemptions_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.COUPON_REDEMPTIONS)

    @cached_property
    def communications_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.INTERACTIONS)

    @cached_property
    def behavioral_events_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.BEHAVIORAL_EVENTS)

    @cached_property
    def leads_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.LEADS)

    @cached_property
    def segment_changes_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.SEGMENT_HISTORY)

    @cached_property
    def identifier_changes_by_customer(self) -> PagedHistoryLoader:
        return self._paged(history.IDENTIFIER_HISTORY)

    @cached_property
    def breakup_by_activity(self) -> RowsByKeyLoader:
        return RowsByKeyLoader(
            self.db, self.org_id, ledger.breakup_statement, lambda r: r.activity_id
        )

    @cached_property
    def open_lots_by_customer(self) -> RowsByKeyLoader:
        return RowsByKeyLoader(
            self.db, self.org_id, ledger.open_lots_statement, lambda r: r.customer_id
        )


@dataclass
class Context:
    db: Database
    principal: Principal
    loaders: Loaders
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def org_id(self) -> int:
        return self.principal.org.id

    @cached_property
    def tz(self) -> ZoneInfo:
        return self.principal.org.tz

    @property
    def pii(self) -> bool:
        return self.principal.can("pii:read")

    def require(self, scope: str) -> None:
        if not self.principal.can(scope):
            raise GraphQLError(
                f"this operation needs the {scope} scope", extensions={"code": "FORBIDDEN"}
            )


def make_context(db: Database, principal: Principal) -> Context:
    return Context(db=db, principal=principal, loaders=Loaders(db, principal.org.id))
