"""every organization for the tables' owner only; cross-org questions as functions

Migration 0005's policy let any role that set `m360.org_id` to '*' read and write every
organization's rows, the app's role included: SQL injected through the app's connection could
have read all tenants in one statement. From here:

- `m360_tenant_isolation` (every role) shows the rows of the one organization named by
  `m360.org_id`, and nothing for '*', '' or no setting;
- `m360_owner_all_orgs` shows every row to the role running this migration, the tables'
  owner, alone: migrations and the functions below. The owner could switch RLS off anyway;
  the app's role is neither the owner nor a member of it (member360.migrate checks).
- The few questions the app asks before it knows the organization, or across organizations,
  are SECURITY DEFINER functions owned by the tables' owner. Each answers one exact question
  with ids only (never a tenant row): which organization issued this API key hash, this
  session token hash or this sign-in email; which organizations have lots due; which export
  jobs can run or still owe a mail. The app then binds that organization and reads the rows
  under the tenant policy like any request. EXECUTE is revoked from PUBLIC; `migrate` grants
  it to M360_APP_DB_ROLE.

The functions pin search_path (pg_catalog, then pg_temp last) and name their tables with the
schema, so a caller's objects cannot stand in for them. (They cannot SET m360.org_id instead of
relying on the owner's policy: PostgreSQL 15 lets only superusers put a placeholder setting on
a function.)

A later migration that adds a tenant table calls `enable(op, table)` from here;
tests/security/test_rls.py fails for an org_id table without both policies. A no-op on SQLite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence
from typing import Any

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_POLICY = "m360_tenant_isolation"
OWNER_POLICY = "m360_owner_all_orgs"

# One InitPlan per statement, as in 0005; anything but a plain id (also '*') matches no row.
TENANT_CONDITION = (
    "org_id = (SELECT CASE WHEN s ~ '^[0-9]{1,18}$' THEN s::bigint END "
    "FROM current_setting('m360.org_id', true) AS s)"
)
# 0005's condition, for the downgrade.
OLD_CONDITION = (
    "(SELECT current_setting('m360.org_id', true)) = '*' "
    "OR org_id = (SELECT CASE WHEN s IN ('', '*') THEN NULL ELSE s::bigint END "
    "FROM current_setting('m360.org_id', true) AS s)"
)

_RUNNABLE = (
    "(j.status = 'QUEUED' AND j.run_after <= $1) OR (j.status = 'RUNNING' AND j.lease_until < $1)"
)
_OWES_MAIL = (
    "j.notified_at IS NULL AND j.email IS NOT NULL AND j.run_after <= $1 "
    "AND ((j.status = 'SUCCEEDED' AND j.delivery = 'EMAIL') OR j.status = 'FAILED')"
)

# name(arguments) -> (returns, body); a NULL max_rows is no limit.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "m360_org_of_api_key(key_hash text)": (
        "bigint",
        "SELECT k.org_id FROM public.api_keys k WHERE k.key_hash = $1",
    ),
    "m360_org_of_session(token_hash text)": (
        "bigint",
        "SELECT s.org_id FROM public.user_sessions s WHERE s.token_hash = $1",
    ),
    "m360_org_of_user(email text)": (
        "bigint",
        "SELECT u.org_id FROM public.users u WHERE u.email = $1",
    ),
    "m360_orgs_with_due_lots(due_by timestamptz)": (
        "SETOF bigint",
        "SELECT DISTINCT l.org_id FROM public.lots l WHERE l.remaining > 0 AND l.expires_at <= $1",
    ),
    "m360_runnable_export_jobs(at timestamptz, max_rows integer)": (
        "TABLE(org_id bigint, job_id bigint)",
        f"SELECT j.org_id, j.id FROM public.export_jobs j WHERE {_RUNNABLE} "
        "ORDER BY j.run_after, j.id LIMIT $2",
    ),
    "m360_export_jobs_owing_mail(at timestamptz, max_rows integer)": (
        "TABLE(org_id bigint, job_id bigint)",
        f"SELECT j.org_id, j.id FROM public.export_jobs j WHERE {_OWES_MAIL} "
        "ORDER BY j.id LIMIT $2",
    ),
}


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
    """Row-level security on a tenant table: one organization per transaction; all, the owner."""
    operations.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    operations.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    for policy in (TENANT_POLICY, OWNER_POLICY):
        operations.execute(f'DROP POLICY IF EXISTS {policy} ON "{table}"')
    # FOR ALL with USING only: the same condition checks new and updated rows (WITH CHECK).
    operations.execute(
        f'CREATE POLICY {TENANT_POLICY} ON "{table}" FOR ALL USING ({TENANT_CONDITION})'
    )
    operations.execute(
        f'CREATE POLICY {OWNER_POLICY} ON "{table}" FOR ALL TO CURRENT_USER USING (true)'
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in tenant_tables(bind):
        enable(op, table)
    for signature, (returns, body) in FUNCTIONS.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION public.{signature} RETURNS {returns} "
            "LANGUAGE sql STABLE SECURITY DEFINER "
            "SET search_path = pg_catalog, pg_temp "
            f"AS $fn$ {body} $fn$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION public.{_types_only(signature)} FROM PUBLIC")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS public.{_types_only(signature)}")
    for table in tenant_tables(bind):
        op.execute(f'DROP POLICY IF EXISTS {OWNER_POLICY} ON "{table}"')
        op.execute(f'DROP POLICY IF EXISTS {TENANT_POLICY} ON "{table}"')
        op.execute(f'CREATE POLICY {TENANT_POLICY} ON "{table}" FOR ALL USING ({OLD_CONDITION})')


def _types_only(signature: str) -> str:
    """`f(a text, b int)` -> `f(text, int)`, as GRANT, REVOKE and DROP name a function."""
    name, arguments = signature.rstrip(")").split("(", 1)
    types = [a.strip().split(" ", 1)[1] for a in arguments.split(",") if a.strip()]
    return f"{name}({', '.join(types)})"
