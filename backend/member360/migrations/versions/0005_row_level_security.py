"""row-level security on every tenant table (PostgreSQL)

Every table in schema public with an org_id column gets ROW LEVEL SECURITY, enabled and forced
(so the tables' owner is held to it too; only superusers and BYPASSRLS roles skip it), and one
policy: a transaction sees and writes the rows of the organization named by the
transaction-local setting `m360.org_id` (member360.db.bind_org), every row when the setting is
'*' (system tasks, migrations), and no row when it is unset or empty.

The tables are read from information_schema when this runs, so tenant tables made by the other
branches (e.g. users) are covered as long as they are applied first: this revision merges every
head. A later migration that adds a tenant table must call `enable(op, table)` from here (or
repeat its statements); tests/security/test_rls.py fails for any org_id table without it.

A no-op on SQLite.

Revision ID: 0005
Revises: 0002, 0003
Create Date: 2026-11-24 21:00:00
"""

import sys
from collections.abc import Sequence
from typing import Any

from alembic import op

revision: str = "0005"
# The merge of every head, so that every org_id table exists when this revision enables RLS.
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POLICY = "m360_tenant_isolation"

# The two sub-selects become InitPlans, evaluated once per statement: each row then costs a
# comparison with a constant rather than a current_setting() call. CASE keeps '*' and ''
# away from the bigint cast; an unset setting (NULL) matches nothing either way.
CONDITION = (
    "(SELECT current_setting('m360.org_id', true)) = '*' "
    "OR org_id = (SELECT CASE WHEN s IN ('', '*') THEN NULL ELSE s::bigint END "
    "FROM current_setting('m360.org_id', true) AS s)"
)

# Under RLS, PostgreSQL runs the policy before any user condition that calls a function not
# marked LEAKPROOF, and such a condition can no longer be an index condition. The member email
# lookup (org_id, lower(email)) and the trigram searches (lower(...) LIKE '%…%') would then
# scan the whole organization. These built-ins raise no errors that depend on row data, and the
# threat RLS guards against here is an application bug, not a caller writing SQL, so they are
# marked LEAKPROOF. That needs a superuser; a migration role without it leaves them as they are
# (the results stay correct, those lookups get slower) and says so.
LEAKPROOF = ("lower(text)", "textlike(text, text)", "textcat(text, text)")


def tenant_tables(bind: Any) -> list[str]:
    rows = bind.exec_driver_sql(
        "SELECT c.table_name FROM information_schema.columns c "
        "JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = 'public' AND c.column_name = 'org_id' "
        "AND t.table_type = 'BASE TABLE' ORDER BY c.table_name"
    )
    return [r[0] for r in rows]


def enable(operations: Any, table: str) -> None:
    operations.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    operations.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    operations.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    # FOR ALL with USING only: the same condition checks new and updated rows (WITH CHECK).
    operations.execute(f'CREATE POLICY {POLICY} ON "{table}" FOR ALL USING ({CONDITION})')


def disable(operations: Any, table: str) -> None:
    operations.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    operations.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    operations.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


def _superuser(bind: Any) -> bool:
    return bool(
        bind.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar()
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in tenant_tables(bind):
        enable(op, table)
    if _superuser(bind):
        for function in LEAKPROOF:
            op.execute(f"ALTER FUNCTION pg_catalog.{function} LEAKPROOF")
    else:
        print(  # an operator running `member360 migrate` should read this
            "member360 migrate: not a superuser, so lower(), LIKE and || stay non-LEAKPROOF; "
            "under row-level security, email lookups and text searches cannot use their indexes",
            file=sys.stderr,
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in tenant_tables(bind):
        disable(op, table)
    if _superuser(bind):
        for function in LEAKPROOF:
            op.execute(f"ALTER FUNCTION pg_catalog.{function} NOT LEAKPROOF")
