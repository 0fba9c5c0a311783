"""Rate limits: a token bucket per key (client IP, API token, user), so the portal cannot be scraped whole.

`RateLimiter` is the interface. `InMemoryRateLimiter` serves one process. `SharedRateLimiter` serves the
worker processes of one `xinyong serve --workers N` on one machine: the buckets live in a small SQLite file
all of them open, so a client gets the configured allowance, not N times it, whichever worker its
connections land on. A deployment across several machines swaps in a store they share (e.g. Redis with the
same bucket arithmetic) by passing its own limiter to `create_app(runtime, rate_limiter=...)`. Time comes
from the caller (the runtime's clock).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from xinyong.security.settings import Rate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds until one request would be allowed


class RateLimiter(Protocol):
    def hit(self, key: str, rate: Rate, *, now: float) -> Decision:
        """Spend one request of `key`'s bucket if it has one."""
        ...

    def peek(self, key: str, rate: Rate, *, now: float) -> Decision:
        """Would a request of `key` be allowed now? Spends nothing (a bucket that only failures spend)."""
        ...


class InMemoryRateLimiter:
    """Token buckets in a dict, guarded by a lock. Full (idle) buckets are dropped when it grows large."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._buckets: dict[str, tuple[float, float, float]] = {}  # key -> (tokens, at, refill period)
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def hit(self, key: str, rate: Rate, *, now: float) -> Decision:
        with self._lock:
            tokens = self._refilled(key, rate, now)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now, rate.period)
                if len(self._buckets) > self._max_keys:
                    self._prune(now)
                return Decision(True)
            self._buckets[key] = (tokens, now, rate.period)
            return _refused(tokens, rate)

    def peek(self, key: str, rate: Rate, *, now: float) -> Decision:
        with self._lock:
            tokens = self._refilled(key, rate, now)
            return Decision(True) if tokens >= 1.0 else _refused(tokens, rate)

    def _refilled(self, key: str, rate: Rate, now: float) -> float:
        tokens, at, _ = self._buckets.get(key, (float(rate.capacity), now, rate.period))
        return _refill(tokens, at, rate, now)

    def _prune(self, now: float) -> None:
        # A bucket idle for a whole period is full again, which is what a missing bucket means too.
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < v[2]}


class SharedRateLimiter:
    """Token buckets in a SQLite file shared by the processes of one machine (`path`, made by whoever
    starts them: xinyong.web.serve). Each hit is one short write transaction; the file needs no durability
    (a crash forgets the buckets, which then start full), so it is written without syncing."""

    PRUNE_EVERY = 10_000  # hits between two sweeps of idle buckets

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=OFF")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, "
            "at REAL NOT NULL, period REAL NOT NULL) WITHOUT ROWID"
        )
        self._lock = threading.Lock()  # one connection per process, its threads take turns
        self._hits = 0

    def hit(self, key: str, rate: Rate, *, now: float) -> Decision:
        try:
            return self._spend(key, rate, now)
        except sqlite3.OperationalError:
            # The file stayed locked past the timeout (a worker stuck mid-write): serve the request rather
            # than fail it; the limit resumes with the next hit that gets through.
            log.warning("rate limit file busy: request let through")
            return Decision(True)

    def _spend(self, key: str, rate: Rate, now: float) -> Decision:
        with self._lock, self._write():
            tokens = self._refilled(key, rate, now)
            spent = tokens >= 1.0
            self._conn.execute(
                "INSERT INTO buckets VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                "tokens = excluded.tokens, at = excluded.at, period = excluded.period",
                (key, tokens - 1.0 if spent else tokens, now, rate.period),
            )
            self._hits += 1
            if self._hits % self.PRUNE_EVERY == 0:
                # A bucket idle for a whole period is full again, which is what a missing bucket means too.
                self._conn.execute("DELETE FROM buckets WHERE ? - at >= period", (now,))
        return Decision(True) if spent else _refused(tokens, rate)

    def peek(self, key: str, rate: Rate, *, now: float) -> Decision:
        with self._lock:
            tokens = self._refilled(key, rate, now)
        return Decision(True) if tokens >= 1.0 else _refused(tokens, rate)

    def close(self) -> None:
        self._conn.close()

    def _refilled(self, key: str, rate: Rate, now: float) -> float:
        found = self._conn.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,)).fetchone()
        return float(rate.capacity) if found is None else _refill(found[0], found[1], rate, now)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT: reading and writing a bucket is one step for every process."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")


def _refill(tokens: float, at: float, rate: Rate, now: float) -> float:
    return min(float(rate.capacity), tokens + max(now - at, 0.0) * rate.per_second)


def _refused(tokens: float, rate: Rate) -> Decision:
    return Decision(False, max(1, math.ceil((1.0 - tokens) / rate.per_second)))
