"""Alembic environment: runs on a connection handed in by member360.migrate, or on its own."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import member360.models  # noqa: F401  (registers every table on the metadata)
from member360.config import get_settings
from member360.db import ALL_ORGS, bind_org, metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        # A migration's own data changes see every row: 0005's policy honours this binding,
        # and from 0007 on the tables' owner (the role migrating) sees every row anyway.
        bind_org(connection, ALL_ORGS)
        context.run_migrations()


async def run_standalone() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(run_on)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(run_standalone())
