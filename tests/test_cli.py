"""The member360 command as operators run it: a real process against the test database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

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
