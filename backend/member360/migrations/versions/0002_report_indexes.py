"""indexes of the All Interactions report

The report's rows come out of `ix_points_activities_report` in key order (day, member, action,
order, custom id), which replaces the plain (org, day) index it extends. Its contentText search
uses a trigram index over the activity's text columns on PostgreSQL and an FTS5 trigram table,
kept by triggers, on SQLite; member text (name, ids, email, mobile, role) uses trigram indexes
on customers (PostgreSQL; SQLite scans the members, a small table beside the activities).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("reports",)
depends_on: str | Sequence[str] | None = None

# Must equal member360.ledger.models.activity_search_text() as PostgreSQL stores it.
SEARCH_COLUMNS = (
    "order_id",
    "custom_id",
    "reward_name",
    "reason",
    "source",
    "store_id",
    "survey_id",
    "section_id",
)
CUSTOMER_TRGM = ("name", "email", "mobile", "customer_id", "user_role")


def _pg_search_text() -> str:
    joined = " || chr(10) || ".join(f"coalesce({c}, '')" for c in SEARCH_COLUMNS)
    return f"lower({joined})"


def _sqlite_search_text(row: str) -> str:
    return " || char(10) || ".join(f"coalesce({row}.{c}, '')" for c in SEARCH_COLUMNS)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_points_activities_org_day", table_name="points_activities")
    op.create_index(
        "ix_points_activities_report",
        "points_activities",
        ["org_id", "local_date", "customer_id", "action_id", "order_id", "custom_id", "points"],
    )
    op.create_index("ix_points_activities_org_source", "points_activities", ["org_id", "source"])
    op.create_index(
        "ix_points_activities_counterparty",
        "points_activities",
        ["counterparty_id"],
        postgresql_where=sa.text("counterparty_id IS NOT NULL"),
        sqlite_where=sa.text("counterparty_id IS NOT NULL"),
    )
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_points_activities_text_trgm ON points_activities "
            f"USING gin ({_pg_search_text()} gin_trgm_ops)"
        )
        for column in CUSTOMER_TRGM:
            op.execute(
                f"CREATE INDEX IF NOT EXISTS ix_customers_{column}_trgm ON customers "
                f"USING gin (lower({column}) gin_trgm_ops)"
            )
    elif dialect == "sqlite":
        # rowid = points_activities.id; the text is lower-cased by the tokenizer, not stored so.
        op.execute(
            "CREATE VIRTUAL TABLE points_activities_text USING fts5(body, tokenize='trigram')"
        )
        op.execute(
            "INSERT INTO points_activities_text (rowid, body) "
            f"SELECT id, {_sqlite_search_text('points_activities')} FROM points_activities"
        )
        op.execute(
            "CREATE TRIGGER points_activities_text_insert AFTER INSERT ON points_activities "
            "BEGIN INSERT INTO points_activities_text (rowid, body) "
            f"VALUES (new.id, {_sqlite_search_text('new')}); END"
        )
        op.execute(
            "CREATE TRIGGER points_activities_text_delete AFTER DELETE ON points_activities "
            "BEGIN DELETE FROM points_activities_text WHERE rowid = old.id; END"
        )
        op.execute(
            "CREATE TRIGGER points_activities_text_update "
            f"AFTER UPDATE OF {', '.join(SEARCH_COLUMNS)} ON points_activities "
            "BEGIN UPDATE points_activities_text "
            f"SET body = {_sqlite_search_text('new')} WHERE rowid = old.id; END"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for column in CUSTOMER_TRGM:
            if column != "name":  # 0001 made that one
                op.execute(f"DROP INDEX IF EXISTS ix_customers_{column}_trgm")
        op.execute("DROP INDEX IF EXISTS ix_points_activities_text_trgm")
    elif dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS points_activities_text_{trigger}")
        op.execute("DROP TABLE IF EXISTS points_activities_text")
    op.drop_index("ix_points_activities_counterparty", table_name="points_activities")
    op.drop_index("ix_points_activities_org_source", table_name="points_activities")
    op.drop_index("ix_points_activities_report", table_name="points_activities")
    op.create_index("ix_points_activities_org_day", "points_activities", ["org_id", "local_date"])
