"""rights: the deadline engine's tasks, the event outbox, objections, repair applications, attachments.

Revision ID: 0005_rights
Revises: 0004_disclose
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0005_rights"
down_revision = "0004_disclose"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = xinyong.store.meta.UTCDateTime(timezone=True)
JSON = xinyong.store.meta.Json


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "deadline_tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("matter_kind", sa.String(length=32), nullable=False),
        sa.Column("matter_id", ID, nullable=False),
        sa.Column("step", sa.String(length=48), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_uscc", sa.String(length=18), nullable=True),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("rule", sa.String(length=160), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("remind_on", sa.Date(), nullable=False),
        sa.Column("consequence", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("done_at", WHEN, nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("taken_working_days", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("overdue_on", sa.Date(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("consequence_on", sa.Date(), nullable=True),
        sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "owner_kind IN ('platform', 'organisation')", name=op.f("ck_deadline_tasks_owner_kind")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'done', 'overdue', 'cancelled')", name=op.f("ck_deadline_tasks_state")
        ),
        _fk("deadline_tasks", "record_id", "records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_tasks")),
        sa.UniqueConstraint("matter_kind", "matter_id", "step", name="uq_deadline_tasks_matter_step"),
    )
    op.create_index(
        "ix_deadline_tasks_owner", "deadline_tasks", ["owner_kind", "owner_uscc", "state", "due_on"]
    )
    op.create_index("ix_deadline_tasks_state_due", "deadline_tasks", ["state", "due_on"])

    op.create_table(
        "event_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_head")),
    )
    op.create_table(
        "events",
        sa.Column("id", ID, autoincrement=False, nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("subject_id", ID, nullable=True),
        sa.Column("record_id", ID, nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _fk("events", "record_id", "records"),
        _fk("events", "subject_id", "subjects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_event_type_id", "events", ["event_type", "id"])

    op.create_table(
        "objections",
        sa.Column("id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("open_record_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("record_state_before", sa.String(length=16), nullable=False),
        sa.Column("filed_by", sa.String(length=100), nullable=False),
        sa.Column("filed_via", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("forwarded_at", WHEN, nullable=True),
        sa.Column("forwarded_by", sa.String(length=100), nullable=True),
        sa.Column("forwarded_to_uscc", sa.String(length=18), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_by_uscc", sa.String(length=18), nullable=True),
        sa.Column("corrected_version", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('wrong', 'incomplete', 'not_mine', 'unlawful')", name=op.f("ck_objections_kind")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('upheld', 'corrected', 'removed')",
            name=op.f("ck_objections_outcome"),
        ),
        sa.CheckConstraint("state IN ('open', 'forwarded', 'decided')", name=op.f("ck_objections_state")),
        _fk("objections", "record_id", "records"),
        _fk("objections", "subject_id", "subjects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objections")),
        sa.UniqueConstraint("open_record_id", name=op.f("uq_objections_open_record_id")),
    )
    op.create_index(op.f("ix_objections_record_id"), "objections", ["record_id"])
    op.create_index(op.f("ix_objections_subject_id"), "objections", ["subject_id"])

    op.create_table(
        "repair_applications",
        sa.Column("id", ID, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("open_record_id", ID, nullable=True),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("penalty_class", sa.String(length=8), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("commitment", sa.Boolean(), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("rectified", sa.Boolean(), nullable=False),
        sa.Column("materials", JSON, nullable=False),
        sa.Column("decider_uscc", sa.String(length=18), nullable=True),
        sa.Column("applied_by", sa.String(length=100), nullable=False),
        sa.Column("applied_via", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_by_uscc", sa.String(length=18), nullable=True),
        sa.CheckConstraint(
            "state IN ('submitted', 'approved', 'refused')", name=op.f("ck_repair_applications_state")
        ),
        _fk("repair_applications", "record_id", "records"),
        _fk("repair_applications", "subject_id", "subjects"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_applications")),
        sa.UniqueConstraint("open_record_id", name=op.f("uq_repair_applications_open_record_id")),
    )
    op.create_index(op.f("ix_repair_applications_record_id"), "repair_applications", ["record_id"])
    op.create_index(op.f("ix_repair_applications_subject_id"), "repair_applications", ["subject_id"])
    op.create_index(
        "ix_repair_applications_subject_item", "repair_applications", ["subject_id", "item_code", "state"]
    )

    op.create_table(
        "attachments",
        sa.Column("id", ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("matter_kind", sa.String(length=32), nullable=True),
        sa.Column("matter_id", ID, nullable=True),
        sa.Column("material", sa.String(length=48), nullable=True),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "media_type IN ('application/pdf', 'image/jpeg', 'image/png')",
            name=op.f("ck_attachments_media_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_matter", "attachments", ["matter_kind", "matter_id"])
    op.create_index(op.f("ix_attachments_sha256"), "attachments", ["sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_sha256"), table_name="attachments")
    op.drop_index("ix_attachments_matter", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("ix_repair_applications_subject_item", table_name="repair_applications")
    op.drop_index(op.f("ix_repair_applications_subject_id"), table_name="repair_applications")
    op.drop_index(op.f("ix_repair_applications_record_id"), table_name="repair_applications")
    op.drop_table("repair_applications")
    op.drop_index(op.f("ix_objections_subject_id"), table_name="objections")
    op.drop_index(op.f("ix_objections_record_id"), table_name="objections")
    op.drop_table("objections")
    op.drop_index("ix_events_event_type_id", table_name="events")
    op.drop_table("events")
    op.drop_table("event_head")
    op.drop_index("ix_deadline_tasks_state_due", table_name="deadline_tasks")
    op.drop_index("ix_deadline_tasks_owner", table_name="deadline_tasks")
    op.drop_table("deadline_tasks")
