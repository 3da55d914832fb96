"""docker-compose.yml is for users (no Docker engine here): parse it and check its shape."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


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


def test_health_checks_and_shared_exports() -> None:
    services = load()["services"]
    assert "/readyz" in " ".join(services["api"]["healthcheck"]["test"])
    assert "/livez" in " ".join(services["proxy"]["healthcheck"]["test"])
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["M360_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["M360_JOB_QUEUE"] == "procrastinate"
        assert env["M360_SMTP_HOST"] == "mailpit"
        assert "exports:/data/exports" in services[name]["volumes"]
    assert "exports" in load()["volumes"]


def test_api_replicas_share_rate_limits_through_redis() -> None:
    services = load()["services"]
    assert services["api"]["environment"]["M360_REDIS_URL"] == "redis://redis:6379/0"
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "redis-cli" in " ".join(services["redis"]["healthcheck"]["test"])
    # Production logs are JSON lines.
    assert services["api"]["environment"]["M360_LOG_FORMAT"] == "json"


def test_app_connects_as_a_plain_role_and_only_migrate_holds_the_owner() -> None:
    # Tenancy in depth: row-level security binds the app's role, not the tables' owner.
    services = load()["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    app_role = services["migrate"]["environment"]["M360_APP_DB_ROLE"]
    assert app_role != owner
    migration_url = make_url(services["migrate"]["environment"]["M360_MIGRATION_DATABASE_URL"])
    assert migration_url.username == owner
    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        assert make_url(env["M360_DATABASE_URL"]).username == app_role, name
    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert "M360_MIGRATION_DATABASE_URL" not in env, f"{name} must not hold the owner's URL"
        assert owner + ":" not in " ".join(str(v) for v in env.values()), name
    # The init script creates that role, unable to bypass row-level security.
    mounted = [v.split(":")[0] for v in services["postgres"]["volumes"]]
    script = ROOT / "deploy" / "postgres" / "10-app-role.sh"
    assert "./deploy/postgres/10-app-role.sh" in mounted and script.exists()
    sql = " ".join(script.read_text().split())
    assert f"CREATE ROLE {app_role} LOGIN NOSUPERUSER NOBYPASSRLS" in sql


def test_proxy_config_points_at_the_api() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server api:8000" in conf and "proxy_pass http://member360_api" in conf
