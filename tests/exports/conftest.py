"""A real SMTP server (aiosmtpd) on a free loopback port, and settings pointing at it."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from member360.app import create_app
from member360.auth.keys import SCOPES, create_api_key
from member360.config import Settings
from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.conftest import cli_env


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    # While cleared, the server holds every message before accepting it (a slow or hung relay).
    gate: threading.Event | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.gate is not None:
            # Before any message content arrives: a client killed here delivers nothing.
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def export_settings(mailbox: tuple[Mailbox, int], tmp_path: Path, db: Any) -> Settings:
    _, port = mailbox
    return Settings(
        database_url=db.url,
        # PostgreSQL: worker processes migrate as the owner and run as the app role.
        migration_database_url=cli_env(db).get("M360_MIGRATION_DATABASE_URL"),
        app_db_role=cli_env(db).get("M360_APP_DB_ROLE"),
        secret_key="test-secret",
        public_url="http://member360.test",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="exports@member360.test",
        export_dir=tmp_path / "exports",
        job_lease_seconds=30,
        job_poll_seconds=0.05,
        job_backoff_seconds=0.05,
        job_max_attempts=3,
    )


class Api:
    def __init__(self, client: httpx.AsyncClient, key: str) -> None:
        self.client = client
        self.key = key

    async def __call__(
        self, query: str, key: str | None = None, **variables: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key or self.key}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest_asyncio.fixture(loop_scope="session")
async def api(db: Database, org: OrgInfo, export_settings: Settings) -> AsyncIterator[Api]:
    app = create_app(export_settings, db=db, background=False)
    key = await create_api_key(db, org, list(SCOPES))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://member360.test"
    ) as client:
        yield Api(client, key)
