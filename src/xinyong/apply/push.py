"""The push worker (推送): outbox events to subscribers' webhooks, signed, retried, dead-lettered.

One run (`xinyong push run --once`, and the schedule inside `xinyong serve`):
  1. catch up with the outbox: entries resting on a repaired or revoked record leave their lists; records a
     provider's batch added under an item that feeds a list (lists.yaml `catalog_item`) become entries;
     entries whose validity ended leave theirs (so expiry needs no separate job under `xinyong serve`);
  2. queue one delivery per new event and matching webhook subscription;
  3. POST every delivery that is due. Each transaction is short; the HTTP call is made outside any.

The request a receiver gets (docs/apply.md):

    POST <url>
    Content-Type: application/json
    X-Xinyong-Event-Id: 42            (also Idempotency-Key: 42 — deduplicate on it)
    X-Xinyong-Event-Type: list.entry_removed
    X-Xinyong-Timestamp: 1796112000   (Unix seconds; refuse one too old to stop replays)
    X-Xinyong-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

    {"id": 42, "type": "list.entry_removed", "subject_id": …, "record_id": …, "payload": {…}, "created_at": …}

A 2xx answer is delivered; anything else (or no answer within `push.timeout`) is a failed attempt, tried
again after `push.retry_base` × 2^(attempts−1) seconds, and dead-lettered after `push.max_attempts`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any

import sqlalchemy as sa

from xinyong.apply import service
from xinyong.apply.models import deliveries, subscriptions
from xinyong.events.models import events
from xinyong.policy import load_policy
from xinyong.runtime import Runtime
from xinyong.security.principal import Principal

SIGNATURE_HEADER = "X-Xinyong-Signature"
TIMESTAMP_HEADER = "X-Xinyong-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 over `timestamp.body`, keyed by the subscription's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (shown here so the documentation and the tests use one definition)."""
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def run_once(runtime: Runtime, *, limit: int = 500) -> dict[str, Any]:
    """One pass of the worker; returns what it did."""
    clock, policy = runtime.clock, load_policy()
    worker = Principal.system("push")
    with runtime.engine.begin() as conn:
        removed = service.apply_record_events(conn, principal=worker, clock=clock, policy=policy)
        imported = service.import_listed_records(conn, principal=worker, clock=clock, policy=policy)
        expired = service.expire(
            conn, as_of=service.today(clock), principal=worker, clock=clock, policy=policy
        )
    with runtime.engine.begin() as conn:
        queued = service.queue_deliveries(conn, clock=clock)
    with runtime.engine.connect() as conn:
        due = conn.execute(
            sa.select(
                deliveries.c.id,
                deliveries.c.event_id,
                subscriptions.c.url,
                subscriptions.c.secret,
                events.c.event_type,
                events.c.subject_id,
                events.c.record_id,
                events.c.payload,
                events.c.created_at,
            )
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(deliveries.c.state == "pending", deliveries.c.next_attempt_at <= clock.now())
            .order_by(deliveries.c.event_id, deliveries.c.id)
            .limit(limit)
        ).all()
    report: dict[str, Any] = {
        "removed": [e["id"] for e in removed],
        "imported": [e["id"] for e in imported],
        "expired": [e["id"] for e in expired],
        "queued": queued,
        "delivered": 0,
        "failed": 0,
        "dead": 0,
        "delays_ms": [],
    }
    for row in due:
        body = _body(row)
        stamp = str(int(clock.now().timestamp()))
        error = _post(
            row.url, row.secret, row.event_id, row.event_type, body, stamp, policy.push.timeout.value
        )
        with runtime.engine.begin() as conn:
            if error is None:
                delay = max(0, int((clock.now() - row.created_at).total_seconds() * 1000))
                service.delivered(conn, delivery_id=row.id, clock=clock, delay_ms=delay)
                report["delivered"] += 1
                report["delays_ms"].append(delay)
            else:
                state = service.failed(conn, delivery_id=row.id, error=error, clock=clock, policy=policy)
                report["dead" if state == "dead" else "failed"] += 1
    return report


def _body(row: Any) -> bytes:
    from xinyong.clock import CHINA

    event = {
        "id": row.event_id,
        "type": row.event_type,
        "subject_id": row.subject_id,
        "record_id": row.record_id,
        "payload": row.payload,
        "created_at": row.created_at.astimezone(CHINA).isoformat(),
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _post(
    url: str, secret: str, event_id: int, event_type: str, body: bytes, timestamp: str, timeout: int
) -> str | None:
    """POST one event; None when the receiver answered 2xx, else why not."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "xinyong-push/1",
            "X-Xinyong-Event-Id": str(event_id),
            "X-Xinyong-Event-Type": event_type,
            "Idempotency-Key": str(event_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:300]
