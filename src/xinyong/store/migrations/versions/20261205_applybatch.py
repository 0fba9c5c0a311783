"""applybatch: subject names indexed by name, for the batch check's exact-name resolution.

Revision ID: 0013_applybatch
Revises: 0010_apply
Create Date: 2026-12-05
"""

from alembic import op

revision = "0013_applybatch"
down_revision = "0010_apply"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_subject_names_name", "subject_names", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_subject_names_name", table_name="subject_names")
