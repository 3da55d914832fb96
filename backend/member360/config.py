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
    # Rate limits (0 disables one). GraphQL requests per minute per credential (API key or
    # user) and per organization; GCRA buckets, so a client may burst a whole minute's budget.
    # The defaults sit far above a busy partner app or the load test (tens of requests/s).
    rate_limit_requests_per_minute: int = 6000
    rate_limit_org_requests_per_minute: int = 20000
    # requestExport calls per hour, per credential and per organization.
    rate_limit_exports_per_hour: int = 60
    rate_limit_org_exports_per_hour: int = 300
    # Redis shared by the API processes for rate limits (redis://host:6379/0); unset: each
    # process keeps its own budgets.
    redis_url: str | None = None
    # Log lines: "json" (one object per line) or "text"; unset: json in production, text in
    # development.
    log_format: str | None = None
    log_level: str = "INFO"
    # Largest request body (bytes) any route reads; larger ones get 413 before parsing. The
    # biggest legitimate body is an ingestEvents batch: 5,000 events (its maximum) of about 230
    # bytes each (the demo program's average; its largest type is about 420) make 1.1-2.1 MB,
    # so 4 MiB leaves room for longer texts and pretty-printed JSON.
    max_body_bytes: int = 4 * 1024 * 1024

    # Failed sign-ins before an account (or a client address, across accounts) is locked out
    # for `login_lockout_seconds`; the counts are kept in the database for every process.
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 50
    login_lockout_seconds: int = 900
    # A web-app session ends this many hours after sign-in.
    session_hours: float = 12.0
    # Session cookies are marked Secure (HTTPS only) in production or when PUBLIC_URL is https.
    cookie_secure: bool | None = None

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _unset_is_none(cls, value: object) -> object:
        # `M360_COOKIE_SECURE=` (as .env.example has it) means "decide from the environment".
        return None if value == "" else value

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
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.production or self.public_url.startswith("https://")

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().lower()
        if value not in ("json", "text"):
            raise ValueError("M360_LOG_FORMAT must be json or text")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("M360_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @field_validator(
        "rate_limit_requests_per_minute",
        "rate_limit_org_requests_per_minute",
        "rate_limit_exports_per_hour",
        "rate_limit_org_exports_per_hour",
    )
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("rate limits must be 0 (off) or positive")
        return value

    @field_validator("max_body_bytes")
    @classmethod
    def _sane_body_limit(cls, value: int) -> int:
        if value < 64 * 1024:
            # A smaller cap would refuse ordinary GraphQL documents and sign-ins.
            raise ValueError("M360_MAX_BODY_BYTES must be at least 65536")
        return value

    @field_validator("redis_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @property
    def json_logs(self) -> bool:
        return (self.log_format or ("json" if self.production else "text")) == "json"

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
