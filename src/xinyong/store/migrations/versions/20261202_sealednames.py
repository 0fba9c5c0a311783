"""sealednames: a subject's names may be sealed (a natural person's name, security.pii.seal_name), which makes
them longer than 200 characters: TEXT on PostgreSQL. SQLite never enforces a length, so it keeps its columns.

Revision ID: 0016_sealednames
Revises: 0015_console
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_sealednames"
down_revision = "0015_console"
branch_labels = None
depends_on = None

_NAMES = (("subjects", "name"), ("subject_names", "name"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # varchar to text is binary-coercible: PostgreSQL neither rewrites the table nor rebuilds its indexes.
    for table, column in _NAMES:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(200), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _NAMES:
        op.alter_column(table, column, type_=sa.String(200), existing_type=sa.Text(), existing_nullable=False)
