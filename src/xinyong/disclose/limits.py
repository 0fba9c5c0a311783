"""Hard limits on every disclosure query, and the refusal that says why (Datasette's approach).

A query that would read too much is refused before it runs (a search too short to use the index, a list
filter that leaves too much to scan); one that runs anyway is stopped at the time limit: on SQLite by a
progress handler that interrupts the statement, on PostgreSQL by `SET LOCAL statement_timeout`. Either
way the client gets a message in Chinese and English saying what to narrow, never a hung request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from xinyong.config import Settings
from xinyong.problems import Problem, ProblemError


class QueryRefused(ProblemError):
    """A disclosure query refused or stopped: HTTP `status` with a bilingual problem."""

    def __init__(self, code: str, message_zh: str, message_en: str, *, status: int = 422) -> None:
        super().__init__(Problem(code, message_zh, message_en))
        self.status = status

    @property
    def problem(self) -> Problem:
        return self.problems[0]

    def body(self) -> dict[str, Any]:
        return {"detail": self.problem.as_dict()}


# field -> (environment variable, default); docs/disclosure.md says what each one means.
ENV: dict[str, tuple[str, str]] = {
    "query_time_limit_ms": ("XINYONG_QUERY_TIME_LIMIT_MS", "2000"),
    "list_scan_rows": ("XINYONG_LIST_SCAN_ROWS", "2000"),
    "export_max_rows": ("XINYONG_EXPORT_MAX_ROWS", "5000"),
    "search_scan": ("XINYONG_SEARCH_SCAN", "20000"),
    "list_text_max_chars": ("XINYONG_LIST_TEXT_MAX_CHARS", "1000"),
    "list_count_max": ("XINYONG_LIST_COUNT_MAX", "2000"),
}


@dataclass(frozen=True)
class DisclosureSettings:
    query_time_limit_ms: int  # every portal and API query stops after this long
    list_scan_rows: int  # records one page of a 双公示 list may examine before answering with what it has
    export_max_rows: int  # rows one CSV/JSON export returns (then a cursor continues)
    search_scan: int  # index entries one name search may read for its rarest gram
    # characters of one field shown in a list (the 双公示 lists, a subject's public records, their exports);
    # the record's notice (detail page, GET /api/v1/records/{id}) shows the whole text
    list_text_max_chars: int
    # records a list's total count may examine; past it the list says "more than N"
    list_count_max: int

    @classmethod
    def load(cls, settings: Settings | None = None) -> DisclosureSettings:
        import os

        extra = settings.extra if settings else {}
        values = {}
        for f in fields(cls):
            env, default = ENV[f.name]
            raw = extra.get(env) or os.environ.get(env) or default
            try:
                values[f.name] = int(raw)
            except ValueError as exc:
                raise ProblemError(
                    Problem(
                        "settings.invalid", f"{env} 须为整数：{raw!r}", f"{env} must be an integer: {raw!r}"
                    )
                ) from exc
        return cls(**values)


TOO_SLOW = (
    "查询超过时间限制，已停止。请缩小日期范围或增加筛选条件后重试。",
    "The query ran past its time limit and was stopped. Narrow the dates or add a filter, then retry.",
)


_SESSION_TIME_LIMIT = "xinyong_statement_timeout_ms"


@contextmanager
def bounded(engine: sa.Engine, milliseconds: int) -> Iterator[sa.Connection]:
    """A connection to `engine` in one transaction, every statement stopped past `milliseconds` (each
    public read: none of them may hold a worker, nor meet a limit an earlier request left on the session
    and fail unhandled)."""
    with engine.begin() as conn, time_limit(conn, milliseconds):
        yield conn


@contextmanager
def time_limit(conn: sa.Connection, milliseconds: int) -> Iterator[None]:
    """Stop any statement of `conn` that runs past `milliseconds` from now; raise QueryRefused (503)."""
    if milliseconds <= 0:
        yield
        return
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        deadline = time.perf_counter() + milliseconds / 1000

        def interrupt() -> int:
            return 1 if time.perf_counter() > deadline else 0

        raw.set_progress_handler(interrupt, 20_000)  # type: ignore[union-attr]
        try:
            yield
        except sa.exc.OperationalError as exc:
            if "interrupted" in str(exc.orig):
                raise QueryRefused("query.time_limit", *TOO_SLOW, status=503) from exc
            raise
        finally:
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]
        return
    if getattr(conn.connection.driver_connection, "autocommit", False):
        # No transaction to scope SET LOCAL to (store.engine.make_public_reader): the session keeps the
        # limit, set once per pooled connection; all that session runs is the public path's.
        if conn.connection.info.get(_SESSION_TIME_LIMIT) != milliseconds:
            conn.exec_driver_sql(f"SET statement_timeout = {int(milliseconds)}")
            conn.connection.info[_SESSION_TIME_LIMIT] = milliseconds
    else:
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(milliseconds)}")
    try:
        yield
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            raise QueryRefused("query.time_limit", *TOO_SLOW, status=503) from exc
        raise
