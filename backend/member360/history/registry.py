"""Every member tab, declared, in one explicit tuple: what the API, exports and tests derive from.

`MEMBER_TABS` is in the order of the `CustomerTab` enum (the export's tab argument, derived from
it), which schema.graphql shows; `HISTORY_TABS` are its paged tabs (each a connection field).
Points tabs live under ledger/<tab>/, the others under history/<type>/.
"""

from __future__ import annotations

from member360.history.behavioral_events.tab import BEHAVIORAL_EVENTS
from member360.history.communications.tab import INTERACTIONS
from member360.history.coupons.tab import COUPON_REDEMPTIONS, COUPONS_ISSUED
from member360.history.identifiers.tab import IDENTIFIER_HISTORY
from member360.history.leads.tab import LEADS
from member360.history.segments.tab import SEGMENT_HISTORY
from member360.history.tab import HistoryTab, MemberTab
from member360.history.tiers.tab import POINTS_TIER_HISTORY
from member360.history.transactions.tab import TRANSACTIONS
from member360.ledger.activity.tab import POINTS_ACTIVITY, POINTS_LOYALTY_TRACKER, POINTS_PROMOTIONS
from member360.ledger.expired.tab import POINTS_EXPIRED
from member360.ledger.expiry_schedule.tab import POINTS_EXPIRY_SCHEDULE
from member360.ledger.redemptions.tab import POINTS_REDEMPTIONS
from member360.ledger.transfers.tab import POINTS_TRANSFERS

MEMBER_TABS: tuple[MemberTab, ...] = (
    POINTS_REDEMPTIONS,
    POINTS_EXPIRY_SCHEDULE,
    POINTS_EXPIRED,
    POINTS_TIER_HISTORY,
    POINTS_PROMOTIONS,
    POINTS_LOYALTY_TRACKER,
    POINTS_TRANSFERS,
    POINTS_ACTIVITY,
    COUPONS_ISSUED,
    COUPON_REDEMPTIONS,
    TRANSACTIONS,
    INTERACTIONS,
    BEHAVIORAL_EVENTS,
    LEADS,
    SEGMENT_HISTORY,
    IDENTIFIER_HISTORY,
)

HISTORY_TABS: tuple[HistoryTab, ...] = tuple(t for t in MEMBER_TABS if isinstance(t, HistoryTab))
