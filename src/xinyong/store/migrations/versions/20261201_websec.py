"""websec: sign-in lock-outs per account and client address; the audit trail cannot be emptied (PostgreSQL).

Revision ID: 0006_websec
Revises: 0005_rights
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0006_websec"
down_revision = "0005_rights"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = xinyong.store.meta.UTCDateTime(timezone=True)

# TRUNCATE is not a row operation: the row triggers of 0002 do not see it, and it would empty the trail in
# one statement (after which the chain alone verifies as an intact chain of 0 entries). On PostgreSQL a
# statement-level trigger refuses it, and the privilege is revoked from everyone, the migrating role
# included. An owner can still undo both on purpose (ALTER TABLE … DISABLE TRIGGER, GRANT): that is DDL,
# and the head anchor kept outside the database (security.audit) still shows the missing history.
# SQLite has no TRUNCATE; its DELETE without WHERE fires the row trigger that refuses deletes.
_GUARDED = ("audit_log", "audit_head")
_NO_TRUNCATE = "the audit trail cannot be emptied / 审计日志不能清空"


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("client", sa.String(length=45), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lockouts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", WHEN, nullable=True),
        sa.Column("last_failure_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_login_throttle_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("user_id", "client", name=op.f("uq_login_throttle_user_id_client")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION audit_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{_NO_TRUNCATE}'; END $$"
    )
    for table in _GUARDED:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_no_truncate()"
        )
        op.execute(f"REVOKE TRUNCATE ON {table} FROM PUBLIC, CURRENT_USER")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"GRANT TRUNCATE ON {table} TO CURRENT_USER")
        op.execute("DROP FUNCTION IF EXISTS audit_no_truncate()")
    op.drop_table("login_throttle")
