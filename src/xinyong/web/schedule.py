"""Background work of `xinyong serve`: the deadline engine's run, every XINYONG_DEADLINES_INTERVAL_S seconds,
the push worker (webhook delivery, apply.push), every XINYONG_PUSH_INTERVAL_S seconds, and the name search
index's refresh (disclose.search.refresh: subjects created since, from any batch or registration), every
XINYONG_SEARCH_REFRESH_INTERVAL_S seconds.

The run is idempotent and each one is its own transaction, so several server processes running it at once
would only repeat a no-op; still, `xinyong serve --workers N` runs the schedules once, in one process of
their own beside the workers (web/serve.py), not once per worker. A failing run is logged and retried at
the next interval, never taking the site down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from xinyong.clock import CHINA
from xinyong.deadlines.cli import run_once
from xinyong.rights import notify
from xinyong.runtime import Runtime
from xinyong.timeouts import all_consequences

INTERVAL_ENV = "XINYONG_DEADLINES_INTERVAL_S"
DEFAULT_INTERVAL_S = 3600.0
PUSH_INTERVAL_ENV = "XINYONG_PUSH_INTERVAL_S"
DEFAULT_PUSH_INTERVAL_S = 1.0  # a list change reaches subscribers within about a second
SEARCH_INTERVAL_ENV = "XINYONG_SEARCH_REFRESH_INTERVAL_S"
# Until a refresh, every search also scans the subjects created since the last one, name by name (up to
# disclose.search.DELTA_CAP): at 10M records, after a 1M-row file had made 20,000 subjects, name search
# served 35 req/s (p99 1.74 s) before the refresh and 235 (p99 184 ms) after. A refresh that finds nothing
# new is one indexed read.
DEFAULT_SEARCH_INTERVAL_S = 60.0
log = logging.getLogger(__name__)


def interval_from_env() -> float:
    """Seconds between runs in `xinyong serve`; 0 switches the schedule off."""
    return max(0.0, float(os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL_S)))


def push_interval_from_env() -> float:
    """Seconds between push worker passes in `xinyong serve`; 0 switches it off."""
    return max(0.0, float(os.environ.get(PUSH_INTERVAL_ENV, DEFAULT_PUSH_INTERVAL_S)))


def search_interval_from_env() -> float:
    """Seconds between refreshes of the name search index in `xinyong serve`; 0 switches it off."""
    return max(0.0, float(os.environ.get(SEARCH_INTERVAL_ENV, DEFAULT_SEARCH_INTERVAL_S)))


def deadlines_lifespan(
    runtime: Runtime, every: float, push_every: float = 0, search_every: float = 0
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks = start_schedules(runtime, every, push_every, search_every)
        app.state.deadline_runs = 0
        try:
            yield
        finally:
            await stop_schedules(tasks)

    return lifespan


def start_schedules(
    runtime: Runtime, every: float, push_every: float, search_every: float = 0
) -> list[asyncio.Task[None]]:
    """The schedule tasks on the running event loop (none for an interval of 0)."""
    tasks = []
    if every > 0:
        tasks.append(asyncio.create_task(_loop(runtime, every)))
    if push_every > 0:
        tasks.append(asyncio.create_task(_push_loop(runtime, push_every)))
    if search_every > 0:
        tasks.append(asyncio.create_task(_search_loop(runtime, search_every)))
    if tasks:
        log.info(
            "schedules started in process %d: deadlines every %s s, push every %s s, search index every %s s",
            os.getpid(),
            every or "-",
            push_every or "-",
            search_every or "-",
        )
    return tasks


async def stop_schedules(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def run_schedules(runtime: Runtime, every: float, push_every: float, search_every: float = 0) -> None:
    """The schedules as a process of their own (the supervisor's scheduler under several workers), until
    SIGTERM or SIGINT."""
    import signal

    async def main() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        tasks = start_schedules(runtime, every, push_every, search_every)
        await stopping.wait()
        await stop_schedules(tasks)

    asyncio.run(main())


def deliver_notifications(runtime: Runtime) -> dict[str, int]:
    return notify.deliver_and_send(runtime)


async def _repeat(name: str, every: float, job: Callable[[], None]) -> None:
    """`job` in a worker thread every `every` seconds; a failing run must not stop the next, nor the site."""
    while True:
        try:
            await run_in_threadpool(job)
        except Exception:
            log.exception("%s failed; retrying in %s s", name, every)
        await asyncio.sleep(every)


def _push_loop(runtime: Runtime, every: float) -> Coroutine[Any, Any, None]:
    from xinyong.apply.push import run_once as push_once

    def run() -> None:
        report = push_once(runtime)
        if report["delivered"] or report["failed"] or report["dead"]:
            log.info("push: %s", {k: v for k, v in report.items() if k != "delays_ms"})

    return _repeat("push pass", every, run)


def _search_loop(runtime: Runtime, every: float) -> Coroutine[Any, Any, None]:
    from xinyong.disclose.search import refresh

    def run() -> None:
        if added := refresh(runtime.engine, clock=runtime.clock):
            log.info("search index: %d new subjects added", added)

    return _repeat("search index refresh", every, run)


def _loop(runtime: Runtime, every: float) -> Coroutine[Any, Any, None]:
    def run() -> None:
        day = runtime.clock.now().astimezone(CHINA).date()
        report = run_once(runtime, as_of=day, consequences=all_consequences())
        # Steps taken elsewhere (the counter's CLI, the run just made) reach the inboxes and mailboxes.
        deliver_notifications(runtime)
        if any(report.values()):
            log.info("deadlines run %s: %s", day, {key: len(items) for key, items in report.items()})

    return _repeat("deadlines run", every, run)
