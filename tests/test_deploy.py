"""docker-compose.yml is for users (no Docker engine here): parse it and check it against the code.

Every service's health check, every M360_* name against the settings, the values against the
settings' own validation (in production), the proxy in front of the API and the secrets: none
has a default, each must be given.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from member360.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
MEMBER360_SERVICES = ("migrate", "api", "worker")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
# What an operator puts in .env (the passwords URL-safe, as the file's header says).
GIVEN = {
    "M360_SECRET_KEY": "Qk3vVv1mZ0c7F9yq2pX6sJ8bR4nT5wLh_0aEoUiYgBd",
    "POSTGRES_PASSWORD": "owner-4f9c1e27b8d3",
    "APP_DB_PASSWORD": "app-8a2d5c0e9f71",
}


def load() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def interpolate(value: str, given: dict[str, str]) -> str:
    """What `docker compose` makes of a value; a missing required variable fails the test."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in given:
            return given[name]
        if op in (":-", "-"):
            return str(arg)
        pytest.fail(f"{name} is required by docker-compose.yml: {arg}")

    return INTERPOLATION.sub(one, value)


def environment(service: str, given: dict[str, str] = GIVEN) -> dict[str, str]:
    env = load()["services"][service].get("environment") or {}
    return {name: interpolate(str(value), given) for name, value in env.items()}


def as_settings(env: dict[str, str]) -> Settings:
    values = {k.removeprefix("M360_").lower(): v for k, v in env.items() if k.startswith("M360_")}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_services_and_commands() -> None:
    services = load()["services"]
    assert set(services) >= {"postgres", "mailpit", "migrate", "api", "worker", "proxy", "redis"}
    assert services["migrate"]["command"] == ["member360", "migrate"]
    assert services["api"]["command"][:2] == ["member360", "serve"]
    assert services["worker"]["command"] == ["member360", "worker"]
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("api", "worker"):
        assert services[name].get("restart") == "unless-stopped", f"{name}: restart policy"


