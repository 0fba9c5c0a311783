"""collect tables (filled in by the collect work; kept in the chain so that migrations stay linear).

Revision ID: 0003_collect
Revises: 0002_security
Create Date: 2026-11-27
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import xinyong.store.meta  # noqa: F401

revision = "0003_collect"
down_revision = "0002_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
