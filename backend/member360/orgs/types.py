from __future__ import annotations

import strawberry
from sqlalchemy import select, text

from member360.db import table
from member360.graphql.info import Info

# Distinct sources of the org's points activities: a loose scan of
# ix_points_activities_org_source (one index probe per source) instead of reading every
# activity. The report's drop-down asks it, but it needs nothing of the report's code.
SOURCES = text(
    """
    WITH RECURSIVE s(source) AS (
        SELECT min(source) FROM points_activities WHERE org_id = :org
        UNION ALL
        SELECT (SELECT min(p.source) FROM points_activities p
                WHERE p.org_id = :org AND p.source > s.source)
        FROM s WHERE s.source IS NOT NULL
    )
    SELECT source FROM s WHERE source IS NOT NULL
    """
)


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
    async def actions(self, info: Info) -> list[Action]:
        t = table("actions")
        async with info.context.db.session(info.context.org_id) as s:
            rows = await s.execute(
                select(t.c.action_id, t.c.name)
                .where(t.c.org_id == info.context.org_id)
                .order_by(t.c.action_id)
            )
            return [Action(id=r.action_id, name=r.name) for r in rows]

    @strawberry.field
    async def stores(self, info: Info) -> list[Store]:
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
    async def sources(self, info: Info) -> list[str] | None:
        async with info.context.db.session(info.context.org_id) as s:
            rows = await s.execute(SOURCES, {"org": info.context.org_id})
            return [r.source for r in rows]

    @strawberry.field
    async def campaigns(self, info: Info) -> list[Campaign]:
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


def organization_of(info: Info) -> Organization:
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
