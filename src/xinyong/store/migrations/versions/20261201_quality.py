"""row_warnings: rows that loaded with a warning for the clerk, kept for the batch's feedback file.

Revision ID: 0007_quality
Revises: 0006_websec
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0007_quality"
down_revision = "0006_websec"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "row_warnings",
        sa.Column("id", ID, nullable=False),
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=256), nullable=True),
        sa.Column("raw", xinyong.store.meta.Json, nullable=False),
        sa.Column("reasons", xinyong.store.meta.Json, nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_row_warnings_batch_id_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_row_warnings")),
    )
    op.create_index(op.f("ix_row_warnings_batch_id"), "row_warnings", ["batch_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_row_warnings_batch_id"), table_name="row_warnings")
    op.drop_table("row_warnings")
