"""lifetime credits per member

`customers.points_credited` is every point ever credited to the member (the positive points of
its activities: earned, restored, transferred in) and `customers.group_points_credited` every
group point recorded on those credits. The importer keeps both and refuses a credit (or a merge)
that would take either beyond 2,147,483,647, GraphQL's largest Int: debits never take more than
credits gave, so every sum of a member's activities the API shows (balance, running balance in
any order, an All Interactions row) then fits an Int.

The upgrade fills both from the activities already stored. BigInteger: a history imported
before this revision may already sum beyond an Int (such a member takes no further credit).

The backfill is one UPDATE over every organization, run as the tables' owner: row-level
security's owner policy (0007) shows that role every organization's rows (FORCE applies the
policies to the owner too; a superuser skips them).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("points_credited", "group_points_credited")

# One pass over the activities (UPDATE … FROM: PostgreSQL, and SQLite since 3.33). Members
# without credits keep the default 0. Group points are recorded on credits as 0 or more.
BACKFILL = """
UPDATE customers
SET points_credited = credits.points, group_points_credited = credits.group_points
FROM (
    SELECT customer_id, SUM(points) AS points, COALESCE(SUM(group_points), 0) AS group_points
    FROM points_activities
    WHERE points > 0
    GROUP BY customer_id
) AS credits
WHERE customers.id = credits.customer_id
"""


def upgrade() -> None:
    # NOT NULL with a constant default: PostgreSQL adds it without rewriting the table.
    for name in COLUMNS:
        op.add_column(
            "customers",
            sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"),
        )
    op.execute(BACKFILL)


def downgrade() -> None:
    # SQLite drops the columns in place (3.35+): rebuilding `customers`, as batch mode would,
    # is refused while other tables' rows reference it.
    for name in reversed(COLUMNS):
        op.drop_column("customers", name)
