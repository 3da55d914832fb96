"""Every declared history tab, in one explicit tuple: what the API, exports and tests derive from.

Declared so far: transactions, behavioral events, leads and segment history (each in its
folder, history/<type>/). Every other tab (points activity, redemptions, expired, expiry
schedule, promotions, loyalty tracker, transfers, tier history, coupons, interactions,
identifier history) still goes the old way: a spec in history/loaders.py or ledger/loaders.py,
a loader property in graphql/context.py, a resolver in customers/types.py, a type in
history/types.py or ledger/types.py and a hand-written column list in exports/tabs.py.
docs/adding-a-history-type.md says which parts a declared tab no longer needs.
"""

from __future__ import annotations

from member360.history.behavioral_events.tab import BEHAVIORAL_EVENTS
from member360.history.leads.tab import LEADS
from member360.history.segments.tab import SEGMENT_HISTORY
from member360.history.tab import HistoryTab
from member360.history.transactions.tab import TRANSACTIONS

HISTORY_TABS: tuple[HistoryTab, ...] = (TRANSACTIONS, BEHAVIORAL_EVENTS, LEADS, SEGMENT_HISTORY)
