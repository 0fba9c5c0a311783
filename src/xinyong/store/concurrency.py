"""Writers that meet: idempotent inserts and transactions retried when a concurrent writer got there first.

Two providers loading the same new companies at once both try to create them; on PostgreSQL the second
INSERT waits for the first transaction and then fails on the unique key (or the two wait for each other
and one is chosen as a deadlock victim). Nothing is wrong with either batch: running it again, now that the
other one has committed, finds the subjects and succeeds. SQLite serialises writers (busy_timeout), so the
same conflict shows there only as a lock that outlasted the wait.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from xinyong.store.bulk import bulk_transaction
from xinyong.store.engine import dialect_insert

__all__ = ["ATTEMPTS", "dialect_insert", "in_transaction", "lost_to_a_concurrent_writer"]

T = TypeVar("T")
ATTEMPTS = 5
# unique_violation, deadlock_detected, serialization_failure: the other writer won; a new attempt sees it.
_RETRYABLE_SQLSTATES = {"23505", "40P01", "40001"}


def lost_to_a_concurrent_writer(exc: BaseException) -> bool:
    """True when `exc` means another transaction wrote the same key first (or locked us out).

    Bulk writes go through the driver itself (COPY, executemany: store/bulk.py), so the driver's own
    exceptions count as well as SQLAlchemy's wrapped ones.
    """
    driver_error = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if getattr(driver_error, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(driver_error, sqlite3.OperationalError) and "database is locked" in str(driver_error)


def in_transaction(
    engine: sa.Engine, work: Callable[[sa.Connection], T], *, attempts: int = ATTEMPTS, bulk: bool = False
) -> T:
    """Run `work` in one transaction; if a concurrent writer made it fail, roll back and run it again.
    `bulk`: a bulk load's transaction (`store.bulk.bulk_transaction`).

    `work` must be safe to repeat: everything it wrote is rolled back before the next attempt, so it must
    not keep state outside the database between attempts (start its counters afresh inside).
    """
    for attempt in range(1, attempts + 1):
        try:
            with bulk_transaction(engine) if bulk else engine.begin() as conn:
                return work(conn)
        except Exception as exc:
            if attempt == attempts or not lost_to_a_concurrent_writer(exc):
                raise
    raise AssertionError("unreachable")  # pragma: no cover
