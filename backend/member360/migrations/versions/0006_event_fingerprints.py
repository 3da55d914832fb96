"""fingerprints of applied events

`ingested_events.fingerprint` holds the SHA-256 of each applied event's canonical content
(member360.ingest.schemas.fingerprint), so that an event id sent again with different content
is refused ("id already used by a different event") instead of skipped as already applied.

Rows written before this revision keep NULL: their content was never stored, so an id of theirs
sent again is refused only when its type differs, and otherwise counts as already applied, as
it did before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable and without a default: PostgreSQL adds it without rewriting the table.
    op.add_column("ingested_events", sa.Column("fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingested_events") as batch:
        batch.drop_column("fingerprint")
