"""Reading an import file: one JSON object per line, UTF-8, lines numbered from 1.

A line that holds no event (not UTF-8, not JSON, too long…) becomes an `Unreadable` at its
line number, which the importer reports like any invalid event: everything before it applies,
and reading stops there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from member360.ingest import limits
from member360.ingest.schemas import Unreadable

BOM = b"\xef\xbb\xbf"


def read_events(handle: BinaryIO) -> Iterator[tuple[int, Any]]:
    """(line number, decoded JSON value or Unreadable) for each non-blank line of `handle`."""
    number = 0
    while True:
        raw = handle.readline(limits.LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > limits.LINE_BYTES:
            yield number, Unreadable("line", f"is longer than {limits.LINE_BYTES:,} bytes")
            return
        if number == 1 and raw.startswith(BOM):
            # Editors on Windows start UTF-8 files with a byte order mark; it is no content.
            raw = raw[len(BOM) :]
        value = _decode(raw)
        if value is _BLANK:
            continue
        yield number, value
        if isinstance(value, Unreadable):
            return


_BLANK = object()


def _decode(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The column an editor shows: characters before the bad byte (they decode), plus one.
        column = len(raw[: exc.start].decode("utf-8")) + 1
        return Unreadable("", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {column})")
    if not text.strip():
        return _BLANK
    if text.startswith("\ufeff"):
        return Unreadable(
            "line", "starts with a byte order mark (U+FEFF), which only the file's start may have"
        )
    if "\x00" in text:
        column = text.index("\x00") + 1
        return Unreadable("line", f"holds a NUL byte at column {column} (a damaged file?)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # An unterminated string runs to the end of the line: the line ended inside it.
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            return Unreadable(
                "line", "is not valid JSON (it ends before the JSON value does: truncated?)"
            )
        what = exc.msg.removesuffix(" at")  # "Invalid control character at"
        return Unreadable("line", f"is not valid JSON ({what} at column {exc.colno})")
    except RecursionError:
        return Unreadable("line", "is not valid JSON (nested too deeply)")
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return Unreadable("line", f"is not valid JSON ({exc})")
