"""Brings a database to the newest schema (used by `serve`, `worker`, the CLI and tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from member360.db import Database

INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(INI))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    # "heads": independent branches (e.g. report indexes, export tables) all apply.
    command.upgrade(cfg, "heads")


async def migrate(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)
    # New indexes (and a database imported by an older version) need statistics on SQLite.
    await db.refresh_statistics()
