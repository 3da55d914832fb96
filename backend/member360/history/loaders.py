"""Batched reads of the non-points tabs not yet declared (history/registry.py has the rest)."""

from __future__ import annotations

from member360.db import table
from member360.graphql.paging import HistorySpec

COUPONS_ISSUED = HistorySpec(table("coupons"), "issued_at")
COUPON_REDEMPTIONS = HistorySpec(
    table("coupons"), "redeemed_at", where=lambda t, v: (t.c.redeemed_at.is_not(None),)
)
INTERACTIONS = HistorySpec(
    table("communications"), "sent_at", where=lambda t, v: (t.c.channel == v,) if v else ()
)
IDENTIFIER_HISTORY = HistorySpec(table("identifier_changes"), "changed_at")
TIER_HISTORY = HistorySpec(table("tier_changes"), "changed_at")
