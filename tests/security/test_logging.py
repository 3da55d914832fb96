"""Structured logs: one JSON object per line, with request id, org, operation; no personal data."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.exports.jobs import JobRunner
from member360.logs import JsonFormatter, logging_config, safe_message
from member360.orgs.service import OrgInfo
from tests.factories import ingest_ok, make_customer

EMAIL = "asha.private@example.com"
NAME = "Asha Zyxwv"
SEARCH = "zyxwv-search-term"
FIND = """query FindMember($search: String!, $email: String!) {
  customers(search: $search) { edges { node { name } } }
  customer(email: $email) { name } }"""
EXPORT = """mutation($input: RequestExportInput!) { requestExport(input: $input) { id } }"""
JOB = "query($id: ID!) { exportJob(id: $id) { status downloadUrl } }"


class Captured:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        # Every line must be one JSON object: json.loads fails the test otherwise.
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "member360.request"]


@pytest.fixture
def logs() -> Iterator[Captured]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The test's own HTTP client logs the URLs it fetches (as logging_config quiets it in the app).
    httpx_logger = logging.getLogger("httpx")
    httpx_level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        httpx_logger.setLevel(httpx_level)


def app_client(db: Database, settings: Settings | None = None) -> httpx.AsyncClient:
    app = create_app(settings or Settings(_env_file=None), db=db, background=False)  # type: ignore[call-arg]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def assert_no_personal_data(text: str, *secrets: str) -> None:
    for secret in (EMAIL, NAME, SEARCH, *secrets):
        assert secret.lower() not in text.lower(), f"{secret!r} leaked into the log:\n{text}"


async def test_graphql_request_line_has_ids_and_no_personal_data(
    db: Database, org: OrgInfo, logs: Captured
) -> None:
    await ingest_ok(db, org, make_customer("c1", name=NAME, email=EMAIL))
    key = await create_api_key(db, org, list(SCOPES))
    async with app_client(db) as client:
        response = await client.post(
            "/graphql",
            json={"query": FIND, "variables": {"search": SEARCH, "email": EMAIL}},
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-test-0001"},
        )
        assert response.status_code == 200
        assert response.json()["data"]["customer"]["name"] == NAME
        assert response.headers["x-request-id"] == "req-test-0001"
        # Errors quoting the variables (an email where an Int goes) are logged without them.
        bad = await client.post(
            "/graphql",
            json={
                "query": "query($n: Int, $s: String!) { customers(search: $s, first: $n) { edges { cursor } } }",
                "variables": {"n": EMAIL, "s": SEARCH},
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert EMAIL in bad.text  # the client is told; the log is not
        unknown = await client.post(
            "/graphql", json={"query": "{ me { kind } }"}, headers={"Authorization": "Bearer nope"}
        )
        assert unknown.status_code == 401
    requests = logs.requests()
    assert len(requests) == 3
    found = requests[0]
    assert found["request_id"] == "req-test-0001"
    assert found["org_id"] == org.id
    assert found["operation"] == "FindMember"
    assert re.fullmatch(r"api-key:\d+", found["principal"])
    assert (found["method"], found["path"], found["status"]) == ("POST", "/graphql", 200)
    assert isinstance(found["duration_ms"], float)
    assert found["level"] == "INFO" and found["timestamp"].endswith("+00:00")
    # Each request gets its own id; a request without one gets a fresh id, echoed back.
    assert re.fullmatch(r"[0-9a-f]{32}", requests[1]["request_id"])
    assert requests[1]["request_id"] != found["request_id"]
    assert requests[2]["status"] == 401 and requests[2]["org_id"] is None
    errors = [line for line in logs.lines() if line["logger"] == "member360.graphql"]
    assert errors, logs.text
    assert all(line["request_id"] == requests[1]["request_id"] for line in errors)
    assert_no_personal_data(logs.text, key, "Bearer")


async def test_export_download_is_logged_without_its_token(
    db: Database, org: OrgInfo, logs: Captured, tmp_path: Path
) -> None:
    await ingest_ok(db, org, make_customer("c1", name=NAME, email=EMAIL))
    key = await create_api_key(db, org, list(SCOPES))
    settings = Settings(_env_file=None, export_dir=tmp_path, public_url="http://test")  # type: ignore[call-arg]
    headers = {"Authorization": f"Bearer {key}"}
    async with app_client(db, settings) as client:
        requested = await client.post(
            "/graphql",
            json={
                "query": EXPORT,
                "variables": {
                    "input": {"customerTab": {"customerId": "c1", "tab": "POINTS_ACTIVITY"}}
                },
            },
            headers=headers,
        )
        job_id = requested.json()["data"]["requestExport"]["id"]
        runner = JobRunner(db, settings)
        while await runner.run_once():
            pass
        job = await client.post(
            "/graphql", json={"query": JOB, "variables": {"id": job_id}}, headers=headers
        )
        url = job.json()["data"]["exportJob"]["downloadUrl"]
        token = url.rsplit("/", 1)[1]
        assert (await client.get(url)).status_code == 200
        assert (await client.get(url + "x")).status_code == 403
    download = [r for r in logs.requests() if r["method"] == "GET"]
    assert [r["path"] for r in download] == ["/exports/[redacted]"] * 2
    assert download[0]["org_id"] == org.id and download[0]["operation"] == "export.download"
    assert download[0]["status"] == 200
    assert token not in logs.text and token[:20] not in logs.text
    assert_no_personal_data(logs.text, key)


async def test_unexpected_errors_are_logged_without_their_values(
    db: Database, org: OrgInfo, logs: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(_: object) -> None:
        raise RuntimeError(f"failed for {EMAIL} named '{NAME}'")

    monkeypatch.setattr("member360.graphql.schema.organization_of", boom)
    key = await create_api_key(db, org, list(SCOPES))
    # A resolver of the Python executor fails (the compiled reads would not call it).
    settings = Settings(_env_file=None, compiled_reads=False)  # type: ignore[call-arg]
    async with app_client(db, settings) as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ organization { name } }"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.json()["errors"]
    [error] = [line for line in logs.lines() if line["level"] == "ERROR"]
    assert error["error_type"] == "RuntimeError"
    assert error["code"] == "INTERNAL_SERVER_ERROR" and error["graphql_path"] == "organization"
    assert error["operation"] == "query:organization" and error["org_id"] == org.id
    assert "failed for [email] named" in error["message"]
    assert_no_personal_data(logs.text)


async def test_insane_request_ids_are_replaced(db: Database, logs: Captured) -> None:
    async with app_client(db) as client:
        for sent in (
            "x",
            "a" * 200,
            "evil\u00e9-id-with-accent".encode("latin-1"),
            "has space in it",
        ):
            response = await client.get("/livez", headers={"X-Request-ID": sent})
            echoed = response.headers["x-request-id"]
            assert echoed != str(sent) and re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_formatter_and_config() -> None:
    record = logging.LogRecord(
        "member360.test", logging.WARNING, __file__, 1, "mail to %s failed", (EMAIL,), None
    )
    try:
        raise ValueError(f"link http://x/exports/abc.def-ghi for {EMAIL}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "mail to [email] failed"
    assert "/exports/[redacted]" in line["exception"] and EMAIL not in line["exception"]
    assert "abc.def-ghi" not in line["exception"]
    json_config = logging_config(json=True, level="INFO")
    assert json_config["formatters"]["default"]["()"] == "member360.logs.JsonFormatter"
    assert json_config["loggers"]["uvicorn.access"]["handlers"] == []
    assert logging_config(json=False, level="DEBUG")["root"]["level"] == "DEBUG"
    assert Settings(_env_file=None, env="production", secret_key="s" * 32).json_logs  # type: ignore[call-arg]
    assert not Settings(_env_file=None).json_logs  # type: ignore[call-arg]
    assert Settings(_env_file=None, log_format="JSON").json_logs  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="M360_LOG_FORMAT"):
        Settings(_env_file=None, log_format="xml")  # type: ignore[call-arg]
    assert safe_message("Variable '$n' got invalid value \"a@b.c\"") == (
        "Variable '…' got invalid value '…'"
    )


async def test_operation_name_is_the_chosen_one(db: Database, org: OrgInfo, logs: Captured) -> None:
    key = await create_api_key(db, org, ["customers:read"])
    async with app_client(db) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": "query A { me { kind } } query B { organization { name } }",
                "operationName": "B",
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200 and response.json()["data"]["organization"]
    assert [r["operation"] for r in logs.requests()] == ["B"]
