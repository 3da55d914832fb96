"""resendCoupon: active coupons only, by email (else SMS), counted, recorded, audited."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from member360.audit.models import AuditEvent
from member360.auth.keys import create_api_key
from member360.config import Settings
from member360.db import Database
from member360.orgs.service import OrgInfo
from tests.exports.conftest import Api, Mailbox, free_port
from tests.factories import at, event, ingest_ok, make_customer

RESEND = "mutation($id: ID!) { resendCoupon(couponId: $id) { couponId code status resendCount } }"
INTERACTIONS = '{ customer(customerId: "%s") { interactions(first: 5) { edges { node { channel status preview account } } } } }'


@pytest.fixture
def sms_gateway() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/sms", received
    finally:
        server.shutdown()
        server.server_close()


async def seed(db: Database, org: OrgInfo) -> None:
    await ingest_ok(
        db,
        org,
        make_customer("c1", when=at(0), name="Asha Rao", email="asha@example.com"),
        make_customer("c2", when=at(0), name="No Mail", email=None, mobile="+919812345678"),
        event(
            "coupon.issued",
            when=at(1),
            couponId="CP1",
            code="SAVE-10",
            customerId="c1",
            expiresAt=at(200),
        ),
        event(
            "coupon.issued",
            when=at(1),
            couponId="CP2",
            code="SAVE-20",
            customerId="c1",
            expiresAt=at(200),
        ),
        event("coupon.redeemed", when=at(2), couponId="CP2", orderId="O1"),
        event(
            "coupon.issued",
            when=at(1),
            couponId="CP3",
            code="OLD",
            customerId="c1",
            expiresAt=at(5),
        ),
        event(
            "coupon.issued",
            when=at(1),
            couponId="CP4",
            code="SMS-4",
            customerId="c2",
            expiresAt=at(200),
        ),
    )


async def test_resend_by_email(
    db: Database, org: OrgInfo, api: Api, mailbox: tuple[Mailbox, int]
) -> None:
    await seed(db, org)
    result = (await api(RESEND, id="CP1"))["data"]["resendCoupon"]
    assert result == {"couponId": "CP1", "code": "SAVE-10", "status": "ACTIVE", "resendCount": 1}
    box, _ = mailbox
    assert len(box.messages) == 1 and box.messages[0]["To"] == "asha@example.com"
    assert "SAVE-10" in box.messages[0].get_payload(decode=True).decode()
    sent = (await api(INTERACTIONS % "c1"))["data"]["customer"]["interactions"]["edges"][0]["node"]
    assert sent == {
        "channel": "EMAIL",
        "status": "SENT",
        "preview": "Coupon SAVE-10 resent",
        "account": "member360",
    }
    assert (await api(RESEND, id="CP1"))["data"]["resendCoupon"]["resendCount"] == 2
    async with db.session(org.id) as session:
        audit = (
            (
                await session.execute(
                    select(AuditEvent).where(
                        AuditEvent.org_id == org.id, AuditEvent.action == "coupon.resent"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert [a.target for a in audit] == ["CP1", "CP1"]


async def test_only_active_coupons(
    db: Database, org: OrgInfo, api: Api, mailbox: tuple[Mailbox, int]
) -> None:
    await seed(db, org)
    for coupon, state in (("CP2", "REDEEMED"), ("CP3", "EXPIRED")):
        result = await api(RESEND, id=coupon)
        assert (
            result["errors"][0]["message"]
            == f"couponId: coupon '{coupon}' is {state}; only active coupons can be resent"
        )
    assert "unknown coupon" in (await api(RESEND, id="nope"))["errors"][0]["message"]
    assert mailbox[0].messages == []


async def test_member_without_email_gets_an_sms(
    db: Database,
    org: OrgInfo,
    api: Api,
    export_settings: Settings,
    sms_gateway: tuple[str, list[dict[str, Any]]],
) -> None:
    await seed(db, org)
    url, received = sms_gateway
    export_settings.sms_gateway_url = url  # the app reads the same settings object
    result = (await api(RESEND, id="CP4"))["data"]["resendCoupon"]
    assert result["resendCount"] == 1
    assert received == [{"to": "+919812345678", "message": received[0]["message"]}]
    assert "SMS-4" in received[0]["message"]
    node = (await api(INTERACTIONS % "c2"))["data"]["customer"]["interactions"]["edges"][0]["node"]
    assert node["channel"] == "SMS"


async def test_resend_needs_the_coupons_scope(db: Database, org: OrgInfo, api: Api) -> None:
    await seed(db, org)
    key = await create_api_key(db, org, ["customers:read"])
    assert (await api(RESEND, key=key, id="CP1"))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
