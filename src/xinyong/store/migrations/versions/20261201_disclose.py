"""subjects.public_ref: an opaque page address for a subject without a public code.

A subject with no USCC and no organisation code (a natural person, an 个体工商户 known only by its 注册号
…) was linked as xy-<id>: anyone could walk xy-1, xy-2, … through every person with a record. Each subject
now carries 12 random bytes (24 hex characters), drawn by the database itself for every row it inserts —
bulk loads included, with no change to the code that creates subjects: a column default on PostgreSQL, a
trigger on SQLite (whose ALTER TABLE cannot add a non-constant default). Old xy-<id> addresses no longer
resolve.

Revision ID: 0008_disclose
Revises: 0007_quality
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_disclose"
down_revision = "0007_quality"
branch_labels = None
depends_on = None

PG_RANDOM = "substr(md5(gen_random_uuid()::text), 1, 24)"
SQLITE_RANDOM = "lower(hex(randomblob(12)))"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "subjects", sa.Column("public_ref", sa.String(length=24), server_default=sa.text(PG_RANDOM))
        )
    else:
        op.add_column("subjects", sa.Column("public_ref", sa.String(length=24)))
        op.execute(f"UPDATE subjects SET public_ref = {SQLITE_RANDOM} WHERE public_ref IS NULL")
        op.execute(
            "CREATE TRIGGER subjects_public_ref AFTER INSERT ON subjects FOR EACH ROW "
            f"WHEN NEW.public_ref IS NULL BEGIN UPDATE subjects SET public_ref = {SQLITE_RANDOM} "
            "WHERE id = NEW.id; END"
        )
    op.create_index("uq_subjects_public_ref", "subjects", ["public_ref"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_subjects_public_ref", table_name="subjects")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS subjects_public_ref")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_column("public_ref")
