"""The outbox table and its one-row head.

`events.id` is the feed cursor: a reader that has seen id N asks for ids above N. For that to be safe the
ids must become visible in the order they were given out — otherwise a reader could pass id 8 while the
transaction holding id 7 had not committed yet, and never see 7. So ids are not taken from a sequence:
`emit()` takes the next one by updating the single `event_head` row, which holds that row's lock (the
database write lock on SQLite) until the transaction ends. Transactions that emit events therefore commit
one at a time, in id order. They are rare (an objection, a repair, a revocation, a list change), so the
serialisation costs nothing that matters.
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, created_at, fk, metadata

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# The event types written today (list events: the application chapter, 红黑名单). `subject_id` and
# `record_id` say what changed; `payload` carries what a subscriber needs without a second request
# (never an ID number in clear).
EVENT_TYPES = (
    "batch.loaded",  # a provider's batch added or changed records (item, batch, counts): readers look inside
    "record.disputed",  # an objection was filed: the record is marked 异议处理中
    "record.suspended",  # the provider missed its deadline: disclosure suspended
    "record.dispute_closed",  # objection upheld (维持): the mark is lifted, the record as it was
    "record.corrected",  # objection decided by correcting the record: a new version
    "record.removed",  # objection decided by removing the record (撤销/删除): state withdrawn
    "record.moved",  # a not_mine objection: the platform moved the record to the subject it is about
    "record.move_undone",  # the platform put a moved record back on the subject it was moved from
    "record.revoked",  # the provider reports the underlying decision revoked: state withdrawn
    "record.repaired",  # credit repair approved: the record leaves public disclosure
    "deadline.reminder",  # a task's due day is near: its owner is reminded (deadlines.remind_before)
    "objection.forwarded",  # the platform sent an objection to the record's source department
    "repair.applied",  # a credit repair application was filed: the deciding body has its deadline
    "repair.refused",  # credit repair refused, with the reason the applicant is told
    "list.entry_noticed",  # a listing was proposed and the subject told (告知): the defence period runs
    "list.entry_added",  # a red or black list entry was decided and published
    "list.entry_removed",  # an entry left its list (expired, repaired, revoked, new adverse record)
    "memorandum.published",  # a proposed memorandum or measures published (发起响应): checks return them
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=False),
    sa.Column("event_type", sa.String(48), nullable=False),
    fk("subject_id", "subjects.id", nullable=True, index=False),
    fk("record_id", "records.id", nullable=True, index=False),
    sa.Column("payload", Json, nullable=False),
    created_at(),
    sa.Index("ix_events_event_type_id", "event_type", "id"),
)

event_head = sa.Table(
    "event_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_id", _ID, nullable=False),
)
