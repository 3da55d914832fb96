from __future__ import annotations

import ipaddress
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Export links and session throttles are signed with the secret: in production it must be long
# and random, never a value that ships with this project.
MIN_SECRET_KEY_LENGTH = 32
DEVELOPMENT_SECRET_KEY = "dev-only-secret-change-me"
KNOWN_SECRET_KEYS = frozenset(
    {DEVELOPMENT_SECRET_KEY, "change-me", "change-me-in-production", "changeme", "secret"}
)
MAKE_SECRET_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Database passwords an attacker tries first, the ones earlier docker-compose files shipped
# among them (a data volume made then still has them).
KNOWN_DATABASE_PASSWORDS = frozenset(
    {"member360", "member360_app", "postgres", "password", "change-me", "changeme", "secret"}
)


class Settings(BaseSettings):
    """Every setting comes from the environment with the M360_ prefix (see .env.example)."""

    # hide_input_in_errors: a refused setting's message must not print the secret beside it.
    model_config = SettingsConfigDict(
        env_prefix="M360_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = "sqlite+aiosqlite:///./member360.db"
    # The tables' owner, used only to migrate (`migrate`, `serve`, `worker`); unset: database_url.
    # On PostgreSQL the app itself should connect (database_url) as a role that owns nothing, is
    # no superuser and has no BYPASSRLS, so row-level security holds it to one organization.
    migration_database_url: str | None = None
    # When set, `migrate` grants this role what the app needs on every table and sequence (after
    # each upgrade, so new tables follow). It must be the role database_url logs in as.
    app_db_role: str | None = None
    # Refused in production unless at least MIN_SECRET_KEY_LENGTH characters and no known default.
    secret_key: str = DEVELOPMENT_SECRET_KEY
    # The address people and mail links reach the app at; its scheme decides Secure cookies.
    public_url: str = "http://127.0.0.1:8000"
    # Reverse proxies (IPs or CIDR networks, comma-separated) whose X-Forwarded-For names the
    # client; empty: none, the connection's peer is the client (sign-in lockouts, audit, logs).
    trusted_proxies: str = ""
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
    # Reads the planner can answer run as one SQL statement building the JSON (member360.reads);
    # false: every request runs on the Python executor (the reference), e.g. to compare.
    compiled_reads: bool = True
    # Set when `member360 worker` processes run jobs, so API processes do not run them too.
    external_workers: bool = False
    # `member360 worker` writes this file after each database round trip, every
    # worker_heartbeat_seconds; `member360 worker --check` (a health check) reads it.
    worker_heartbeat_file: Path = Path(tempfile.gettempdir()) / "member360-worker.heartbeat"
    worker_heartbeat_seconds: float = 10.0
    # How export jobs travel: "embedded" (runners poll the job table; the default) or
    # "procrastinate" (PostgreSQL only: API processes defer, `member360 worker` runs them).
    job_queue: str = "embedded"
    # Export links stay valid this long.
    export_link_days: float = 7.0
    # Data rows per sheet before a new sheet starts (Excel's limit less the header row).
    export_sheet_rows: int = 1_048_575
    # Seconds a job runner holds a job before another may take it over (renewed while running).
    # procrastinate workers pace their heartbeats (1/6) and take-over sweeps (1/2) from it.
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
    # Session cookies marked Secure (sent over HTTPS only): "auto" (the default) when
    # public_url is https, or "true" / "false".
    cookie_secure: str = "auto"

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _cookie_secure(cls, value: object) -> str:
        text = str(value).strip().lower() if value is not None else ""
        if text in ("", "auto"):
            return "auto"  # `M360_COOKIE_SECURE=` too
        if text in ("true", "1", "yes", "on"):
            return "true"
        if text in ("false", "0", "no", "off"):
            return "false"
        raise ValueError("M360_COOKIE_SECURE must be auto, true or false")

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, url: str) -> str:
        # Mail links are built from it and the cookie flag follows its scheme.
        url = url.strip()
        if not re.match(r"^https?://[^/\s]+", url, re.IGNORECASE):
            raise ValueError(
                "M360_PUBLIC_URL must be an absolute http:// or https:// URL, "
                "e.g. https://member360.example.com"
            )
        return url

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        networks = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                # strict=False: 10.0.0.1/8 means 10.0.0.0/8, as an operator would mean it.
                network = ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(
                    f"M360_TRUSTED_PROXIES: {item!r} is not an IP address or a CIDR network "
                    "(e.g. 10.0.0.5 or 172.16.0.0/12)"
                ) from None
            one = network.num_addresses == 1
            networks.append(str(network.network_address if one else network))
        return ",".join(networks)

    @property
    def trusted_proxy_networks(self) -> list[str]:
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @field_validator("worker_heartbeat_seconds")
    @classmethod
    def _positive_interval(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("M360_WORKER_HEARTBEAT_SECONDS must be positive")
        return value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        # A production process refuses to start on secrets anyone could know.
        if not self.production:
            return self
        if self.secret_key in KNOWN_SECRET_KEYS or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"M360_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters in "
                "production (it signs export links and sign-in throttles) and none of the "
                f"examples; make one with: {MAKE_SECRET_KEY}"
            )
        for name, url in (
            ("M360_DATABASE_URL", self.database_url),
            ("M360_MIGRATION_DATABASE_URL", self.migration_database_url),
        ):
            if url is not None and _password_of(url) in KNOWN_DATABASE_PASSWORDS:
                raise ValueError(
                    f"{name}: the password is a well-known default; give the role a strong one "
                    "(ALTER ROLE ... PASSWORD ...) and put it in the URL"
                )
        return self

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
        # A browser drops Secure cookies that arrive over plain HTTP (except on localhost), so
        # the flag follows the scheme people actually use, whatever M360_ENV says.
        if self.cookie_secure == "auto":
            return self.public_url.lower().startswith("https://")
        return self.cookie_secure == "true"

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


def _password_of(url: str) -> str | None:
    try:
        return make_url(url).password  # type: ignore[no-any-return]
    except ArgumentError:
        return None  # not a URL SQLAlchemy reads: the engine will say so


@lru_cache
def get_settings() -> Settings:
    return Settings()
