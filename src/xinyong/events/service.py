"""Writing to the outbox and reading it back as a feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from xinyong.clock import CHINA, Clock
from xinyong.events.models import event_head, events

_HEAD = 1


def emit(
    conn: sa.Connection,
    *,
    event_type: str,
    clock: Clock,
    payload: Mapping[str, Any],
    subject_id: int | None = None,
    record_id: int | None = None,
) -> int:
    """Append one event inside the caller's transaction and return its id (the feed cursor).

    Call it in the transaction that makes the change, so the event exists exactly when the change does.
    Takes the event head's lock until the transaction ends (see models.py for why).
    """
    event_id = _take_next(conn)
    conn.execute(
        events.insert().values(
            id=event_id,
            event_type=event_type,
            subject_id=subject_id,
            record_id=record_id,
            payload=dict(payload),
            created_at=clock.now(),
        )
    )
    return event_id


def _take_next(conn: sa.Connection) -> int:
    bump = (
        event_head.update()
        .where(event_head.c.id == _HEAD)
        .values(last_id=event_head.c.last_id + 1)
        .returning(event_head.c.last_id)
    )
    taken = conn.execute(bump).scalar()
    if taken is None:
        # The first event ever: create the head, tolerating a concurrent creator.
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(insert(event_head).values(id=_HEAD, last_id=0).on_conflict_do_nothing())
        taken = conn.execute(bump).scalar_one()
    return int(taken)


def events_after(
    conn: sa.Connection, *, after: int = 0, limit: int = 100, types: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """Events with an id above `after`, oldest first, at most `limit`: pass the last id seen as the next
    `after`. `types` narrows to some event types."""
    e = events
    query = sa.select(e).where(e.c.id > after).order_by(e.c.id).limit(max(1, min(limit, 10_000)))
    if types:
        query = query.where(e.c.event_type.in_(types))
    return [
        {
            "id": row["id"],
            "type": row["event_type"],
            "subject_id": row["subject_id"],
            "record_id": row["record_id"],
            "payload": row["payload"],
            "created_at": row["created_at"].astimezone(CHINA).isoformat(),
        }
        for row in conn.execute(query).mappings()
    ]


def last_event_id(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one())
