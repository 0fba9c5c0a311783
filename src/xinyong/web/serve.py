"""`xinyong serve`: uvicorn worker processes sharing one listening socket, the schedules run once.

    run(settings, host="127.0.0.1", port=8000, options=ServeOptions(workers=2))

- **One socket, opened here.** It is created as an IPPROTO_TCP socket so that asyncio switches Nagle's
  algorithm off on every accepted connection (uvicorn's own `--workers` binds with protocol 0, and every
  keep-alive answer then waits ~40 ms for a delayed ACK), with SO_REUSEADDR and a listen backlog of
  `--backlog` (the kernel caps it at net.core.somaxconn). Every worker accepts on it.
- **Workers.** `--workers N` (default: the machine's cores) processes forked from a supervisor that runs
  no thread and holds no database connection, each opening its own engines and running the whole app on
  its own event loop; a process that ends is started again. Keep-alive connections stay open
  `--keep-alive` seconds between requests.
- **Schedules once.** The deadline engine, the push worker and the search index refresh (web/schedule.py)
  run in exactly one process: the app's own lifespan with one worker; with several, one scheduler process
  beside the workers, which serves nothing (and is started again if it ends, so there is always exactly one).
- **Limits are shared.** With several workers the rate limits (security.ratelimit) are counted in one
  small file all of them open (`SharedRateLimiter`, in /dev/shm when there is one, removed on exit), so a
  client gets the configured allowance whichever worker its connections reach, not N times it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xinyong.clock import Clock
from xinyong.config import Settings
from xinyong.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_BACKLOG = 2048
DEFAULT_KEEP_ALIVE_S = 75  # above the 60 s idle timeout of common reverse proxies: they close first


@dataclass(frozen=True)
class ServeOptions:
    workers: int = 1
    backlog: int = DEFAULT_BACKLOG
    keep_alive_s: int = DEFAULT_KEEP_ALIVE_S
    log_level: str = "info"
    access_log: bool = True
    deadlines_every: float = 0
    push_every: float = 0
    search_every: float = 0
    rate_limits: Path | None = None  # the workers' shared rate-limit file (set by the supervisor)

    @property
    def scheduled(self) -> bool:
        return self.deadlines_every > 0 or self.push_every > 0 or self.search_every > 0


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    options: ServeOptions,
    clock: Clock | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM. Raises ProblemError (db.not_migrated) before binding anything."""
    runtime = Runtime.open_current(settings, clock=clock)
    sock = listening_socket(host, port, options.backlog)
    if options.workers <= 1:
        try:
            _serve_app(runtime, sock, options, schedules=True)
        finally:
            runtime.close()
        return
    runtime.close()  # no connection crosses a fork: each process opens its own
    _supervise(settings, sock, options, clock)


def _serve_app(runtime: Runtime, sock: socket.socket, options: ServeOptions, *, schedules: bool) -> None:
    import uvicorn

    from xinyong.security.ratelimit import SharedRateLimiter
    from xinyong.web.app import create_app

    app = create_app(
        runtime,
        rate_limiter=SharedRateLimiter(options.rate_limits) if options.rate_limits is not None else None,
        deadlines_every=options.deadlines_every if schedules else 0,
        push_every=options.push_every if schedules else 0,
        search_every=options.search_every if schedules else 0,
    )
    scheduled = schedules and options.scheduled
    log.info("process %d serving%s", os.getpid(), " with the schedules" if scheduled else "")
    config = uvicorn.Config(
        app,
        log_level=options.log_level.lower(),
        access_log=options.access_log,
        timeout_keep_alive=options.keep_alive_s,
        backlog=options.backlog,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; the app reads it itself, and
        # only from the proxies listed in XINYONG_TRUSTED_PROXIES (web.deps.client_ip).
        proxy_headers=False,
        server_header=False,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _child(
    role: str, settings: Settings, sock: socket.socket, options: ServeOptions, clock: Clock | None
) -> None:
    """A forked process: a worker (serves, no schedules) or the scheduler (schedules, serves nothing)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)  # not the supervisor's; uvicorn and the scheduler set theirs
    runtime = Runtime.open(settings, clock=clock)
    try:
        if role == "scheduler":
            from xinyong.logging import configure_logging
            from xinyong.web.schedule import run_schedules

            sock.close()
            configure_logging(runtime.settings)
            run_schedules(runtime, options.deadlines_every, options.push_every, options.search_every)
        else:
            _serve_app(runtime, sock, options, schedules=False)
    finally:
        runtime.close()


def _supervise(settings: Settings, sock: socket.socket, options: ServeOptions, clock: Clock | None) -> None:
    """Forks the workers and, when a schedule is on, one scheduler; starts again any that ends; on SIGTERM
    or SIGINT ends them all. The supervisor itself runs no thread and holds no connection, so forking
    (fast: the app is imported once, here) is safe whenever it happens."""
    from xinyong.logging import configure_logging
    from xinyong.security.ratelimit import SharedRateLimiter
    from xinyong.web.app import create_app  # noqa: F401  (imported before forking: children share it)

    configure_logging(settings)
    shared = Path(tempfile.mkdtemp(prefix="xinyong-limits-", dir=_memory_backed_dir()))
    limits = shared / "buckets.db"
    SharedRateLimiter(limits).close()  # made once, before the workers open it
    options = replace(options, rate_limits=limits)
    context = multiprocessing.get_context("fork")
    roles = ["worker"] * options.workers
    if options.scheduled:
        roles.append("scheduler")

    def start(role: str) -> Any:
        process = context.Process(
            target=_child, args=(role, settings, sock, options, clock), name=f"xinyong-{role}"
        )
        process.start()
        return process

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    children = [start(role) for role in roles]
    log.info(
        "supervisor %d: %d workers, %d scheduler", os.getpid(), options.workers, len(roles) - options.workers
    )
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(children):
                if not process.is_alive():
                    log.warning(
                        "%s %s ended (exit %s); starting another", roles[i], process.pid, process.exitcode
                    )
                    children[i] = start(roles[i])
    finally:
        for process in children:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
        for process in children:
            process.join(30)
            if process.is_alive():
                process.kill()
        sock.close()
        shutil.rmtree(shared, ignore_errors=True)


def _memory_backed_dir() -> str | None:
    """/dev/shm where there is one (the buckets then never touch a disk), else the system's temp dir."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
