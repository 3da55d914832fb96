"""Scopes per field and personal data: every personal field is found, marked and refused.

A key without pii:read gets null and a FORBIDDEN error at the path of each personal value it
selects; a key without a field's scope gets null and FORBIDDEN there, and nothing happens.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import pytest
import strawberry
from sqlalchemy import func, select, update

from member360.audit.models import AuditEvent
from member360.auth.keys import SCOPES, create_api_key
from member360.db import Database, table
from member360.exports.models import ExportJob
from member360.graphql.access import FIELD_SCOPES, personal_fields, protect
from member360.graphql.schema import schema, schema_for
from member360.orgs.service import OrgInfo
from tests.factories import at, earn, event, ingest_ok, make_customer
from tests.reports.dataset import window
from tests.security.conftest import Api

# Field names that look like personal data wherever they appear in the schema.
PERSONAL_NAME = re.compile(r"e-?mail|mobile|phone|msisdn|address|birth", re.I)
# Fields whose name looks personal but that are not a member's data, and why.
NOT_PERSONAL = {
    "Viewer.email": "the caller's own sign-in address (null for API keys)",
    "ExportJob.emailedAt": "when a job's mail went out: a time, not an address",
}
# Arguments and input fields that take personal data: lookups that match a value and never
# return it (the report's email filter needs pii:read itself, as does its export).
PERSONAL_INPUTS = {
    "Query.customer(email)",
    "Query.customer(mobile)",
    "InteractionReportFilter.email",
    "RequestExportInput.email",
}

EMAIL, MOBILE = "alice@example.com", "+919000012345"
NO_PII = [s for s in SCOPES if s != "pii:read"]


def _named(type_ref: dict[str, Any]) -> str:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    return str(type_ref["name"])


def test_every_personal_looking_field_is_protected() -> None:
    introspected = schema.introspect()["__schema"]["types"]
    registry = personal_fields(schema)
    looks_personal: set[str] = set()
    inputs: set[str] = set()
    for t in introspected:
        if t["name"].startswith("__"):
            continue
        for f in t.get("fields") or []:
            if PERSONAL_NAME.search(f["name"]):
                looks_personal.add(f"{t['name']}.{f['name']}")
            inputs |= {
                f"{t['name']}.{f['name']}({a['name']})"
                for a in f["args"]
                if PERSONAL_NAME.search(a["name"])
            }
        inputs |= {
            f"{t['name']}.{f['name']}"
            for f in t.get("inputFields") or []
            if PERSONAL_NAME.search(f["name"])
        }
    unprotected = looks_personal - registry - set(NOT_PERSONAL)
    assert not unprotected, f"personal-looking fields without personal(): {sorted(unprotected)}"
    # The walk finds the marked fields too (ExportJob.email is marked, not only named).
    assert registry <= {
        f"{t['name']}.{f['name']}" for t in introspected for f in t.get("fields") or []
    }
    assert len(registry) >= 5
    assert inputs == PERSONAL_INPUTS, "a new personal input: decide whether it needs pii:read"
    # Personal fields are nullable: a refusal nulls the field, not the row around it.
    types = {t["name"]: t for t in introspected}
    for label in registry:
        type_name, field_name = label.split(".")
        (field,) = [f for f in types[type_name]["fields"] if f["name"] == field_name]
        assert field["type"]["kind"] != "NON_NULL", label
    # Production builds its schema separately: the same fields are protected there.
    assert personal_fields(schema_for(production=True)) == registry


def test_an_undeclared_root_field_fails_the_schema_build() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "hi"

    with pytest.raises(RuntimeError, match=r"Query\.hello: declare its scope in FIELD_SCOPES"):
        protect(strawberry.Schema(query=Query))


async def _seed(db: Database, org: OrgInfo, api: Api) -> str:
    """Alice with email, mobile and an external-id change, a report row, an EMAIL export job."""
    await ingest_ok(
        db,
        org,
        make_customer("alice", when=at(0), name="Alice Rao", email=EMAIL, mobile=MOBILE),
        event(
            "customer.identifierChanged",
            when=at(1),
            customerId="alice",
            identifierType="EXTERNAL_ID",
            value="EXT-9",
        ),
        earn("alice", 40, when=at(2)),
    )
    requested = await api.gql(
        """mutation($input: RequestExportInput!) { requestExport(input: $input) { id } }""",
        input={
            "customerTab": {"customerId": "alice", "tab": "POINTS_ACTIVITY"},
            "delivery": "EMAIL",
            "email": "ops@example.com",
        },
    )
    job = str(requested["data"]["requestExport"]["id"])
    # Only its fields matter here: finish it (as told) so that no job runner of another test
    # runs it and mails ops@example.com into that test's mailbox.
    async with db.session(org.id) as session, session.begin():
        await session.execute(
            update(ExportJob)
            .where(ExportJob.public_id == job)  # type: ignore[arg-type]
            .values(status="FAILED", error="not run", notified_at=dt.datetime.now(dt.UTC))
        )
    return job


PERSONAL_PAGE = """
query($c: String!, $f: InteractionReportFilter!, $job: ID!) {
  customer(customerId: $c) {
    customerId email mobile
    identifierHistory(first: 10) { edges { node { identifierType value } } }
  }
  interactionReport(filter: $f, first: 5) { edges { node { userId points email phoneNumber } } }
  exportJob(id: $job) { id email }
}
"""


def _errors_by_path(result: dict[str, Any]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(e["path"]): e for e in result.get("errors", [])}


async def test_personal_fields_are_null_and_forbidden_without_pii_read(
    db: Database, org: OrgInfo, api: Api
) -> None:
    job = await _seed(db, org, api)
    no_pii = await create_api_key(db, org, NO_PII)
    variables = {"c": "alice", "f": window(), "job": job}

    result = await api.gql(PERSONAL_PAGE, key=no_pii, **variables)
    data, refused = result["data"], _errors_by_path(result)
    identifiers = data["customer"]["identifierHistory"]["edges"]
    kinds = [e["node"]["identifierType"] for e in identifiers]
    (row,) = data["interactionReport"]["edges"]
    # Where each personal field sits in this document: every marked field has a probe here.
    probes = {
        "Customer.email": [("customer", "email")],
        "Customer.mobile": [("customer", "mobile")],
        "InteractionReportRow.email": [("interactionReport", "edges", 0, "node", "email")],
        "InteractionReportRow.phoneNumber": [
            ("interactionReport", "edges", 0, "node", "phoneNumber")
        ],
        "ExportJob.email": [("exportJob", "email")],
    }
    assert set(probes) == personal_fields(schema), "add a probe for each new personal field"
    assert sorted(kinds) == ["EMAIL", "EXTERNAL_ID", "MOBILE"]
    expected_paths = {path for paths in probes.values() for path in paths}
    assert set(refused) == expected_paths
    for label, paths in probes.items():
        for path in paths:
            value: Any = data
            for step in path:
                value = value[step]
            assert value is None, (label, path)
            error = refused[path]
            assert error["extensions"] == {"code": "FORBIDDEN", "scope": "pii:read"}
            assert error["message"] == (
                f"{label} is personal data: reading it needs the pii:read scope"
            )
    # Everything else answers: the row, the member, the job, a non-personal identifier.
    assert data["customer"]["customerId"] == "alice" and data["exportJob"]["id"] == job
    assert row["node"]["userId"] == "alice" and row["node"]["points"] == 40
    # Identifier values stay non-null (the contract's `value: String!`): email and mobile
    # values read "[withheld]", an external id its value.
    assert {e["node"]["identifierType"]: e["node"]["value"] for e in identifiers} == {
        "EMAIL": "[withheld]",
        "MOBILE": "[withheld]",
        "EXTERNAL_ID": "EXT-9",
    }

    # With pii:read: the values, and no error.
    full = await api.gql(PERSONAL_PAGE, **variables)
    assert "errors" not in full, full["errors"]
    d = full["data"]
    assert (d["customer"]["email"], d["customer"]["mobile"]) == (EMAIL, MOBILE)
    values = {
        e["node"]["identifierType"]: e["node"]["value"]
        for e in d["customer"]["identifierHistory"]["edges"]
    }
    assert values == {"EMAIL": EMAIL, "MOBILE": MOBILE, "EXTERNAL_ID": "EXT-9"}
    node = d["interactionReport"]["edges"][0]["node"]
    assert (node["email"], node["phoneNumber"]) == (EMAIL, MOBILE)
    assert d["exportJob"]["email"] == "ops@example.com"


async def test_search_results_withhold_personal_data_per_member(
    db: Database, org: OrgInfo, dev: Api
) -> None:
    await ingest_ok(
        db, org, make_customer("alice", name="Alice Rao"), make_customer("al", name="Al Roy")
    )
    no_pii = await create_api_key(db, org, ["customers:read"])
    result = await dev.gql(
        '{ customers(search: "al", first: 5) { edges { node { customerId email } } } }', key=no_pii
    )
    edges = result["data"]["customers"]["edges"]
    assert len(edges) == 2 and all(e["node"]["email"] is None for e in edges)
    assert set(_errors_by_path(result)) == {
        ("customers", "edges", i, "node", "email") for i in range(2)
    }


# One call of each scoped root field; `check` names the side effect that must not happen.
ROOT_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "Query.customer": ('query { customer(customerId: "alice") { customerId } }', {}),
    "Query.customers": ('query { customers(search: "alice") { edges { cursor } } }', {}),
    "Query.interactionReport": (
        "query($f: InteractionReportFilter!) { interactionReport(filter: $f) { edges { cursor } } }",
        {"f": window()},
    ),
    "Query.exportJob": ('query { exportJob(id: "%s") { id } }' % ("0" * 32), {}),
    "Query.exportJobs": ("query { exportJobs { edges { cursor } } }", {}),
    "Mutation.ingestEvents": (
        "mutation($e: [JSON!]!) { ingestEvents(events: $e) { applied } }",
        {"e": [make_customer("zed", when=at(3))]},
    ),
    "Mutation.resendCoupon": ('mutation { resendCoupon(couponId: "CP1") { resendCount } }', {}),
    "Mutation.requestExport": (
        "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }",
        {"i": {"customerTab": {"customerId": "alice", "tab": "LEADS"}}},
    ),
    "Organization.sources": ("query { organization { name sources } }", {}),
}


async def _state(db: Database, org: OrgInfo) -> tuple[Any, ...]:
    """What the mutations would change: members, coupon resends, export jobs, audit rows."""
    customers, coupons = table("customers"), table("coupons")
    async with db.session(org.id) as s:
        return (
            await s.scalar(select(func.count()).where(customers.c.org_id == org.id)),
            await s.scalar(
                select(func.sum(coupons.c.resend_count)).where(coupons.c.org_id == org.id)
            ),
            await s.scalar(
                select(func.count()).select_from(ExportJob).where(ExportJob.org_id == org.id)
            ),  # type: ignore[arg-type]
            # (Each new key's first use writes an api_key.used row: not a mutation's doing.)
            await s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.org_id == org.id, AuditEvent.action != "api_key.used")
            ),  # type: ignore[arg-type]
        )


async def test_every_scoped_field_refuses_a_key_without_its_scope(
    db: Database, org: OrgInfo, dev: Api
) -> None:
    assert set(ROOT_CALLS) == {label for label, scope in FIELD_SCOPES.items() if scope}
    await ingest_ok(
        db,
        org,
        make_customer("alice", when=at(0)),
        earn("alice", 10, when=at(1), source="POS"),
        event(
            "coupon.issued",
            when=at(2),
            couponId="CP1",
            code="SAVE-1",
            customerId="alice",
            expiresAt=at(300),
        ),
    )
    before = await _state(db, org)
    for label, (query, variables) in ROOT_CALLS.items():
        scope = FIELD_SCOPES[label]
        assert scope is not None
        key = await create_api_key(db, org, [s for s in SCOPES if s != scope])
        result = await dev.gql(query, key=key, **variables)
        type_name, field = label.split(".")
        path = ("organization", "sources") if type_name == "Organization" else (field,)
        refused = _errors_by_path(result)
        assert list(refused) == [path], (label, result)
        assert refused[path]["extensions"] == {"code": "FORBIDDEN", "scope": scope}
        assert refused[path]["message"] == f"{label} needs the {scope} scope"
        holder: Any = result["data"]
        for step in path[:-1]:
            holder = holder[step]
        assert holder is None or holder[path[-1]] is None, (label, result["data"])
        assert await _state(db, org) == before, f"{label} changed data without its scope"
    # The rest of `organization` still answers when only `sources` is refused.
    agent_like = await create_api_key(db, org, ["customers:read"])
    org_result = await dev.gql(
        "{ organization { name sources } me { kind scopes } }", key=agent_like
    )
    assert org_result["data"]["organization"] == {"name": org.name, "sources": None}
    assert org_result["data"]["me"] == {"kind": "API_KEY", "scopes": ["customers:read"]}
    # With the scope, the same calls pass the check (the queries; mutations would act).
    for label, (query, variables) in ROOT_CALLS.items():
        if label.startswith("Query.") or label.startswith("Organization."):
            result = await dev.gql(query, **variables)
            assert "errors" not in result, (label, result)


async def test_report_export_and_customer_tab_export_check_their_data_scopes(
    db: Database, org: OrgInfo, dev: Api
) -> None:
    await ingest_ok(db, org, make_customer("alice", when=at(0)))
    before = await _state(db, org)
    call = "mutation($i: RequestExportInput!) { requestExport(input: $i) { id } }"
    cases = [
        (
            ["exports:write", "customers:read", "pii:read"],
            {"interactionReport": window()},
            "reports:read",
        ),
        (
            ["exports:write", "reports:read", "pii:read"],
            {"customerTab": {"customerId": "alice", "tab": "LEADS"}},
            "customers:read",
        ),
    ]
    for scopes, given, missing in cases:
        key = await create_api_key(db, org, scopes)
        result = await dev.gql(call, key=key, i=given)
        assert result["data"] is None
        (error,) = result["errors"]
        assert error["extensions"] == {"code": "FORBIDDEN", "scope": missing}
        assert missing in error["message"]
    # The email filter of a report export still needs pii:read.
    no_pii = await create_api_key(db, org, ["exports:write", "reports:read"])
    result = await dev.gql(call, key=no_pii, i={"interactionReport": window(email="alice")})
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "pii:read" in result["errors"][0]["message"]
    assert await _state(db, org) == before


async def test_refusals_are_logged_as_one_line_without_tracebacks(
    db: Database, org: OrgInfo, dev: Api, caplog: pytest.LogCaptureFixture
) -> None:
    await ingest_ok(db, org, make_customer("a1", name="Al A"), make_customer("a2", name="Al B"))
    no_pii = await create_api_key(db, org, ["customers:read"])
    with caplog.at_level(logging.INFO):
        result = await dev.gql(
            '{ customers(search: "al") { edges { node { email mobile } } } }', key=no_pii
        )
    assert len(result["errors"]) == 4
    ours = [
        r
        for r in caplog.records
        # (besides the request line every request writes)
        if r.name.startswith(("member360", "strawberry")) and r.name != "member360.request"
    ]
    assert [r.getMessage() for r in ours] == [
        "refused 4 field(s) for a missing scope: customers.edges.node.email, "
        "customers.edges.node.mobile"
    ]
    assert all(r.exc_info is None for r in ours)