def test_migrations_run_once_before_api_and_workers() -> None:
    services = load()["services"]
    for name in ("api", "worker"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_every_long_running_service_has_a_health_check_that_can_work() -> None:
    services = load()["services"]
    for name, service in services.items():
        if service.get("restart") == "no":
            continue  # migrate: runs once, its exit status is its health
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: no health check"
        command = " ".join(test[1:])
        # busybox wget (nginx, mailpit) resolves localhost to ::1 first, where nothing listens.
        assert "localhost" not in command, f"{name}: {command}"
        for url in re.findall(r"https?://[^\s'\"]+", command):
            assert url.startswith("http://127.0.0.1"), f"{name}: {url}"
    assert "http://127.0.0.1:8000/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["proxy"]["healthcheck"]["test"][-1] == "http://127.0.0.1/livez"
    assert services["mailpit"]["healthcheck"]["test"][-1] == "http://127.0.0.1:8025/livez"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "redis-cli" in " ".join(services["redis"]["healthcheck"]["test"])


def test_the_worker_health_check_is_a_real_command(tmp_path: Path) -> None:
    check = load()["services"]["worker"]["healthcheck"]
    assert check["test"][:3] == ["CMD", "member360", "worker"]
    assert check.get("start_period"), "the worker migrates before its first beat"
    # The very command, the installed script: with no worker beating here it fails, saying why.
    script = Path(sys.executable).with_name(check["test"][1])
    env = {
        **os.environ,
        **environment("worker"),
        "M360_WORKER_HEARTBEAT_FILE": str(tmp_path / "none"),
    }
    done = subprocess.run(
        [str(script), *check["test"][2:]], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, done.stderr
    assert "unhealthy: no heartbeat" in done.stderr


def test_every_m360_name_is_a_setting() -> None:
    settings = {f"M360_{name.upper()}" for name in Settings.model_fields}
    text = COMPOSE.read_text()
    used = set(re.findall(r"\b(M360_[A-Z0-9_]+)\s*:", text))  # environment keys
    used |= {m["name"] for m in INTERPOLATION.finditer(text) if m["name"].startswith("M360_")}
    assert used, "no M360_ names found"
    assert used <= settings, f"not settings: {sorted(used - settings)}"


@pytest.mark.parametrize("service", MEMBER360_SERVICES)
def test_each_services_environment_is_valid_in_production(service: str) -> None:
    settings = as_settings(environment(service))
    assert settings.production and settings.json_logs
    assert settings.job_queue == "procrastinate" and settings.external_workers
    assert settings.redis_url == "redis://redis:6379/0" and settings.smtp_host == "mailpit"
    assert make_url(settings.database_url).password == GIVEN["APP_DB_PASSWORD"]
    assert "exports:/data/exports" in load()["services"][service]["volumes"]
    assert str(settings.export_dir) == "/data/exports"


def test_cookies_follow_the_public_url() -> None:
    env = load()["x-member360"]["environment"]
    assert env.get("M360_COOKIE_SECURE", "auto") == "auto"
    # The default public URL is plain http: cookies must not be Secure, or browsers drop them
    # and every request after sign-in gets 401.
    plain = as_settings(environment("api"))
    assert plain.public_url.startswith("http://") and not plain.secure_cookies
    behind_tls = as_settings(
        environment("api", {**GIVEN, "M360_PUBLIC_URL": "https://member360.example.com"})
    )
    assert behind_tls.secure_cookies


def test_the_api_trusts_only_nginx_and_is_reached_only_through_it() -> None:
    compose = load()
    services = compose["services"]
    proxy_address = services["proxy"]["networks"]["edge"]["ipv4_address"]
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    api = as_settings(environment("api"))
    assert api.trusted_proxy_networks == [proxy_address]
    assert set(services["api"]["networks"]) == {"default", "edge"}
    assert "ports" not in services["api"], "clients must not reach the API around nginx"
    on_edge = {name for name, s in services.items() if "edge" in (s.get("networks") or {})}
    assert on_edge == {"api", "proxy"}
    for name in ("migrate", "worker"):
        assert "M360_TRUSTED_PROXIES" not in services[name]["environment"], name
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf


def test_no_secret_has_a_default() -> None:
    text = COMPOSE.read_text()
    references = list(INTERPOLATION.finditer(text))
    secret_names = {m["name"] for m in references if re.search("PASSWORD|SECRET", m["name"])}
    assert secret_names == {"M360_SECRET_KEY", "POSTGRES_PASSWORD", "APP_DB_PASSWORD"}
    for match in references:
        if match["name"] in secret_names:
            assert match["op"] == ":?", f"{match[0]}: a secret must be required, not defaulted"
    # Nowhere a literal: not in a URL, not as POSTGRES_PASSWORD or M360_SECRET_KEY.
    services = load()["services"]
    raw = {**load()["x-member360"]["environment"]}
    for service in services.values():
        raw.update(service.get("environment") or {})
    for name, value in raw.items():
        value = str(value)
        if "://" in value and "@" in value:
            password = make_url(INTERPOLATION.sub("REF", value)).password
            assert password in (None, "REF"), f"{name}: a literal password in its URL"
        if re.search("PASSWORD|SECRET", name):
            assert INTERPOLATION.fullmatch(value), f"{name}: must come from a variable"
    # Without them compose refuses to start (and says which one is missing).
    for name in GIVEN:
        missing = {k: v for k, v in GIVEN.items() if k != name}
        with pytest.raises(pytest.fail.Exception, match=f"{name} is required"):
            for service in (*MEMBER360_SERVICES, "postgres"):
                environment(service, missing)


def test_the_app_role_is_made_by_migrate_and_only_migrate_holds_the_owner() -> None:
    services = load()["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    migrate = as_settings(environment("migrate"))
    assert migrate.app_db_role and migrate.app_db_role != owner
    assert make_url(migrate.migration_url).username == owner
    # migrate gets the app role's password through the app's URL, so it creates the role.
    from member360.migrate import app_role_password

    assert app_role_password(migrate) == GIVEN["APP_DB_PASSWORD"]
    for name in MEMBER360_SERVICES:
        assert make_url(as_settings(environment(name)).database_url).username == migrate.app_db_role
    for name in ("api", "worker"):
        env = environment(name)
        assert "M360_MIGRATION_DATABASE_URL" not in env, f"{name} must not hold the owner's URL"
        assert GIVEN["POSTGRES_PASSWORD"] not in " ".join(env.values()), name
    # No init script: it would run only on an empty volume.
    volumes = " ".join(services["postgres"].get("volumes", []))
    assert "docker-entrypoint-initdb.d" not in volumes


def test_the_proxy_image_supports_resolve_in_upstreams() -> None:
    image = load()["services"]["proxy"]["image"]
    match = re.fullmatch(r"nginx:(\d+)\.(\d+)(?:\.(\d+))?(-alpine)?", image)
    assert match, f"pin nginx to a version, not {image!r}"
    version = (int(match[1]), int(match[2]), int(match[3] or 0))
    # `server … resolve` came to open-source nginx in 1.27.3; a minor pin gets its newest patch.
    assert version >= (1, 27, 3) or (match[3] is None and version[:2] > (1, 27)), image
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"server api:8000 resolve;", conf) and "zone member360_api" in conf
    assert "proxy_pass http://member360_api" in conf
