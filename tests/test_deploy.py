"""docker-compose.yml is for users (no Docker engine here): parse it and check its shape."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_commands() -> None:
    services = load()["services"]
    assert set(services) >= {"postgres", "mailpit", "migrate", "api", "worker", "proxy"}
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


def test_proxy_config_points_at_the_api() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server api:8000" in conf and "proxy_pass http://member360_api" in conf
