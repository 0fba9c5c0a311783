"""rightspages: the site inbox (notifications), the notifier's outbox cursor, parties' contact addresses.

Revision ID: 0009_rightspages
Revises: 0008_disclose
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0009_rightspages"
down_revision = "0008_disclose"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = xinyong.store.meta.UTCDateTime(timezone=True)
PARTIES = "party_kind IN ('subject', 'organisation', 'platform')"


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_key", sa.String(length=32), nullable=False),
        sa.Column("matter_kind", sa.String(length=16), nullable=False),
        sa.Column("matter_id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("read_at", WHEN, nullable=True),
        sa.Column("email_state", sa.String(length=16), nullable=False),
        sa.Column("email_to", sa.String(length=200), nullable=True),
        sa.Column("email_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "email_state IN ('none', 'pending', 'sent', 'failed')", name=op.f("ck_notifications_email_state")
        ),
        sa.CheckConstraint(PARTIES, name=op.f("ck_notifications_party_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_id", "party_kind", "party_key", name="uq_notifications_event_party"),
    )
    op.create_index("ix_notifications_party", "notifications", ["party_kind", "party_key", "id"])
    op.create_table(
        "notifier_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_cursor")),
    )
    op.create_table(
        "notification_contacts",
        sa.Column("id", ID, nullable=False),
        sa.Column("party_kind", sa.String(length=16), nullable=False),
        sa.Column("party_key", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(PARTIES, name=op.f("ck_notification_contacts_party_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_contacts")),
        sa.UniqueConstraint("party_kind", "party_key", name="uq_notification_contacts_party"),
    )


def downgrade() -> None:
    op.drop_table("notification_contacts")
    op.drop_table("notifier_cursor")
    op.drop_index("ix_notifications_party", table_name="notifications")
    op.drop_table("notifications")
