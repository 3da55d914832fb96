"""Production mode: no GraphiQL, no introspection, no suggestions, unexpected errors masked
(their detail only in the log), GET and non-JSON POSTs refused; and it refuses to start on
secrets anyone could know."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from member360.auth.keys import create_api_key
from member360.config import MIN_SECRET_KEY_LENGTH, Settings
from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.security.conftest import STRONG_SECRET, Api, codes, settings_for

SECRET = "db password is hunter2"
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


def test_env_is_development_or_production() -> None:
    assert settings_for("production").production
    assert not settings_for("development").production
    assert Settings(_env_file=None, env=" Production ", secret_key=STRONG_SECRET).production  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, env="prod")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "secret",
    [
        None,  # the built-in development default
        "change-me",  # .env.example's
        "change-me-in-production",  # what docker-compose.yml used to default to
        "x" * (MIN_SECRET_KEY_LENGTH - 1),
    ],
)
def test_production_refuses_a_default_or_short_secret(secret: str | None) -> None:
    values = {} if secret is None else {"secret_key": secret}
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, env="production", **values)  # type: ignore[call-arg]
    message = str(refused.value)
    assert "M360_SECRET_KEY must be at least 32" in message and MAKE_ONE in message
    # The refusal does not repeat the value it refused.
    if secret is not None and len(secret) > 12:
        assert secret not in message
    # Development keeps working without one.
    assert Settings(_env_file=None, **values).secret_key  # type: ignore[call-arg]


def test_production_accepts_a_long_random_secret() -> None:
    import secrets

    made = secrets.token_urlsafe(48)
    assert Settings(_env_file=None, env="production", secret_key=made).secret_key == made  # type: ignore[call-arg]
    assert Settings(_env_file=None, env="production", secret_key="k" * 32).production  # type: ignore[call-arg]


@pytest.mark.parametrize("password", ["member360", "member360_app", "postgres"])
@pytest.mark.parametrize("setting", ["database_url", "migration_database_url"])
def test_production_refuses_well_known_database_passwords(setting: str, password: str) -> None:
    url = f"postgresql://member360_app:{password}@db.internal:5432/member360"
    with pytest.raises(ValidationError, match=f"M360_{setting.upper()}: the password is a well"):
        Settings(_env_file=None, env="production", secret_key=STRONG_SECRET, **{setting: url})  # type: ignore[call-arg]
    # Strong, absent (trust, peer, certificates, .pgpass) and development are fine.
    for fine in (
        url.replace(password, "Zr8Q2hV0cKx4wPl7"),
        "postgresql://member360_app@db.internal/member360",
    ):
        Settings(_env_file=None, env="production", secret_key=STRONG_SECRET, **{setting: fine})  # type: ignore[call-arg]
    Settings(_env_file=None, **{setting: url})  # type: ignore[call-arg]


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"], ["worker"]])
def test_the_cli_refuses_to_start_and_says_how_to_fix_it(
    tmp_path: Path, command: list[str]
) -> None:
    env = {
        **os.environ,
        "M360_ENV": "production",
        "M360_SECRET_KEY": "change-me-in-production",
        "M360_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "member360.cli", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "refusing to start: M360_SECRET_KEY must be at least 32" in done.stderr
    assert MAKE_ONE in done.stderr
    assert "Traceback" not in done.stderr and "change-me-in-production" not in done.stderr
    assert not (tmp_path / "never.db").exists()  # refused before touching the database


async def test_no_graphiql_in_production(db: Database, prod: Api, dev: Api) -> None:
    page = await dev.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    refused = await prod.client.get("/graphql", headers={"Accept": "text/html"})
    assert refused.status_code == 405 and "GraphiQL" not in refused.text


async def test_get_is_refused_in_production(db: Database, prod: Api) -> None:
    for params in ({"query": "{ me { kind } }"}, {}):
        response = await prod.client.get("/graphql", params=params, headers=prod.auth)
        assert response.status_code == 405 and response.headers["allow"] == "POST"
        assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]
    head = await prod.client.head("/graphql", params={"query": "{ me { kind } }"})
    assert head.status_code == 405


async def test_non_json_posts_are_refused(db: Database, api: Api) -> None:
    for headers, body in (
        ({"Content-Type": "application/graphql"}, b"{ me { kind } }"),
        ({"Content-Type": "text/plain"}, b'{"query": "{ me { kind } }"}'),
        ({}, b'{"query": "{ me { kind } }"}'),
        ({"Content-Type": "Application/JSON"}, b'{"query": "{ me { kind } }"}'),
    ):
        response = await api.client.post("/graphql", content=body, headers={**api.auth, **headers})
        assert response.status_code == 415, headers
        assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]
    ok = await api.client.post(
        "/graphql",
        content=b'{"query": "{ me { kind } }"}',
        headers={**api.auth, "Content-Type": "application/json; charset=utf-8"},
    )
    assert ok.json() == {"data": {"me": {"kind": "API_KEY"}}}


async def test_a_body_that_is_no_json_object_is_refused(db: Database, api: Api) -> None:
    for body in (b"null", b"1", b'"{ me { kind } }"', b"\xff\xfe", b"query { me { kind } }"):
        response = await api.client.post(
            "/graphql", content=body, headers={**api.auth, "Content-Type": "application/json"}
        )
        assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"], body
    # Invalid UTF-8 inside an object is malformed JSON, not a server error.
    response = await api.client.post(
        "/graphql",
        content=b'{"query": "{ me { kind } }", "variables": {"x": "\xff"}}',
        headers={**api.auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ me { scope } }", {}),  # a field
        ('{ customers(serch: "a") { edges { cursor } } }', {}),  # an argument
        (
            '{ customers(search: "a") { edges { node { interactions(channel: EMAL) { edges { cursor } } } } } }',
            {},
        ),
        ("query($c: Strin) { me { kind } }", {}),  # a type
        (
            'query($c: Channel) { customers(search: "a") { edges { node { interactions(channel: $c) { edges { cursor } } } } } }',
            {"c": "EMAL"},  # an enum value in a variable: an execution-time error
        ),
        (
            "query($f: InteractionReportFilter!) { interactionReport(filter: $f) { totalCount } }",
            {"f": {"from": "2024-01-01", "to": "2024-01-02", "nam": "x"}},  # an input field
        ),
    ],
)
async def test_no_suggestions_in_production(
    db: Database, prod: Api, dev: Api, query: str, variables: dict
) -> None:
    shown = (await dev.post(query, variables)).json()
    assert "Did you mean" in str(shown["errors"]), shown
    hidden = (await prod.post(query, variables)).json()
    assert hidden["errors"] and "Did you mean" not in str(hidden["errors"]), hidden
    assert all(c in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT") for c in codes(hidden))


async def test_unexpected_errors_are_masked_and_logged(
    db: Database,
    prod: Api,
    dev: Api,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(_: object) -> None:
        raise RuntimeError(SECRET)

    async def not_compiled(_: object) -> None:
        return None

    monkeypatch.setattr("member360.graphql.schema.organization_of", boom)
    # A resolver of the Python executor fails: the compiled reads stand aside for it.
    monkeypatch.setattr("member360.reads.execute.answer", not_compiled)
    with caplog.at_level(logging.ERROR):
        masked = await prod.gql("{ me { kind } }")
    assert masked["data"] is None
    assert masked["errors"] == [
        {
            "message": "Unexpected error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["me"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert SECRET in caplog.text  # the detail is in the log, and only there
    # Development shows the detail to whoever develops against it.
    shown = await dev.gql("{ me { kind } }")
    assert shown["errors"][0]["message"] == SECRET


async def test_errors_with_a_code_are_not_masked(db: Database, org: OrgInfo, prod: Api) -> None:
    narrow = await create_api_key(db, org, ["customers:read"])
    forbidden = await prod.gql(
        '{ interactionReport(filter: {from: "2024-01-01", to: "2024-01-02"}) { totalCount } }',
        key=narrow,
    )
    assert codes(forbidden) == ["FORBIDDEN"]
    assert "reports:read" in forbidden["errors"][0]["message"]
    bad = await prod.gql('{ customer(customerId: "a", email: "b") { name } }')
    assert codes(bad) == ["BAD_USER_INPUT"]
    assert bad["errors"][0]["message"].startswith("customer: give exactly one of")
    # Limits and spec errors keep their messages too.
    assert (await prod.gql("{ me { nope } }"))["errors"][0]["message"] == (
        "Cannot query field 'nope' on type 'Viewer'."
    )


async def test_graphiql_introspection_works_in_development(db: Database, dev: Api) -> None:
    from graphql import get_introspection_query

    # As GraphiQL asks it: every option, and ofType nested 9 deep.
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    result = await dev.gql(query)
    assert "errors" not in result, result["errors"][:2]
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"
