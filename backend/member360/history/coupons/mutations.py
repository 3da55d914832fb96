"""resendCoupon: send an active coupon to its member again, by email or else by SMS."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import strawberry
from sqlalchemy import select, update

from member360 import mail
from member360.audit.log import actor_of
from member360.audit.models import AuditEvent
from member360.db import table
from member360.errors import InputError
from member360.graphql.errors import DELIVERY_FAILED, refusal
from member360.graphql.info import Info
from member360.history.coupons.tab import COUPONS_ISSUED, CouponStatus, coupon_status
from member360.history.fields import node_type, to_node

coupons = table("coupons")
customers = table("customers")
communications = table("communications")


class DeliveryError(Exception):
    pass


async def _send_sms(gateway: str, to: str, text: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(gateway, json={"to": to, "message": text})
    if response.status_code >= 300:
        raise DeliveryError(f"the SMS gateway answered {response.status_code}")


# The node type the coupon tabs show (built from their declaration).
Coupon = node_type(COUPONS_ISSUED)


@strawberry.type
class CouponMutation:
    @strawberry.mutation(
        description="Sends an active coupon to its member again (email, else SMS)."
    )
    async def resend_coupon(self, info: Info, coupon_id: strawberry.ID) -> Coupon:  # type: ignore[valid-type]
        ctx = info.context
        org_id, now = ctx.org_id, dt.datetime.now(dt.UTC)
        async with ctx.db.session(org_id) as session:
            coupon = (
                await session.execute(
                    select(coupons).where(
                        coupons.c.org_id == org_id, coupons.c.coupon_id == str(coupon_id)
                    )
                )
            ).one_or_none()
            if coupon is None:
                raise InputError(f"couponId: unknown coupon {str(coupon_id)!r}")
            status = CouponStatus(coupon_status(coupon, now))
            if status is not CouponStatus.ACTIVE:
                raise InputError(
                    f"couponId: coupon {coupon.coupon_id!r} is {status.value}; "
                    "only active coupons can be resent"
                )
            member = (
                await session.execute(
                    select(customers.c.name, customers.c.email, customers.c.mobile).where(
                        customers.c.org_id == org_id, customers.c.id == coupon.customer_id
                    )
                )
            ).one()
        expiry = (
            f" It is valid until {coupon.expires_at.astimezone(ctx.tz):%d %b %Y}."
            if coupon.expires_at
            else ""
        )
        subject = "Your coupon"
        text = f"Hello {member.name}, here is your coupon code again: {coupon.code}.{expiry}"
        try:
            if member.email:
                channel = "EMAIL"
                await mail.send_mail(ctx.settings, member.email, subject, text + "\n")
            elif member.mobile and ctx.settings.sms_gateway_url:
                channel = "SMS"
                await _send_sms(ctx.settings.sms_gateway_url, member.mobile, text)
            else:
                raise InputError(
                    "couponId: the member has no email address or mobile number to send to"
                )
        except (OSError, mail.AddressError, DeliveryError, httpx.HTTPError) as exc:
            raise refusal(f"the coupon could not be sent: {exc}", DELIVERY_FAILED) from None
        async with ctx.db.session(org_id) as session, session.begin():
            await session.execute(
                update(coupons)
                .where(coupons.c.org_id == org_id, coupons.c.id == coupon.id)
                .values(resend_count=coupons.c.resend_count + 1)
            )
            await session.execute(
                communications.insert().values(
                    org_id=org_id,
                    customer_id=coupon.customer_id,
                    message_id=f"resend-{uuid.uuid4().hex}",
                    channel=channel,
                    subject=subject if channel == "EMAIL" else None,
                    preview=f"Coupon {coupon.code} resent",
                    status="SENT",
                    account="member360",
                    sent_at=now,
                )
            )
            session.add(
                AuditEvent(
                    org_id=org_id,
                    at=now,
                    actor=actor_of(ctx.principal),
                    action="coupon.resent",
                    target=coupon.coupon_id,
                    detail={"channel": channel},
                )
            )
            fresh = (await session.execute(select(coupons).where(coupons.c.id == coupon.id))).one()
        node: Any = to_node(COUPONS_ISSUED, fresh, ctx.tz, ctx.pii, now)
        return node
