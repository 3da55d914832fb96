"""Signed, expiring download links: they carry the job's random id and its org, nothing personal."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from member360.config import Settings

SALT = "member360.export-link"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


@dataclass(frozen=True)
class LinkTarget:
    job_public_id: str
    org_id: int


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def make_token(settings: Settings, job_public_id: str, org_id: int) -> str:
    return str(_serializer(settings).dumps({"j": job_public_id, "o": org_id}))


def download_url(settings: Settings, job_public_id: str, org_id: int) -> str:
    return (
        f"{settings.public_url.rstrip('/')}/exports/{make_token(settings, job_public_id, org_id)}"
    )


def read_token(settings: Settings, token: str) -> LinkTarget:
    max_age = int(settings.export_link_days * 86400)
    try:
        data = _serializer(settings).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkExpired from None
    except BadSignature:
        raise LinkInvalid from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("j"), str)
        or not isinstance(data.get("o"), int)
    ):
        raise LinkInvalid
    return LinkTarget(job_public_id=data["j"], org_id=data["o"])
