"""docs/events.md matches the code: every event type's table lists exactly its fields, with the
type, limit and required-ness the models enforce; the limits table the values of limits.py;
and the worked example applies as the page says, on both databases."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from member360.db import Database
from member360.ingest import limits
from member360.ingest.schemas import EVENT_TYPES
from member360.orgs.service import OrgInfo
from tests.factories import ingest
from tests.ingest.api import IngestCall

DOC = Path(__file__).parents[2] / "docs" / "events.md"
ENVELOPE = ("type", "id", "occurredAt")


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field's schema without its null alternative."""
    for alternative in schema.get("anyOf", ()):
        if alternative.get("type") != "null":
            return {**schema, **alternative}
    return schema


def rendered(schema: dict[str, Any]) -> str:
    """A field's type as the page writes it."""
    p = _plain(schema)
    if p.get("format") == "date-time":
        return "timestamp"
    if "enum" in p:
        return "one of " + ", ".join(f"`{v}`" for v in p["enum"])
    kind = p.get("type")
    if kind == "string":
        word = "string" if p["x-text"] == "single-line" else "text"
        return f"{word} ≤ {p['maxLength']:,}"
    if kind in ("integer", "number"):
        if "exclusiveMinimum" in p:
            low = f"{p['exclusiveMinimum'] + 1:,}" if kind == "integer" else "> 0"
        else:
            low = f"{p['minimum']:,}"
        return f"{kind} {low} … {p['maximum']:,}"
    if kind == "array":
        return f"list ≤ {p['maxItems']:,}"
    return {"boolean": "boolean", "object": "JSON object"}[kind]


def documented_tables() -> dict[str, dict[str, tuple[str, str]]]:
    """Event type -> field -> (type, required) from each `### `type`` section's table."""
    tables: dict[str, dict[str, tuple[str, str]]] = {}
    kinds: list[str] = []
    for line in DOC.read_text().splitlines():
        if line.startswith("## "):
            kinds = []
        elif line.startswith("### "):
            kinds = re.findall(r"`([^`]+)`", line)
            for kind in kinds:
                tables[kind] = {}
        elif kinds and line.startswith("| `"):
            field, kind_text, required = (cell.strip() for cell in line.split("|")[1:4])
            for kind in kinds:
                tables[kind][field.strip("`")] = (kind_text, required)
    return tables


def test_every_event_type_is_documented_as_the_models_enforce() -> None:
    tables = documented_tables()
    assert set(tables) == set(EVENT_TYPES)
    for kind, model in EVENT_TYPES.items():
        schema = model.model_json_schema(by_alias=True)
        expected = {
            name: (rendered(p), "required" if name in schema["required"] else "optional")
            for name, p in schema["properties"].items()
            if name not in ENVELOPE
        }
        assert tables[kind] == expected, kind


def test_the_envelope_and_limits_are_documented() -> None:
    text = DOC.read_text()
    for row in (
        "| `type` | one of the [event types](#event-types) | required |",
        "| `id` | string ≤ 200 | required |",
        "| `occurredAt` | timestamp | required |",
    ):
        assert row in text
    for phrase in (
        f"{limits.INT_MIN:,} … {limits.INT_MAX:,}",
        f"| ids: `id`, every `…Id`, `orderId`, `customId`, `code`, `tillCode` | {limits.ID_LENGTH}",
        f"| `email`, `mobile`, an identifier's `value` | {limits.IDENTIFIER_LENGTH} characters",
        f"| `source`, `account` | {limits.SOURCE_LENGTH} characters",
        f"| `reason` | {limits.REASON_LENGTH:,} characters",
        f"| `subject` | {limits.SUBJECT_LENGTH:,} characters",
        f"| `preview` | {limits.PREVIEW_LENGTH:,} characters",
        f"| `rewardName` | {limits.REWARD_NAME_LENGTH} characters",
        f"`toPartition` | {limits.LABEL_LENGTH} characters",
        f"{limits.JSON_OBJECT_CHARS:,} characters of compact JSON",
        f"nested at most {limits.JSON_OBJECT_DEPTH} levels deep",
        f"| `sections` of a survey | {limits.SECTIONS_PER_SURVEY:,} |",
        f"from {limits.TIMESTAMP_MIN:%Y-%m-%dT%H:%M:%SZ} up to {limits.TIMESTAMP_MAX:%Y-%m-%d}",
        f"| a line of an import file | {limits.LINE_BYTES:,} bytes |",
        f"| events per `ingestEvents` call | {limits.EVENTS_PER_CALL:,} |",
    ):
        assert phrase in text, phrase


def worked_example() -> list[dict[str, Any]]:
    text = DOC.read_text()
    block = text.split("## A worked example", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    return [json.loads(line) for line in block.splitlines()]


async def test_the_worked_example_applies_as_documented(db: Database, org: OrgInfo) -> None:
    events = worked_example()
    first = await ingest(db, org, *events)
    assert (first.applied, first.duplicates) == (6, 0)
    assert first.error is not None
    assert f"events.jsonl:{first.error.position}: {first.error}" == (
        "events.jsonl:7: points: 600 exceeds the balance of 500"
    )
    fixed = [*events[:6], {**events[6], "points": 300}, events[7]]
    second = await ingest(db, org, *fixed)
    assert (second.applied, second.duplicates, second.error) == (2, 6, None)
    third = await ingest(db, org, *fixed)
    assert (third.applied, third.duplicates, third.error) == (0, 8, None)
    changed = [*events[:6], {**events[6], "points": 350}, events[7]]
    fourth = await ingest(db, org, *changed)
    assert (fourth.applied, fourth.duplicates) == (0, 6)
    assert fourth.error is not None
    assert (
        f"{fourth.error}" == "id: id already used by a different event (a new event needs a new id)"
    )


async def test_the_worked_example_through_the_api(
    db: Database, org: OrgInfo, ingest_events: IngestCall
) -> None:
    body = await ingest_events(worked_example())
    assert body == {
        "data": {
            "ingestEvents": {
                "applied": 6,
                "duplicates": 0,
                "errors": [
                    {
                        "index": 6,
                        "field": "points",
                        "message": "600 exceeds the balance of 500",
                        "eventId": "red-1",
                    }
                ],
            }
        }
    }
