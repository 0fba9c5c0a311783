"""The event outbox: every change others must learn of, written in the same transaction as the change.

    from xinyong.events import emit, events_after
    emit(conn, event_type="record.repaired", record_id=..., subject_id=..., payload={...}, clock=clock)
    events_after(conn, after=cursor, limit=100)   # the feed, oldest first

Delivery (webhooks, the pull feed) reads this table; nothing is pushed from inside the transaction.
"""

from xinyong.events.models import EVENT_TYPES, event_head, events
from xinyong.events.service import emit, events_after, last_event_id

__all__ = ["EVENT_TYPES", "emit", "event_head", "events", "events_after", "last_event_id"]
