"""security tables (filled in by the security work; kept in the chain so that migrations stay linear).

Revision ID: 0002_security
Revises: 0001_foundation
Create Date: 2026-11-27
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import xinyong.store.meta  # noqa: F401

revision = "0002_security"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
