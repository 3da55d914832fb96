from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting comes from the environment with the M360_ prefix (see .env.example)."""

    model_config = SettingsConfigDict(env_prefix="M360_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./member360.db"
    # The tables' owner, used only to migrate (`migrate`, `serve`, `worker`); unset: database_url.
    # On PostgreSQL the app itself should connect (database_url) as a role that owns nothing, is
    # no superuser and has no BYPASSRLS, so row-level security holds it to one organization.
    migration_database_url: str | None = None
    # When set, `migrate` grants this role what the app needs on every table and sequence (after
    # each upgrade, so new tables follow). It must be the role database_url logs in as.
    app_db_role: str | None = None
    secret_key: str = "dev-only-secret-change-me"
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "member360@localhost"
    export_dir: Path = Path("./exports")
    # "development" or "production": production serves no GraphiQL, no introspection, no
    # suggestions, masks unexpected errors, refuses GET and sends HSTS.
    env: str = "development"
    # How often the ledger task expires due lots; the contract asks for at least every minute.
    expiry_interval_seconds: float = 60.0
    # Events per database transaction during an import: bigger batches amortise round trips.
    import_batch_size: int = 2000
    # Set when `member360 worker` processes run jobs, so API processes do not run them too.
    external_workers: bool = False
    # How export jobs travel: "embedded" (runners poll the job table; the default) or
    # "procrastinate" (PostgreSQL only: API processes defer, `member360 worker` runs them).
    job_queue: str = "embedded"
    # Export links stay valid this long.
    export_link_days: float = 7.0
    # Data rows per sheet before a new sheet starts (Excel's limit less the header row).
    export_sheet_rows: int = 1_048_575
    # Seconds a job runner holds a job before another may take it over (renewed while running).
    job_lease_seconds: float = 60.0
    # Seconds between job runner polls when it is idle.
    job_poll_seconds: float = 1.0
    # Attempts before a failing job ends FAILED; retries back off 2, 4, 8 … times this.
    job_max_attempts: int = 5
    job_backoff_seconds: float = 5.0
    # The built web app (`make install` builds it; the Docker image sets its own path).
    spa_dir: Path = Path(__file__).resolve().parents[2] / "frontend" / "dist"
    # Members without an email get coupon resends by SMS through this gateway (HTTP POST).
    sms_gateway_url: str | None = None

    @field_validator("env")
    @classmethod
    def _known_env(cls, env: str) -> str:
        # A typo must not quietly serve a development endpoint in production.
        value = env.strip().lower()
        if value not in ("development", "production"):
            raise ValueError("M360_ENV must be development or production")
        return value

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def migration_url(self) -> str:
        return self.migration_database_url or self.database_url

    @field_validator("app_db_role")
    @classmethod
    def _role_name(cls, role: str | None) -> str | None:
        # It is written into GRANT statements: a plain identifier only.
        if role is None or not role.strip():
            return None
        role = role.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", role):
            raise ValueError(
                "M360_APP_DB_ROLE must be a plain role name (letters, digits, underscores)"
            )
        return role

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        # Operators write the URLs they know; the app needs the async drivers.
        if url is None or not url.strip():
            return None  # an empty M360_MIGRATION_DATABASE_URL means "the same as the app's"
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
        if url.startswith("postgresql://"):
            return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
        if url.startswith("postgres://"):
            return "postgresql+asyncpg://" + url.removeprefix("postgres://")
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
