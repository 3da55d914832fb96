"""Every limit of the import format, in one place (docs/events.md lists them; a test compares).

The numbers keep each event storable on both databases and showable through GraphQL: integers
fit GraphQL's `Int`; texts stay short enough for PostgreSQL's b-tree index entries (at most
2,704 bytes, and a character takes up to 4 bytes in UTF-8) and for a page of the SPA.
"""

from __future__ import annotations

import datetime as dt

# Integers: the API's range (GraphQL's Int), declared in member360.limits for every layer.
from member360.limits import INT_MAX as INT_MAX
from member360.limits import INT_MIN as INT_MIN

# Texts, in characters. Ids and identifiers are single-line (no control character at all);
# names and free texts may hold tab, CR and LF.
ID_LENGTH = 200  # every *Id, orderId, customId, couponId, code, tillCode, the event's id
IDENTIFIER_LENGTH = 320  # email, mobile, an identifier's value (320: the longest email address)
SOURCE_LENGTH = 500  # source, account
NAME_LENGTH = 500  # a member's, store's, action's, campaign's, survey's or section's name
LABEL_LENGTH = 200  # short single-line labels: tier, region, series, status, segment, …
REASON_LENGTH = 1_000  # reason
SUBJECT_LENGTH = 1_000  # a communication's subject
PREVIEW_LENGTH = 4_000  # a communication's preview
REWARD_NAME_LENGTH = 500  # a points credit's reward name

# JSON-object fields (attributes, extendedFields): their compact JSON text, and how deep
# objects and lists nest in them (the field itself is level 1).
JSON_OBJECT_CHARS = 10_000
JSON_OBJECT_DEPTH = 10

SECTIONS_PER_SURVEY = 1_000

# Every timestamp lies in [TIMESTAMP_MIN, TIMESTAMP_MAX): room for a year of default validity
# and any time-zone offset without leaving Python's (and Excel's) calendar.
TIMESTAMP_MIN = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
TIMESTAMP_MAX = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)

# `member360 import`: one line is one event; the largest valid event is far below this.
LINE_BYTES = 1_048_576

# `ingestEvents`: events per call (bigger loads go through the file import).
EVENTS_PER_CALL = 5_000
