"""rights: an objection decided by moving its record to the right subject (record_moves, outcome "moved").

Revision ID: 0011_rightsmove
Revises: 0010_apply
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0011_rightsmove"
down_revision = "0013_applybatch"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = xinyong.store.meta.UTCDateTime(timezone=True)
OUTCOMES_BEFORE = "outcome IS NULL OR outcome IN ('upheld', 'corrected', 'removed')"
OUTCOMES_AFTER = "outcome IS NULL OR outcome IN ('upheld', 'corrected', 'removed', 'moved')"


def upgrade() -> None:
    op.create_table(
        "record_moves",
        sa.Column("id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("from_subject_id", ID, nullable=False),
        sa.Column("to_subject_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("undone_at", WHEN, nullable=True),
        sa.Column("undone_by", sa.String(length=100), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_moves_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["from_subject_id"], ["subjects.id"], name=op.f("fk_record_moves_from_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["to_subject_id"], ["subjects.id"], name=op.f("fk_record_moves_to_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_moves")),
    )
    op.create_index(op.f("ix_record_moves_record_id"), "record_moves", ["record_id"])
    with op.batch_alter_table("objections") as batch:
        batch.add_column(sa.Column("move_id", ID, nullable=True))
        batch.drop_constraint(op.f("ck_objections_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_objections_outcome"), OUTCOMES_AFTER)


def downgrade() -> None:
    with op.batch_alter_table("objections") as batch:
        batch.drop_constraint(op.f("ck_objections_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_objections_outcome"), OUTCOMES_BEFORE)
        batch.drop_column("move_id")
    op.drop_index(op.f("ix_record_moves_record_id"), table_name="record_moves")
    op.drop_table("record_moves")
