"""Limits every layer shares: the range of the numbers the API shows."""

from __future__ import annotations

# GraphQL's Int is a 32-bit signed integer: every integer an event carries, and every balance,
# must fit it or the API could not show it.
INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
