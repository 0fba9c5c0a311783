"""applybatch: subject names indexed by name (the batch check's exact-name resolution); checks keep how many
measures they offered (the feedback rate's denominator) and are indexed by time (the figures).

Revision ID: 0013_applybatch
Revises: 0010_apply
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_applybatch"
down_revision = "0014_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_subject_names_name", "subject_names", ["name"], unique=False)
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("measure_count", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_checks_created_at", "checks", ["created_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE checks SET measure_count = jsonb_array_length(answer -> 'measures')")
    else:
        op.execute("UPDATE checks SET measure_count = json_array_length(answer, '$.measures')")


def downgrade() -> None:
    op.drop_index("ix_checks_created_at", table_name="checks")
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("measure_count")
    op.drop_index("ix_subject_names_name", table_name="subject_names")
