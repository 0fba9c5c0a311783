"""`xinyong serve`: uvicorn worker processes sharing one listening socket, the schedules run once.

    run(settings, host="127.0.0.1", port=8000, options=ServeOptions(workers=2))

- **One socket, opened here.** It is created as an IPPROTO_TCP socket so that asyncio switches Nagle's
  algorithm off on every accepted connection (uvicorn's own `--workers` binds with protocol 0, and every
  keep-alive answer then waits ~40 ms for a delayed ACK), with SO_REUSEADDR and a listen backlog of
  `--backlog` (the kernel caps it at net.core.somaxconn). Every worker accepts on it.
- **Workers.** `--workers N` (default: the machine's cores) processes, started with `spawn` (no thread or
  database connection crosses a fork), each running the whole app on its own event loop; a worker that
  dies is started again. Keep-alive connections stay open `--keep-alive` seconds between requests.
- **Schedules once.** The deadline engine and the push worker (web/schedule.py) run in exactly one process:
  the app's own lifespan with one worker; the supervising process, which serves nothing, with several.
- **Limits are per process.** The anonymous public's rate limit (security.ratelimit) is counted by each
  worker; behind several workers a client gets up to N times the per-process allowance.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from dataclasses import dataclass
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
    runtime.engine.dispose()
    _supervise(runtime, sock, options, clock)


def _serve_app(runtime: Runtime, sock: socket.socket, options: ServeOptions, *, schedules: bool) -> None:
    import uvicorn

    from xinyong.web.app import create_app

    app = create_app(
        runtime,
        deadlines_every=options.deadlines_every if schedules else 0,
        push_every=options.push_every if schedules else 0,
    )
    scheduled = schedules and (options.deadlines_every > 0 or options.push_every > 0)
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


def _worker(settings: Settings, sock: socket.socket, options: ServeOptions, clock: Clock | None) -> None:
    """One serving process: its own runtime (engines, pools), no schedules."""
    runtime = Runtime.open(settings, clock=clock)
    try:
        _serve_app(runtime, sock, options, schedules=False)
    finally:
        runtime.close()


def _supervise(runtime: Runtime, sock: socket.socket, options: ServeOptions, clock: Clock | None) -> None:
    from xinyong.logging import configure_logging
    from xinyong.web.schedule import ScheduleThread

    configure_logging(runtime.settings)
    context = multiprocessing.get_context("spawn")

    def start() -> Any:
        process = context.Process(
            target=_worker, args=(runtime.settings, sock, options, clock), name="xinyong-worker", daemon=False
        )
        process.start()
        return process

    workers = [start() for _ in range(options.workers)]
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    schedules = ScheduleThread(runtime, options.deadlines_every, options.push_every)
    schedules.start()
    log.info("supervisor %d: %d workers, schedules here", os.getpid(), len(workers))
    try:
        while not stopping.wait(0.5):
            for i, process in enumerate(workers):
                if not process.is_alive():
                    log.warning("worker %s ended (exit %s); starting another", process.pid, process.exitcode)
                    workers[i] = start()
    finally:
        for process in workers:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
        for process in workers:
            process.join(30)
            if process.is_alive():
                process.kill()
        schedules.stop()
        sock.close()
        runtime.close()
