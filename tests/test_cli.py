"""The member360 command as operators run it: a real process against the test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest

from member360.db import Database
from member360.orgs.service import OrgInfo, get_org
from tests.conftest import cli_env
from tests.factories import at, balance, earn, make_customer


async def member360(db: Database, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, **cli_env(db)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "member360.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_import_applies_file_and_names_the_bad_line(
    db: Database, org: OrgInfo, tmp_path: Path
) -> None:
    path = tmp_path / "events.jsonl"
    good = [make_customer("c1", when=at(0)), earn("c1", 10, when=at(1))]
    bad = earn("c1", 5, when=at(2), actionId=777)
    path.write_text(
        "\n".join(json.dumps(e) for e in [*good, bad, earn("c1", 1, when=at(3))]) + "\n"
    )
    code, out, err = await member360(db, "import", str(path), "--org", org.slug)
    assert code == 1
    assert "applied 2 events" in out
    assert f"{path}:3: actionId: action 777 is not defined" in err
    assert await balance(db, org, "c1") == 10
    # Fix the line, run the same file again: it resumes.
    path.write_text(
        "\n".join(
            json.dumps(e) for e in [*good, {**bad, "actionId": 100}, earn("c1", 1, when=at(3))]
        )
        + "\n"
    )
    code, out, _ = await member360(db, "import", str(path), "--org", org.slug)
    assert code == 0, out
    assert "applied 2 events, skipped 2 already applied" in out
    assert await balance(db, org, "c1") == 16


async def test_import_reports_a_line_that_is_not_json(
    db: Database, org: OrgInfo, tmp_path: Path
) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(make_customer("c1", when=at(0))) + "\n\n{not json\n")
    code, _, err = await member360(db, "import", str(path), "--org", org.slug)
    assert code == 1
    assert ":3: line: is not valid JSON" in err


async def test_org_and_api_key_create(db: Database) -> None:
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    code, out, err = await member360(
        db,
        "org",
        "create",
        slug,
        "--name",
        "CLI Org",
        "--time-zone",
        "Europe/Berlin",
        "--hierarchy",
        "--surveys",
        "--extended-attributes",
        "STORE_ID,store_name",
    )
    assert code == 0, err
    info = await get_org(db, slug=slug)
    assert (info.time_zone, info.hierarchy, info.surveys, info.extended_attributes) == (
        "Europe/Berlin",
        True,
        True,
        ("STORE_ID", "STORE_NAME"),
    )
    code, out, err = await member360(
        db, "api-key", "create", "--org", slug, "--scopes", "customers:read,pii:read"
    )
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith("m360_")
    code, _, err = await member360(
        db, "org", "create", f"{slug}x", "--name", "X", "--time-zone", "Mars/Olympus"
    )
    assert code != 0 and "not an IANA time zone" in err
    code, _, err = await member360(
        db, "api-key", "create", "--org", slug, "--scopes", "customers:write"
    )
    assert code != 0 and "unknown scope 'customers:write'" in err
    code, _, err = await member360(
        db, "org", "create", slug, "--name", "Again", "--time-zone", "UTC"
    )
    assert code != 0 and "already exists" in err


def _lines(*events: dict) -> list[bytes]:
    return [json.dumps(e).encode() for e in events]


def _bad_utf8_at_column_61() -> bytes:
    head = '{"reason": "' + "a" * 48
    assert len(head.encode()) == 60
    rest = json.dumps(earn("c1", 1, when=at(9)))[1:]
    return head.encode() + b'\xff", ' + rest.encode()


_GOOD = [make_customer("c1", when=at(0)), *(earn("c1", 10, when=at(i)) for i in range(1, 6))]
_TRUNCATED = json.dumps(earn("c1", 1, when=at(9)))[:-12].encode()

# (file's bytes, the line and message of the error; None: the whole file applies)
BAD_FILES = {
    "invalid UTF-8": (
        b"\n".join([*_lines(*_GOOD), _bad_utf8_at_column_61()]) + b"\n",
        "7: not valid UTF-8 (byte 0xff at column 61)",
    ),
    "a line of NUL bytes": (
        b"\n".join([*_lines(*_GOOD), b"\x00" * 64]) + b"\n",
        "7: line: holds a NUL byte at column 1 (a damaged file?)",
    ),
    "an escaped NUL in an id": (
        b"\n".join(_lines(*_GOOD, earn("c1\u0000", 1, when=at(9)))) + b"\n",
        "7: customerId: must not contain control characters (U+0000 at character 3)",
    ),
    "an over-long field": (
        b"\n".join(_lines(*_GOOD, earn("c1", 1, when=at(9), reason="r" * 5_000))) + b"\n",
        "7: reason: must be at most 1,000 characters long",
    ),
    "a 2,000,000-character field": (
        b"\n".join(_lines(*_GOOD, earn("c1", 1, when=at(9), reason="r" * 2_000_000))) + b"\n",
        "7: line: is longer than 1,048,576 bytes",
    ),
    "a truncated last line": (
        b"\n".join([*_lines(*_GOOD), _TRUNCATED]) + b"\n",
        "7: line: is not valid JSON (it ends before the JSON value does: truncated?)",
    ),
    "a truncated last line without a newline": (
        b"\n".join([*_lines(*_GOOD), _TRUNCATED]),
        "7: line: is not valid JSON (it ends before the JSON value does: truncated?)",
    ),
    "a byte order mark at the start": (b"\xef\xbb\xbf" + b"\n".join(_lines(*_GOOD)), None),
    "a byte order mark on a later line": (
        b"\n".join([*_lines(*_GOOD[:3]), b"\xef\xbb\xbf" + _lines(_GOOD[3])[0]]) + b"\n",
        "4: line: starts with a byte order mark (U+FEFF), which only the file's start may have",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
async def test_import_of_a_damaged_file_stops_at_the_line(
    db: Database, org: OrgInfo, tmp_path: Path, case: str
) -> None:
    content, expected = BAD_FILES[case]
    path = tmp_path / "file.jsonl"
    path.write_bytes(content)
    code, out, err = await member360(db, "import", str(path), "--org", org.slug)
    assert "Traceback" not in err, err
    if expected is None:
        assert code == 0, err
        assert "applied 6 events" in out
        assert await balance(db, org, "c1") == 50
        return
    assert code == 1
    assert f"{path}:{expected}\n" in err
    line = int(expected.split(":")[0])
    applied = line - 1
    assert f"applied {applied} events" in out
    assert await balance(db, org, "c1") == 10 * (applied - 1)
