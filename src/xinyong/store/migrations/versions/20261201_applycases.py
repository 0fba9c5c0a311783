"""apply: memorandum proposals and their responses (发起响应), case reports (案例报送).

Revision ID: 0012_applycases
Revises: 0010_apply
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.store.meta

revision = "0012_applycases"
down_revision = "0010_apply"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memo_proposals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("extends", sa.String(length=32), nullable=True),
        sa.Column(
            "draft",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("proposed_by", sa.String(length=100), nullable=False),
        sa.Column("proposed_by_uscc", sa.String(length=18), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('responding', 'published', 'withdrawn')", name=op.f("ck_memo_proposals_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memo_proposals")),
    )
    with op.batch_alter_table("memo_proposals", schema=None) as batch_op:
        batch_op.create_index("ix_memo_proposals_state", ["state", "id"], unique=False)

    op.create_table(
        "memo_responses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("proposal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_uscc", sa.String(length=18), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=100), nullable=True),
        sa.Column("answered_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "answer IN ('pending', 'accepted', 'declined')", name=op.f("ck_memo_responses_answer")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["memo_proposals.id"], name=op.f("fk_memo_responses_proposal_id_memo_proposals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memo_responses")),
        sa.UniqueConstraint("proposal_id", "org_uscc", name="uq_memo_responses_proposal_org"),
    )
    with op.batch_alter_table("memo_responses", schema=None) as batch_op:
        batch_op.create_index("ix_memo_responses_org_answer", ["org_uscc", "answer"], unique=False)
        batch_op.create_index(batch_op.f("ix_memo_responses_proposal_id"), ["proposal_id"], unique=False)

    op.create_table(
        "case_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("list_type", sa.String(length=32), nullable=False),
        sa.Column("effect", sa.String(length=16), nullable=False),
        sa.Column("check_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reported_by", sa.String(length=100), nullable=False),
        sa.Column("org_uscc", sa.String(length=18), nullable=True),
        sa.Column("org_name", sa.String(length=200), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('submitted', 'published', 'returned')", name=op.f("ck_case_reports_state")
        ),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_case_reports_check_id_checks")),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_case_reports_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reports")),
    )
    with op.batch_alter_table("case_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_reports_check_id"), ["check_id"], unique=False)
        batch_op.create_index("ix_case_reports_state_id", ["state", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_reports_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_reports_subject_id"))
        batch_op.drop_index("ix_case_reports_state_id")
        batch_op.drop_index(batch_op.f("ix_case_reports_check_id"))

    op.drop_table("case_reports")
    with op.batch_alter_table("memo_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memo_responses_proposal_id"))
        batch_op.drop_index("ix_memo_responses_org_answer")

    op.drop_table("memo_responses")
    with op.batch_alter_table("memo_proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_proposals_state")

    op.drop_table("memo_proposals")
