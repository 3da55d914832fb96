"""The web app end to end: a real server on a seeded SQLite database, driven by Chromium.

Given a fresh database seeded through the CLI (`org create`, `import`), an ADMIN and an AGENT
user (`seed_users`) and a real SMTP server, when frontend/e2e/run.mjs signs in on the login page
as the ADMIN and walks the app (search -> member page -> every tab -> breakup -> resend -> a tab's
workbook; the report with filters -> Excel request; a deep link reloaded; sign out), then signs
in as the AGENT (a member page opens; no Reports in the navigation; the report's deep link is
refused), then every step passes, the workbook it downloaded opens, and the mails it caused
arrived. The script writes the README's screenshots to docs/screenshots.

Needs the built SPA (`npm ci && npm run build` in frontend/) and Debian's chromium
(/usr/bin/chromium or $M360_E2E_CHROMIUM). M360_SKIP_E2E=1 skips it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from member360.demo_events import write_jsonl
from tests.e2e.seed import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    ZARA_EMAIL,
    e2e_events,
    seed_users,
)

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("M360_E2E_CHROMIUM", "/usr/bin/chromium")
REPORT_EMAIL = "reports-admin@e2e.example"

pytestmark = pytest.mark.skipif(os.environ.get("M360_SKIP_E2E") == "1", reason="M360_SKIP_E2E=1")


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in str(m.get("To", ""))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(
        str(p.get_payload(decode=True).decode(errors="replace"))  # type: ignore[union-attr]
        for p in parts
        if p.get_content_maintype() == "text"
    )


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


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "member360"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"member360 {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def wait_until_live(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/livez", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    pytest.fail(f"the server did not come up:\n{log.read_text(errors='replace')}")


def test_web_app_end_to_end(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> None:
    for needed, how in (
        (FRONTEND / "dist" / "index.html", "run `npm ci && npm run build` in frontend/"),
        (FRONTEND / "node_modules" / "playwright-core", "run `npm ci` in frontend/"),
        (Path(CHROMIUM), "install Debian's chromium: `apt-get install -y chromium`"),
    ):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: {how}")
    node = shutil.which("node")
    assert node, "node is not on PATH"

    # Given: a fresh database, seeded only through the CLI.
    box, smtp_port = mailbox
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "M360_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "M360_EXPORT_DIR": str(tmp_path / "exports"),
        "M360_PUBLIC_URL": url,
        "M360_SECRET_KEY": "e2e-secret",
        "M360_SMTP_HOST": "127.0.0.1",
        "M360_SMTP_PORT": str(smtp_port),
        "M360_SMTP_FROM": "member360@e2e.example",
        "M360_JOB_POLL_SECONDS": "0.2",
        "M360_JOB_QUEUE": "embedded",
        "M360_EXTERNAL_WORKERS": "false",
        "PYTHONPATH": str(ROOT),
    }
    events = tmp_path / "events.jsonl"
    write_jsonl(events, e2e_events(dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)))
    run_cli(
        env, tmp_path, "org", "create", "e2e", "--name", "E2E Loyalty",
        "--time-zone", "Asia/Kolkata", "--hierarchy", "--surveys",
        "--extended-attributes",
        "SENDER_ID,RECEIVER_ID,PHONE_NUMBER,USER_ROLE,STORE_ID,STORE_NAME,STORE_REGION,STORE_TYPE",
    )  # fmt: skip
    run_cli(env, tmp_path, "import", str(events), "--org", "e2e")
    asyncio.run(seed_users(env["M360_DATABASE_URL"], "e2e"))

    command = [str(BIN / "member360"), "serve", "--port", str(port)]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=out, stderr=out)
    try:
        wait_until_live(url, server, log)

        # When: the browser walks the app.
        artifacts = tmp_path / "artifacts"
        artifacts.mkdir()
        run = subprocess.run(
            [node, str(FRONTEND / "e2e" / "run.mjs")],
            env={
                **os.environ,
                "E2E_BASE_URL": url,
                "E2E_ADMIN_EMAIL": ADMIN_EMAIL,
                "E2E_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "E2E_AGENT_EMAIL": AGENT_EMAIL,
                "E2E_AGENT_PASSWORD": AGENT_PASSWORD,
                "E2E_CHROMIUM": CHROMIUM,
                "E2E_ARTIFACTS": str(artifacts),
                "E2E_SCREENSHOTS": str(ROOT / "docs" / "screenshots"),
                "E2E_REPORT_EMAIL": REPORT_EMAIL,
            },
            cwd=FRONTEND,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        print(run.stdout)
        assert run.returncode == 0, (
            f"the browser run failed (artifacts in {artifacts}):\n{run.stdout}\n{run.stderr}\n"
            f"server log:\n{log.read_text(errors='replace')[-4000:]}"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    # Then: the workbook it downloaded opens, with the tab's header and rows.
    import openpyxl

    workbooks = sorted(artifacts.glob("*.xlsx"))
    assert workbooks, "no workbook was downloaded"
    book = openpyxl.load_workbook(workbooks[0], read_only=True)
    try:
        assert "Data" in book.sheetnames, book.sheetnames
        rows = list(book["Data"].iter_rows(values_only=True))
    finally:
        book.close()
    assert len(rows) >= 2 and "Date" in [str(c) for c in rows[0]], rows[:3]

    # ...the coupon went to Zara again, and the report's link to the address typed in.
    assert any("ZARA-ACTIVE-10" in body(m) for m in box.to(ZARA_EMAIL)), [
        (m["To"], m["Subject"]) for m in box.messages
    ]
    report_mails = box.to(REPORT_EMAIL)
    assert report_mails, [(m["To"], m["Subject"]) for m in box.messages]
    assert f"{url}/exports/" in body(report_mails[-1])
