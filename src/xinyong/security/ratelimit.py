"""Rate limits: a token bucket per key (client IP, API token, user), so the portal cannot be scraped whole.

`RateLimiter` is the interface; `InMemoryRateLimiter` serves one process. A deployment with several
processes or machines swaps in a shared store (e.g. Redis with the same bucket arithmetic) by passing its
own limiter to `create_app(runtime, rate_limiter=...)`. Time comes from the caller (the runtime's clock).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

from xinyong.security.settings import Rate


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
        return min(float(rate.capacity), tokens + max(now - at, 0.0) * rate.per_second)

    def _prune(self, now: float) -> None:
        # A bucket idle for a whole period is full again, which is what a missing bucket means too.
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < v[2]}


def _refused(tokens: float, rate: Rate) -> Decision:
    return Decision(False, max(1, math.ceil((1.0 - tokens) / rate.per_second)))
