"""Creating and finding organizations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from member360.db import Database, rebind
from member360.orgs.models import BUILTIN_ACTIONS, EXTENDED_ATTRIBUTES, Action, Organization


@dataclass(frozen=True)
class OrgInfo:
    """What request handling and the ledger need of an organization, loaded once."""

    id: int
    slug: str
    name: str
    time_zone: str
    hierarchy: bool
    surveys: bool
    extended_attributes: tuple[str, ...]
    default_validity_days: int

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_row(cls, org: Organization) -> OrgInfo:
        assert org.id is not None
        return cls(
            id=org.id,
            slug=org.slug,
            name=org.name,
            time_zone=org.time_zone,
            hierarchy=org.hierarchy,
            surveys=org.surveys,
            extended_attributes=tuple(org.extended_attributes or ()),
            default_validity_days=org.default_validity_days,
        )


class OrgError(ValueError):
    pass


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise OrgError(f"time zone {name!r} is not an IANA time zone name") from None
    return name


async def create_org(
    db: Database,
    slug: str,
    *,
    name: str,
    time_zone: str,
    hierarchy: bool = False,
    surveys: bool = False,
    extended_attributes: list[str] | None = None,
) -> OrgInfo:
    check_time_zone(time_zone)
    attrs = [a.strip().upper() for a in (extended_attributes or []) if a.strip()]
    unknown = [a for a in attrs if a not in EXTENDED_ATTRIBUTES]
    if unknown:
        raise OrgError(
            f"extended attribute {unknown[0]!r} is not one of {', '.join(EXTENDED_ATTRIBUTES)}"
        )
    async with db.session(None) as session, session.begin():
        taken = await session.scalar(select(Organization.id).where(Organization.slug == slug))
        if taken is not None:
            raise OrgError(f"organization {slug!r} already exists")
        org = Organization(
            slug=slug,
            name=name,
            time_zone=time_zone,
            hierarchy=hierarchy,
            surveys=surveys,
            extended_attributes=attrs,
            created_at=dt.datetime.now(dt.UTC),
        )
        session.add(org)
        await session.flush()
        assert org.id is not None
        # The new organization's own rows follow in the same transaction (and under RLS).
        await rebind(session, org.id)
        session.add_all(
            Action(org_id=org.id, action_id=action_id, name=action_name)
            for action_id, action_name in BUILTIN_ACTIONS.items()
        )
    return OrgInfo.from_row(org)


async def get_org(db: Database, *, slug: str | None = None, org_id: int | None = None) -> OrgInfo:
    async with db.session(None) as session:
        stmt = select(Organization)
        stmt = (
            stmt.where(Organization.slug == slug) if slug else stmt.where(Organization.id == org_id)
        )
        org = (await session.execute(stmt)).scalar_one_or_none()
    if org is None:
        raise OrgError(f"organization {slug or org_id!r} does not exist")
    return OrgInfo.from_row(org)
