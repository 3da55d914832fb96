from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from member360.graphql.info import Info
from member360.ingest.importer import Importer
from member360.ingest.limits import EVENTS_PER_CALL


@strawberry.type
class IngestError:
    index: int = strawberry.field(description="0-based position of the event in the list.")
    field: str
    message: str
    event_id: str | None


@strawberry.type
class IngestResult:
    applied: int
    duplicates: int = strawberry.field(
        description="Events skipped because their id was applied before."
    )
    errors: list[IngestError]


@strawberry.type
class IngestMutation:
    @strawberry.mutation(
        description="Applies events in the import file's format, in order; "
        "stops at the first invalid one."
    )
    async def ingest_events(self, info: Info, events: list[JSON]) -> IngestResult:
        ctx = info.context
        if len(events) > EVENTS_PER_CALL:
            return IngestResult(
                applied=0,
                duplicates=0,
                errors=[
                    IngestError(
                        index=EVENTS_PER_CALL,
                        field="events",
                        message=f"at most {EVENTS_PER_CALL} events per call; "
                        "use the bulk import for more",
                        event_id=None,
                    )
                ],
            )
        outcome = await Importer(ctx.db, ctx.principal.org).run(enumerate(events))
        errors = []
        if outcome.error is not None:
            e = outcome.error
            errors.append(
                IngestError(index=e.position, field=e.field, message=e.message, event_id=e.event_id)
            )
        return IngestResult(applied=outcome.applied, duplicates=outcome.duplicates, errors=errors)
