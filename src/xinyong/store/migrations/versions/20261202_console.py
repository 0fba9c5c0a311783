"""console: one-time password links (password_resets); drop the account-wide lock columns nobody uses;
an index covering the dashboards' counts of records by period (bench/stats.py).

users.failed_logins / users.locked_until held the first, account-wide lock-out. Since 0006_websec the
lock-out lives in login_throttle (per account and client address) and nothing writes or reads them; the
console's user page shows the lock state from login_throttle, so they go rather than mislead a reader.

Revision ID: 0015_console
Revises: 0010_apply
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0015_console"
down_revision = "0011_rightsmove"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = xinyong.store.meta.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "password_resets",
        sa.Column("id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False)
    op.create_index(
        "ix_records_first_seen_figures",
        "records",
        ["first_seen", "source_uscc", "item_code", "late", "receipt_working_days"],
        unique=False,
    )
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35 has it): neither column is in an index or constraint.
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column("users", sa.Column("locked_until", WHEN, nullable=True))
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.drop_index("ix_records_first_seen_figures", table_name="records")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
