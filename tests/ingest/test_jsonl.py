"""Reading import files: each line that holds no event is reported at its line number."""

from __future__ import annotations

import io
import json
from typing import Any

from member360.ingest import limits
from member360.ingest.jsonl import read_events
from member360.ingest.schemas import Unreadable


def read(content: bytes) -> list[tuple[int, Any]]:
    return list(read_events(io.BytesIO(content)))


def test_lines_are_numbered_from_one_and_blank_ones_skipped() -> None:
    content = b'{"a": 1}\r\n\n   \n{"b": 2}'
    assert read(content) == [(1, {"a": 1}), (4, {"b": 2})]


def test_the_column_of_a_bad_byte_counts_characters() -> None:
    content = '{"a": 1}\n{"name": "Zoë'.encode() + b'\xc3"}\n{"c": 3}\n'
    assert read(content) == [
        (1, {"a": 1}),
        (2, Unreadable("", "not valid UTF-8 (byte 0xc3 at column 14)")),
    ]


def test_a_bom_only_at_the_start_of_the_file() -> None:
    assert read(b'\xef\xbb\xbf{"a": 1}\n') == [(1, {"a": 1})]
    first, (number, second) = read(b'{"a": 1}\n\xef\xbb\xbf{"a": 1}\n')
    assert first == (1, {"a": 1}) and number == 2
    assert isinstance(second, Unreadable) and "byte order mark" in second.message


def test_what_json_cannot_hold() -> None:
    cases = {
        b'{"a": "tab\tinside"}': "Invalid control character at column 11",
        b'{"a": 1} {"b": 2}': "Extra data at column 10",
        b"[" * 100_000: "nested too deeply",
        b'{"n": ' + b"9" * 5_000 + b"}": "4300",
    }
    for content, words in cases.items():
        [(number, value)] = read(content)
        assert number == 1
        assert isinstance(value, Unreadable) and value.field == "line", content[:40]
        assert words in value.message, value.message


def test_a_line_beyond_the_limit_is_not_read_whole() -> None:
    huge = json.dumps({"reason": "r" * limits.LINE_BYTES}).encode()
    [(number, value)] = read(b'{"a": 1}\n' + huge + b"\n" + b'{"b": 2}\n')[1:]
    assert number == 2
    assert value == Unreadable("line", f"is longer than {limits.LINE_BYTES:,} bytes")
