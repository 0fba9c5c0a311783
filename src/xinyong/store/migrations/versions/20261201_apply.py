"""apply: list entries, checks and feedback, push subscriptions and deliveries, outbox cursors.

Revision ID: 0010_apply
Revises: 0009_rightspages
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.store.meta

revision = "0010_apply"
down_revision = "0009_rightspages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_cursors",
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_outbox_cursors")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_uscc", sa.String(length=18), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column(
            "event_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "list_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("secret", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("scanned_to", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(op.f("ix_subscriptions_org_uscc"), "subscriptions", ["org_uscc"], unique=False)
    op.create_table(
        "checks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("matter", sa.String(length=16), nullable=False),
        sa.Column("checked_by", sa.String(length=100), nullable=False),
        sa.Column("org_uscc", sa.String(length=18), nullable=True),
        sa.Column(
            "answer",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_checks_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checks")),
    )
    op.create_index("ix_checks_org_matter", "checks", ["org_uscc", "matter"], unique=False)
    op.create_index(op.f("ix_checks_subject_id"), "checks", ["subject_id"], unique=False)
    op.create_table(
        "check_feedback",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("check_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("case_ref", sa.String(length=100), nullable=True),
        sa.Column("reported_by", sa.String(length=100), nullable=False),
        sa.Column("org_uscc", sa.String(length=18), nullable=True),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_check_feedback_check_id_checks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_feedback")),
        sa.UniqueConstraint("check_id", "measure", name="uq_check_feedback_check_measure"),
    )
    op.create_index(op.f("ix_check_feedback_check_id"), "check_feedback", ["check_id"], unique=False)
    op.create_table(
        "list_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("list_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_by_uscc", sa.String(length=18), nullable=True),
        sa.Column("noticed_on", sa.Date(), nullable=False),
        sa.Column("defence_due", sa.Date(), nullable=False),
        sa.Column("statement_waived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("removed_reason", sa.String(length=16), nullable=True),
        sa.Column("removed_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "removed_reason IS NULL OR removed_reason IN "
            "('expired', 'repaired', 'revoked', 'new_adverse', 'withdrawn')",
            name=op.f("ck_list_entries_removed_reason"),
        ),
        sa.CheckConstraint("state IN ('noticed', 'listed', 'removed')", name=op.f("ck_list_entries_state")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_list_entries_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_list_entries_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_entries")),
    )
    op.create_index(op.f("ix_list_entries_record_id"), "list_entries", ["record_id"], unique=False)
    op.create_index(
        "ix_list_entries_state_valid_until", "list_entries", ["state", "valid_until"], unique=False
    )
    op.create_index(op.f("ix_list_entries_subject_id"), "list_entries", ["subject_id"], unique=False)
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delay_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'dead')", name=op.f("ck_deliveries_state")),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_deliveries_event_id_events")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_deliveries_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_deliveries_subscription_event"),
    )
    op.create_index(op.f("ix_deliveries_event_id"), "deliveries", ["event_id"], unique=False)
    op.create_index("ix_deliveries_state_next", "deliveries", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("list_entries")
    op.drop_table("check_feedback")
    op.drop_table("checks")
    op.drop_table("subscriptions")
    op.drop_table("outbox_cursors")
