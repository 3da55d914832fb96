"""Refusals any layer may raise without knowing who asked.

Code that checks input (a domain's rules, a report's filter, a resolver's arguments) raises
InputError, whose message starts with the field as the caller wrote it. It imports nothing of
the GraphQL layer: the schema answers an InputError raised while a field resolves as
BAD_USER_INPUT with that field (PageTooLarge as PAGE_TOO_LARGE; member360.graphql.errors),
and other callers, such as the command line or the export runner, show its message.
"""

from __future__ import annotations


class InputError(ValueError):
    """Input the caller must change; `field`, when given, names it as the caller wrote it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PageTooLarge(InputError):
    """A page size above the cap of the list it asks for."""
