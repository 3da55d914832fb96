"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 18:03:38.079814
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import member360.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hierarchy", sa.Boolean(), nullable=False),
        sa.Column("surveys", sa.Boolean(), nullable=False),
        sa.Column(
            "extended_attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("default_validity_days", sa.Integer(), nullable=False),
        sa.Column("ledger_version", sa.Integer(), nullable=False),
        sa.Column("created_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.create_table(
        "action_series",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_series_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_action_series_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_series")),
        sa.UniqueConstraint(
            "org_id", "action_series_id", name=op.f("uq_action_series_org_id_action_series_id")
        ),
        info={"tenant": True},
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_actions_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint("org_id", "action_id", name=op.f("uq_actions_org_id_action_id")),
        info={"tenant": True},
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "scopes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_api_keys_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        info={"tenant": True},
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_prefix"), ["prefix"], unique=False)

    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_campaigns_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("org_id", "campaign_id", name=op.f("uq_campaigns_org_id_campaign_id")),
        info={"tenant": True},
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("mobile", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("opted_in", sa.Boolean(), nullable=False),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("user_role", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("group_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("points_balance", sa.Integer(), nullable=False),
        sa.Column(
            "merged_into_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("enrolled_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["customers.id"], name=op.f("fk_customers_merged_into_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_customers_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("org_id", "customer_id", name=op.f("uq_customers_org_id_customer_id")),
        info={"tenant": True},
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_org_external_id", ["org_id", "external_id"], unique=False
        )
        batch_op.create_index("ix_customers_org_mobile", ["org_id", "mobile"], unique=False)

    # Lookups by email ignore case; member search by name needs a substring index on PostgreSQL.
    op.create_index("ix_customers_org_email", "customers", ["org_id", sa.text("lower(email)")])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_customers_name_trgm ON customers USING gin (lower(name) gin_trgm_ops)"
        )

    op.create_table(
        "ingested_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("applied_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_ingested_events_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingested_events")),
        sa.UniqueConstraint("org_id", "event_id", name=op.f("uq_ingested_events_org_id_event_id")),
        info={"tenant": True},
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("store_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_stores_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("org_id", "store_id", name=op.f("uq_stores_org_id_store_id")),
        info={"tenant": True},
    )
    op.create_table(
        "survey_sections",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("section_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_survey_sections_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_sections")),
        sa.UniqueConstraint(
            "org_id",
            "survey_id",
            "section_id",
            name=op.f("uq_survey_sections_org_id_survey_id_section_id"),
        ),
        info={"tenant": True},
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_surveys_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("org_id", "survey_id", name=op.f("uq_surveys_org_id_survey_id")),
        info={"tenant": True},
    )
    op.create_table(
        "behavioral_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("tracking_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("account_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("till_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("occurred_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_behavioral_events_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_behavioral_events_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behavioral_events")),
        info={"tenant": True},
    )
    with op.batch_alter_table("behavioral_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_behavioral_events_customer_time", ["customer_id", "occurred_at", "id"], unique=False
        )

    op.create_table(
        "communications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("preview", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sent_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_communications_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_communications_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communications")),
        sa.UniqueConstraint(
            "org_id", "message_id", name=op.f("uq_communications_org_id_message_id")
        ),
        info={"tenant": True},
    )
    with op.batch_alter_table("communications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_communications_customer_time", ["customer_id", "sent_at", "id"], unique=False
        )

    op.create_table(
        "coupons",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("coupon_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("series", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("issued_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("store_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("resend_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_coupons_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_coupons_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("org_id", "coupon_id", name=op.f("uq_coupons_org_id_coupon_id")),
        info={"tenant": True},
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coupons_customer_time", ["customer_id", "issued_at", "id"], unique=False
        )

    op.create_table(
        "identifier_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("changed_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("identifier_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("action_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_identifier_changes_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_identifier_changes_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_changes")),
        info={"tenant": True},
    )
    with op.batch_alter_table("identifier_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_identifier_changes_customer_time", ["customer_id", "changed_at", "id"], unique=False
        )

    op.create_table(
        "leads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("lead_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("lead_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lead_for", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sub_status", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_follow_up_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_follow_up_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "extended_fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_leads_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_leads_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("org_id", "lead_id", name=op.f("uq_leads_org_id_lead_id")),
        info={"tenant": True},
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leads_customer_time", ["customer_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "points_activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("custom_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("store_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action_series_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reward_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("section_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("tracker_value", sa.Float(), nullable=True),
        sa.Column("group_points", sa.Integer(), nullable=True),
        sa.Column("transfer_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("program", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column(
            "counterparty_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("expires_at", member360.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("points_reversed", sa.Integer(), nullable=False),
        sa.Column("points_unrecovered", sa.Integer(), nullable=False),
        sa.Column(
            "redemption_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_points_activities_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_points_activities_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_activities")),
        info={"tenant": True},
    )
    with op.batch_alter_table("points_activities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_activities_customer_order", ["customer_id", "order_id"], unique=False
        )
        batch_op.create_index(
            "ix_points_activities_customer_time", ["customer_id", "occurred_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_points_activities_org_day", ["org_id", "local_date"], unique=False
        )
        batch_op.create_index(
            "ix_points_activities_transfer",
            ["org_id", "transfer_id"],
            unique=False,
            postgresql_where=sa.text("transfer_id IS NOT NULL"),
            sqlite_where=sa.text("transfer_id IS NOT NULL"),
        )

    op.create_table(
        "segment_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("changed_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("from_partition", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_partition", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_segment_changes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_segment_changes_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_changes")),
        info={"tenant": True},
    )
    with op.batch_alter_table("segment_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_segment_changes_customer_time", ["customer_id", "changed_at", "id"], unique=False
        )

    op.create_table(
        "tier_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("changed_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_tier", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("to_tier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_tier_changes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_tier_changes_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_changes")),
        info={"tenant": True},
    )
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tier_changes_customer_time", ["customer_id", "changed_at", "id"], unique=False
        )

    op.create_table(
        "transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("order_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("store_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("points_earned", sa.Integer(), nullable=False),
        sa.Column("points_unrecovered", sa.Integer(), nullable=False),
        sa.Column("group_points", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_transactions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_transactions_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        info={"tenant": True},
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transactions_customer_order", ["customer_id", "order_id"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_customer_time", ["customer_id", "occurred_at", "id"], unique=False
        )
        batch_op.create_index("ix_transactions_org_order", ["org_id", "order_id"], unique=False)

    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "original_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("earned_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", member360.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["points_activities.id"],
            name=op.f("fk_lots_activity_id_points_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lots_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_lots_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        info={"tenant": True},
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lots_open_by_customer",
            ["customer_id", "expires_at"],
            unique=False,
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )
        batch_op.create_index(
            "ix_lots_open_by_expiry",
            ["org_id", "expires_at"],
            unique=False,
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )

    op.create_table(
        "lot_consumptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("restored", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["points_activities.id"],
            name=op.f("fk_lot_consumptions_activity_id_points_activities"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_lot_consumptions_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], name=op.f("fk_lot_consumptions_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot_consumptions")),
        info={"tenant": True},
    )
    with op.batch_alter_table("lot_consumptions", schema=None) as batch_op:
        batch_op.create_index("ix_lot_consumptions_activity", ["activity_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lot_consumptions", schema=None) as batch_op:
        batch_op.drop_index("ix_lot_consumptions_activity")

    op.drop_table("lot_consumptions")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_lots_open_by_expiry",
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )
        batch_op.drop_index(
            "ix_lots_open_by_customer",
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )

    op.drop_table("lots")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_transactions_org_order")
        batch_op.drop_index("ix_transactions_customer_time")
        batch_op.drop_index("ix_transactions_customer_order")

    op.drop_table("transactions")
    with op.batch_alter_table("tier_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_tier_changes_customer_time")

    op.drop_table("tier_changes")
    with op.batch_alter_table("segment_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_segment_changes_customer_time")

    op.drop_table("segment_changes")
    with op.batch_alter_table("points_activities", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_points_activities_transfer",
            postgresql_where=sa.text("transfer_id IS NOT NULL"),
            sqlite_where=sa.text("transfer_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_points_activities_org_day")
        batch_op.drop_index("ix_points_activities_customer_time")
        batch_op.drop_index("ix_points_activities_customer_order")

    op.drop_table("points_activities")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_customer_time")

    op.drop_table("leads")
    with op.batch_alter_table("identifier_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_identifier_changes_customer_time")

    op.drop_table("identifier_changes")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_coupons_customer_time")

    op.drop_table("coupons")
    with op.batch_alter_table("communications", schema=None) as batch_op:
        batch_op.drop_index("ix_communications_customer_time")

    op.drop_table("communications")
    with op.batch_alter_table("behavioral_events", schema=None) as batch_op:
        batch_op.drop_index("ix_behavioral_events_customer_time")

    op.drop_table("behavioral_events")
    op.drop_table("surveys")
    op.drop_table("survey_sections")
    op.drop_table("stores")
    op.drop_table("ingested_events")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_org_mobile")
        batch_op.drop_index("ix_customers_org_external_id")

    op.drop_table("customers")
    op.drop_table("campaigns")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_prefix"))

    op.drop_table("api_keys")
    op.drop_table("actions")
    op.drop_table("action_series")
    op.drop_table("organizations")
