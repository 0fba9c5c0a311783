"""The deadline tasks table.

One row per (matter, step): a step happens once per matter, so creating it twice is refused by the
database. `rule` is the dotted path of the policy entry that set `working_days` and `due_on`, both copied
when the task opens: an operator who edits the policy later changes new tasks, not the due day of a task
already running. `consequence` is copied the same way from the rule's `on_timeout`.
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import UTCDateTime, created_at, fk, metadata, pk

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TASK_STATES = ("open", "done", "overdue", "cancelled")
OWNER_KINDS = ("platform", "organisation")

deadline_tasks = sa.Table(
    "deadline_tasks",
    metadata,
    pk(),
    sa.Column("matter_kind", sa.String(32), nullable=False),
    sa.Column("matter_id", _ID, nullable=False),
    sa.Column("step", sa.String(48), nullable=False),
    sa.Column("owner_kind", sa.String(16), nullable=False),
    sa.Column("owner_uscc", sa.String(18)),
    # The record the matter concerns, when there is one: a consequence acts on it.
    fk("record_id", "records.id", nullable=True, index=False),
    sa.Column("rule", sa.String(160), nullable=False),
    sa.Column("working_days", sa.Integer, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("remind_on", sa.Date, nullable=False),
    sa.Column("consequence", sa.String(32)),
    sa.Column("state", sa.String(16), nullable=False),
    created_at(),
    sa.Column("done_at", UTCDateTime()),
    sa.Column("done_on", sa.Date),
    # Working days from the start to the day it was done, and whether that was after the due day.
    sa.Column("taken_working_days", sa.Integer),
    sa.Column("late", sa.Boolean),
    sa.Column("overdue_on", sa.Date),
    sa.Column("reminded_on", sa.Date),
    sa.Column("consequence_on", sa.Date),
    # Counted against the owner in the 考核 figures (consequence flag_assessment).
    sa.Column("flagged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("closed_by", sa.String(100)),
    sa.UniqueConstraint("matter_kind", "matter_id", "step", name="uq_deadline_tasks_matter_step"),
    sa.Index("ix_deadline_tasks_owner", "owner_kind", "owner_uscc", "state", "due_on"),
    sa.Index("ix_deadline_tasks_state_due", "state", "due_on"),
    sa.CheckConstraint(f"state IN {TASK_STATES!r}", name="state"),
    sa.CheckConstraint(f"owner_kind IN {OWNER_KINDS!r}", name="owner_kind"),
)
