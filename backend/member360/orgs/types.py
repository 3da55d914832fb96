from __future__ import annotations

import strawberry
from sqlalchemy import select

from member360.db import table
from member360.reports.interactions import distinct_sources


@strawberry.type
class Features:
    hierarchy: bool = strawberry.field(
        description="Members belong to groups (the report's Group Points)."
    )
    surveys: bool
    extended_attributes: list[str]


@strawberry.type
class Action:
    id: int
    name: str


@strawberry.type
class Store:
    store_id: str
    name: str
    region: str | None
    store_type: str | None


@strawberry.type
class Campaign:
    campaign_id: str
    name: str


@strawberry.type
class Organization:
    slug: str
    name: str
    time_zone: str
    features: Features

    @strawberry.field(description="The action catalog, for the report's action drop-down.")
    async def actions(self, info: strawberry.Info) -> list[Action]:
        t = table("actions")
        async with info.context.db.session(info.context.org_id) as s:
            rows = await s.execute(
                select(t.c.action_id, t.c.name)
                .where(t.c.org_id == info.context.org_id)
                .order_by(t.c.action_id)
            )
            return [Action(id=r.action_id, name=r.name) for r in rows]

    @strawberry.field
    async def stores(self, info: strawberry.Info) -> list[Store]:
        t = table("stores")
        async with info.context.db.session(info.context.org_id) as s:
            rows = await s.execute(
                select(t).where(t.c.org_id == info.context.org_id).order_by(t.c.store_id)
            )
            return [
                Store(store_id=r.store_id, name=r.name, region=r.region, store_type=r.store_type)
                for r in rows
            ]

    @strawberry.field(
        description="Distinct sources of the organization's points activities (the report's "
        "source drop-down). Needs reports:read: null with a FORBIDDEN error without it."
    )
    async def sources(self, info: strawberry.Info) -> list[str] | None:
        return await distinct_sources(info.context.db, info.context.org_id)

    @strawberry.field
    async def campaigns(self, info: strawberry.Info) -> list[Campaign]:
        t = table("campaigns")
        async with info.context.db.session(info.context.org_id) as s:
            rows = await s.execute(
                select(t).where(t.c.org_id == info.context.org_id).order_by(t.c.campaign_id)
            )
            return [Campaign(campaign_id=r.campaign_id, name=r.name) for r in rows]


@strawberry.type
class Viewer:
    organization: Organization
    scopes: list[str]
    kind: str = strawberry.field(description="API_KEY or USER.")
    email: str | None = None
    role: str | None = strawberry.field(
        default=None, description="ADMIN or AGENT for a signed-in user; null for an API key."
    )


def organization_of(info: strawberry.Info) -> Organization:
    org = info.context.principal.org
    return Organization(
        slug=org.slug,
        name=org.name,
        time_zone=org.time_zone,
        features=Features(
            hierarchy=org.hierarchy,
            surveys=org.surveys,
            extended_attributes=list(org.extended_attributes),
        ),
    )
