"""The audit trail's guards fire in every session, a bulk load's too.

A bulk load on PostgreSQL sets `session_replication_role = replica` for its transaction (store.bulk:
bulk_transaction), which stops the per-row foreign-key triggers — and every ordinary trigger. The audit
trail's append-only and no-truncate guards are made ALWAYS triggers, so that no session role, replica or
not, lets a row of the trail be changed or removed. SQLite has no session roles: nothing to do there.

Revision ID: 0017_alwaystriggers
Revises: 0016_sealednames
"""

from __future__ import annotations

from alembic import op

revision = "0017_alwaystriggers"
down_revision = "0016_sealednames"
branch_labels = None
depends_on = None

GUARDS = (
    ("audit_log", "audit_log_append_only"),
    ("audit_log", "audit_log_no_truncate"),
    ("audit_head", "audit_head_no_truncate"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, trigger in GUARDS:
        op.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, trigger in GUARDS:
        op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
