from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting comes from the environment with the M360_ prefix (see .env.example)."""

    model_config = SettingsConfigDict(env_prefix="M360_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./member360.db"
    secret_key: str = "dev-only-secret-change-me"
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "member360@localhost"
    export_dir: Path = Path("./exports")
    env: str = "development"
    # How often the ledger task expires due lots; the contract asks for at least every minute.
    expiry_interval_seconds: float = 60.0
    # Events per database transaction during an import: bigger batches amortise round trips.
    import_batch_size: int = 2000
    # Set when `member360 worker` processes run jobs, so API processes do not run them too.
    external_workers: bool = False

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        # Operators write the URLs they know; the app needs the async drivers.
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
