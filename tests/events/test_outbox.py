"""The outbox: events written inside the change's transaction, read back as a feed by cursor, and ids that
become visible in order, so a reader at cursor N never skips an event committed later with a smaller id.
On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from xinyong.clock import FixedClock
from xinyong.events import emit, events_after, last_event_id

CLOCK = FixedClock("2026-10-12T10:00")


def test_events_are_read_by_cursor_oldest_first(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        ids = [emit(conn, event_type=t, clock=CLOCK, payload={"n": n}) for n, t in enumerate(
            ("record.revoked", "record.repaired", "record.corrected", "record.repaired")
        )]  # fmt: skip
    assert ids == [1, 2, 3, 4]
    with engine.connect() as conn:
        first = events_after(conn, after=0, limit=2)
        rest = events_after(conn, after=first[-1]["id"], limit=10)
        repaired = events_after(conn, after=0, types=("record.repaired",))
        assert last_event_id(conn) == 4
    assert [e["payload"]["n"] for e in first + rest] == [0, 1, 2, 3]
    assert [e["id"] for e in repaired] == [2, 4]
    assert first[0]["created_at"].startswith("2026-10-12T10:00")


def test_an_event_exists_only_if_its_change_committed(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        emit(conn, event_type="record.repaired", clock=CLOCK, payload={})
        raise RuntimeError("the change failed")
    with engine.begin() as conn:
        emit(conn, event_type="record.repaired", clock=CLOCK, payload={"kept": True})
    with engine.connect() as conn:
        assert [e["payload"] for e in events_after(conn, after=0)] == [{"kept": True}]


def test_ids_become_visible_in_order(engine: sa.Engine) -> None:
    """A second writer waits for the first to commit: its event cannot appear before the first one's."""
    with engine.begin() as conn:
        emit(conn, event_type="record.revoked", clock=CLOCK, payload={})  # the head row exists
    second_done = threading.Event()
    taken: list[int] = []

    def second() -> None:
        with engine.begin() as conn:
            taken.append(emit(conn, event_type="record.repaired", clock=CLOCK, payload={"who": "second"}))
        second_done.set()

    with engine.begin() as conn:
        first = emit(conn, event_type="record.repaired", clock=CLOCK, payload={"who": "first"})
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert not second_done.is_set()  # blocked behind the first transaction
        with engine.connect() as reader:
            assert [e["id"] for e in events_after(reader, after=1)] == []  # nothing visible yet
    thread.join(timeout=30)
    assert second_done.is_set() and taken == [first + 1]
    with engine.connect() as conn:
        assert [e["payload"]["who"] for e in events_after(conn, after=1)] == ["first", "second"]
