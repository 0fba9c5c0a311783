"""Token buckets: one process's (in memory) and the one the workers of `xinyong serve` share (a file)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from xinyong.security.ratelimit import InMemoryRateLimiter, RateLimiter, SharedRateLimiter
from xinyong.security.settings import Rate

THREE_A_MINUTE = Rate(capacity=3, period=60.0)


@pytest.fixture(params=["in_memory", "shared"])
def limiter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RateLimiter]:
    if request.param == "in_memory":
        yield InMemoryRateLimiter()
        return
    shared = SharedRateLimiter(tmp_path / "buckets.db")
    yield shared
    shared.close()


def test_a_bucket_spends_its_capacity_then_says_when_to_come_back(limiter: RateLimiter) -> None:
    assert [limiter.hit("ip:1", THREE_A_MINUTE, now=100.0).allowed for _ in range(4)] == [True] * 3 + [False]
    assert limiter.hit("ip:1", THREE_A_MINUTE, now=100.0).retry_after == 20  # one request refills in 20 s
    assert limiter.hit("ip:2", THREE_A_MINUTE, now=100.0).allowed  # every key has its own bucket
    assert not limiter.peek("ip:1", THREE_A_MINUTE, now=119.0).allowed
    assert limiter.peek("ip:1", THREE_A_MINUTE, now=120.0).allowed
    assert limiter.peek("ip:1", THREE_A_MINUTE, now=120.0).allowed  # a peek spends nothing
    assert limiter.hit("ip:1", THREE_A_MINUTE, now=120.0).allowed
    assert not limiter.hit("ip:1", THREE_A_MINUTE, now=120.0).allowed
    assert [limiter.hit("ip:1", THREE_A_MINUTE, now=1000.0).allowed for _ in range(4)] == [True] * 3 + [False]


def test_processes_that_open_the_same_file_share_one_allowance(tmp_path: Path) -> None:
    path = tmp_path / "buckets.db"
    first, second = SharedRateLimiter(path), SharedRateLimiter(path)
    hits = [(first if i % 2 else second).hit("ip:1", THREE_A_MINUTE, now=100.0).allowed for i in range(6)]
    assert hits == [True] * 3 + [False] * 3


def _spend(path: Path, count: int, allowed: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limiter = SharedRateLimiter(path)
    allowed.put(
        sum(limiter.hit("ip:1", Rate(capacity=50, period=3600.0), now=100.0).allowed for _ in range(count))
    )


def test_concurrent_workers_never_grant_more_than_the_capacity(tmp_path: Path) -> None:
    path = tmp_path / "buckets.db"
    SharedRateLimiter(path).close()  # made before the workers start, as the supervisor does
    context = multiprocessing.get_context("fork")
    allowed: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    workers = [context.Process(target=_spend, args=(path, 40, allowed)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sum(allowed.get(timeout=5) for _ in workers) == 50  # 120 asked, across three processes


def test_a_bucket_file_locked_past_the_timeout_lets_the_request_through(tmp_path: Path) -> None:
    path = tmp_path / "buckets.db"
    limiter = SharedRateLimiter(path)
    limiter._conn.execute("PRAGMA busy_timeout = 50")  # not the 5 s a worker waits
    stuck = sqlite3.connect(path, isolation_level=None)
    stuck.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        assert limiter.hit("ip:1", THREE_A_MINUTE, now=100.0).allowed  # served, not a 500
    finally:
        stuck.execute("ROLLBACK")
    assert [limiter.hit("ip:1", THREE_A_MINUTE, now=100.0).allowed for _ in range(4)] == [True] * 3 + [False]
