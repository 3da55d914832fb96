"""Hostile values in every field of every import event type, through the importer and through
ingestEvents: never an unexpected exception or INTERNAL_SERVER_ERROR, every refusal names a
field, and nothing of a refused event is applied (the organization's rows are compared)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from member360.db import Database
from member360.ingest import limits
from member360.orgs.service import OrgInfo
from tests.factories import ingest, ingest_ok, ledger_totals
from tests.ingest.api import IngestCall
from tests.ingest.hostile import KINDS, fields_of, seed, template
from tests.ingest.rows import changed_tables, org_rows


def nested(depth: int, leaf: Any = "x", *, lists: bool = False) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if lists else {f"k{level}": value}
    return value


# Refused in every field, whatever its type: each must be named as that field.
REFUSED_ANYWHERE = {
    "NUL": "\x00",
    "2**63": 2**63,
    "deep list": nested(20, lists=True),
    "deep object": nested(20),
    "20,000 characters": "x" * 20_000,
}

huge_ints = st.sampled_from(
    [limits.INT_MAX + 1, limits.INT_MIN - 1, 2**63, 2**64 + 1, -(2**63), 10**30, -(10**30)]
)
ints = st.one_of(huge_ints, st.integers(-5, 5), st.integers())
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -0.0, 0.5, 2.0**31, -(2.0**31) - 1]),
)
nan_like = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e309", "0x10", "250", "", " "])
controls = st.text(
    alphabet=st.one_of(
        st.characters(max_codepoint=0x1F),
        st.sampled_from(["\x7f", "\ud800", "\udfff", "\ufeff", "\u2028"]),
        st.characters(codec="utf-8"),
    ),
    min_size=1,
    max_size=20,
)
lengths = [201, 321, 501, 1_001, 4_001, 10_001, 30_000]
long_texts = st.builds(lambda n, c: c * n, st.sampled_from(lengths), st.sampled_from("xé😀\t"))
timestamps = st.one_of(
    st.sampled_from(
        [
            1767225600,
            "1767225600",
            "2026-01-01",
            "2026-01-01T10:00:00",
            "2026-13-45T99:99:99Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "1969-12-31T23:59:59Z",
            "8999-12-31T23:59:59+05:30",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
json_leaves = st.one_of(st.none(), st.booleans(), ints, floats, controls, long_texts)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(controls, inner, max_size=3),
    max_leaves=8,
)
deep = st.builds(
    nested, st.integers(9, 40), json_leaves, lists=st.booleans()
)  # around the depth cap
hostile = st.one_of(
    ints,
    floats,
    nan_like,
    controls,
    long_texts,
    timestamps,
    st.booleans(),
    st.none(),
    json_values,
    deep,
)


def spoil(event: dict[str, Any], field: str, action: str, value: Any) -> dict[str, Any]:
    bad = copy.deepcopy(event)
    if action == "drop":
        bad.pop(field, None)
    elif action == "extra":
        bad[field + "X"] = value
    else:
        bad[field] = value
    return bad


def is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


def field_choices(kind: str) -> list[str]:
    return [name for name, _ in fields_of(kind)]


cases = st.sampled_from(KINDS).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.sampled_from(field_choices(kind)),
        st.sampled_from(["set", "set", "set", "drop", "extra"]),
        hostile,
        st.sampled_from(["importer", "ingestEvents"]),
    )
)


def names_a_field(kind: str, bad: dict[str, Any], field: str) -> bool:
    """A refusal names the event, one of its type's fields or keys, or a path inside one."""
    root = field.split(".", 1)[0]
    return root in {"event", *field_choices(kind), *bad}


@pytest_asyncio.fixture(loop_scope="session")
async def seeded(db: Database, org: OrgInfo) -> OrgInfo:
    await ingest_ok(db, org, *seed())
    return org


async def test_every_template_is_valid_and_gives_every_field(db: Database, seeded: OrgInfo) -> None:
    for kind in KINDS:
        prerequisites, valid = template(kind)
        assert set(valid) == set(field_choices(kind)), kind
        await ingest_ok(db, seeded, *prerequisites, valid)


async def test_values_no_field_takes_are_refused_naming_the_field(
    db: Database, seeded: OrgInfo
) -> None:
    """Every field of every type, with values no field accepts (and left out when required)."""
    org = seeded
    tries = []
    for kind in KINDS:
        prerequisites, valid = template(kind)
        if prerequisites:
            await ingest_ok(db, org, *prerequisites)
        for field, required in fields_of(kind):
            for label, value in REFUSED_ANYWHERE.items():
                tries.append((spoil(valid, field, "set", value), field, label))
            if required:
                tries.append((spoil(valid, field, "drop", None), field, "missing"))
    before = await org_rows(db, org)
    wrong = []
    for bad, field, label in tries:
        outcome = await ingest(db, org, bad)
        error = outcome.error
        if error is None or outcome.applied or not error.field.startswith(field):
            wrong.append((bad.get("type"), field, label, error))
    assert wrong == []
    assert changed_tables(before, await org_rows(db, org)) == []
    assert len(tries) > 500


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases)
async def test_hostile_values_never_crash_and_refusals_apply_nothing(
    db: Database, seeded: OrgInfo, ingest_events: IngestCall, case: tuple[Any, ...]
) -> None:
    org = seeded
    kind, field, action, value, path = case
    prerequisites, valid = template(kind)
    if prerequisites:
        await ingest_ok(db, org, *prerequisites)
    bad = spoil(valid, field, action, value)
    before = await org_rows(db, org)
    if path == "ingestEvents" and not is_json(bad):
        path = "importer"  # NaN and Infinity reach only files (Python's json reads them)
    if path == "importer":
        outcome = await ingest(db, org, bad)
        refusal = None if outcome.error is None else outcome.error.field
    else:
        body = await ingest_events([bad])
        assert "errors" not in body, body  # no INTERNAL_SERVER_ERROR, no error of the request
        errors = body["data"]["ingestEvents"]["errors"]
        refusal = errors[0]["field"] if errors else None
        if errors:
            assert errors[0]["index"] == 0
    if refusal is not None:
        assert names_a_field(kind, bad, refusal), (refusal, bad)
        assert changed_tables(before, await org_rows(db, org)) == [], (refusal, bad)
    for customer_id, balance, activity_sum, lot_sum in await ledger_totals(db, org):
        assert balance == activity_sum == lot_sum, customer_id
        assert 0 <= balance <= limits.INT_MAX, customer_id
