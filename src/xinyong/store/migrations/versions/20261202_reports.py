"""reports: issued credit reports, numbered, with their sealed canonical JSON and digests.

Revision ID: 0014_reports
Revises: 0010_apply
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.store.meta

revision = "0014_reports"
down_revision = "0012_applycases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("issued_at", xinyong.store.meta.UTCDateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=True),
        sa.Column("period_to", sa.Date(), nullable=True),
        sa.Column(
            "domains",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("subject_label", sa.String(length=300), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("content_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("signer_sha256", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("organisation_uscc", sa.String(length=18), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "kind IN ('public', 'full', 'authorised', 'special')", name=op.f("ck_reports_kind")
        ),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_reports_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_reports_number")),
    )
    op.create_index(op.f("ix_reports_subject_id"), "reports", ["subject_id"], unique=False)
    op.create_index(
        "ix_reports_subject_kind_issued", "reports", ["subject_id", "kind", "issued_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reports_subject_kind_issued", table_name="reports")
    op.drop_index(op.f("ix_reports_subject_id"), table_name="reports")
    op.drop_table("reports")
