"""Outgoing mail through the configured SMTP server, and address checks."""

from __future__ import annotations

import re
from email.message import EmailMessage

import aiosmtplib

from member360.config import Settings

# Deliberately plain: one @, no spaces or control characters, a dotted domain.
_ADDRESS = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


class AddressError(ValueError):
    pass


def check_address(address: str, field: str = "email") -> str:
    if "\r" in address or "\n" in address:
        raise AddressError(f"{field}: must not contain line breaks")
    address = address.strip()
    if len(address) > 254:  # RFC 5321's limit; the error does not echo a long value
        raise AddressError(f"{field}: at most 254 characters (got {len(address)})")
    if not _ADDRESS.match(address):
        raise AddressError(f"{field}: {address!r} is not an email address")
    return address


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = check_address(to)
    message["Subject"] = subject
    message.set_content(body)
    await aiosmtplib.send(
        message, hostname=settings.smtp_host, port=settings.smtp_port, timeout=30, start_tls=False
    )
