"""The record writes of the rights chapter: state changes and corrected versions, each keeping the version
it replaces in record_versions (nothing is deleted), and who may write a record.

Both writes are compare-and-set: the UPDATE names the state (or version) that was read, so of two clerks
acting on one record at the same moment one wins and the other is told the record changed meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from xinyong.problems import Problem, ProblemError
from xinyong.rights.errors import Refused
from xinyong.store.tables import batches, organisations, record_provenance, record_versions, records

# States in which a record is disclosed as collected (possibly after a correction): the states an objection
# or a repair may start from.
DISCLOSED_STATES = ("active", "corrected")
# States an open objection holds a record in.
OBJECTION_STATES = ("disputed", "suspended")


def record_row(conn: sa.Connection, record_id: int) -> Any:
    return conn.execute(sa.select(records).where(records.c.id == record_id)).first()


def require_record(conn: sa.Connection, record_id: int) -> Any:
    row = record_row(conn, record_id)
    if row is None:
        raise Refused.one(
            "record.not_found",
            f"没有编号为 {record_id} 的信用记录",
            f"no credit record {record_id}",
            field="record",
            status=404,
        )
    return row


def find_by_identity(conn: sa.Connection, *, item_code: str, source_uscc: str, source_key: str) -> Any:
    r = records
    return conn.execute(
        sa.select(r).where(
            r.c.item_code == item_code, r.c.source_uscc == source_uscc, r.c.source_key == source_key
        )
    ).first()


def change_state(conn: sa.Connection, *, record: Any, to: str, reason: str, now: dt.datetime) -> None:
    """Move `record` (the row as read) to state `to`, keeping its current version in record_versions."""
    r = records
    moved = conn.execute(
        r.update()
        .where(r.c.id == record.id, r.c.state == record.state, r.c.version == record.version)
        .values(state=to, version=r.c.version + 1, updated_at=now)
    )
    if moved.rowcount != 1:
        raise changed_meanwhile(record.id)
    _keep_version(conn, record, reason=reason, now=now)


def new_version(
    conn: sa.Connection,
    *,
    record: Any,
    data: Mapping[str, Any],
    original: Mapping[str, Any] | None,
    content_hash: str,
    dates: Mapping[str, dt.date | None],
    state: str,
    reason: str,
    now: dt.datetime,
) -> int:
    """Write corrected values as the record's next version (same identity); returns the new version."""
    r = records
    moved = conn.execute(
        r.update()
        .where(r.c.id == record.id, r.c.version == record.version, r.c.state == record.state)
        .values(
            data=dict(data),
            original=dict(original) if original else None,
            content_hash=content_hash,
            state=state,
            version=r.c.version + 1,
            updated_at=now,
            **dates,
        )
    )
    if moved.rowcount != 1:
        raise changed_meanwhile(record.id)
    _keep_version(conn, record, reason=reason, now=now)
    return int(record.version) + 1


def _keep_version(conn: sa.Connection, record: Any, *, reason: str, now: dt.datetime) -> None:
    conn.execute(
        record_versions.insert().values(
            record_id=record.id,
            version=record.version,
            state=record.state,
            data=record.data,
            original=record.original,
            content_hash=record.content_hash,
            batch_id=record.last_batch_id,
            reason=reason[:64],
            superseded_at=now,
        )
    )


def changed_meanwhile(record_id: int) -> ProblemError:
    return ProblemError(
        Problem(
            "record.changed",
            f"信用记录 {record_id} 刚被他人修改，请刷新后重试",
            f"credit record {record_id} was changed by someone else just now; reload and retry",
            field="record",
        )
    )


def writers(conn: sa.Connection, record: Any) -> set[str]:
    """The organisations that may write this record: its source department and every collection system that
    forwarded it (the submitters of the batches its provenance names)."""
    submitted = conn.execute(
        sa.select(organisations.c.uscc)
        .distinct()
        .select_from(
            record_provenance.join(batches, batches.c.id == record_provenance.c.batch_id).join(
                organisations, organisations.c.id == batches.c.submitter_id
            )
        )
        .where(record_provenance.c.record_id == record.id)
    ).scalars()
    return {record.source_uscc, *submitted}


def versions(conn: sa.Connection, record_id: int) -> list[dict[str, Any]]:
    """Earlier versions of a record, oldest first (the current one is the record row itself)."""
    v = record_versions
    rows = conn.execute(sa.select(v).where(v.c.record_id == record_id).order_by(v.c.version)).mappings()
    return [
        {"version": r["version"], "state": r["state"], "reason": r["reason"], "data": r["data"]} for r in rows
    ]
