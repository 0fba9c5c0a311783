"""`xinyong serve --workers N`: N serving processes on one socket, the schedules in exactly one process
beside them, every process ended on SIGTERM. A real server in a subprocess (the command line)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from xinyong.web.serve import listening_socket

SRC = Path(__file__).parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, seconds: float = 180) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds  # generous: the machine may be shared and slow to import
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


@contextlib.contextmanager
def serving_two_workers(
    home: Path, sqlite_template: Path, **settings: str
) -> Iterator[tuple[Any, int, Path]]:
    """`xinyong serve --workers 2` on a copy of the template, its output in home/serve.log: (the process,
    its port, the log) once both workers say they serve; ended with SIGTERM on exit."""
    home.mkdir(parents=True)
    shutil.copyfile(sqlite_template, home / "xinyong.db")
    port = free_port()
    log = home / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(SRC), "XINYONG_LOG_LEVEL": "info", **settings}
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "xinyong.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(lambda: len(re.findall(r"process \d+ serving", log.read_text())) == 2), (
            log.read_text()
        )
        yield server, port, log
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def test_several_workers_serve_and_the_schedules_run_once(home: Path, sqlite_template: Path) -> None:
    intervals = {"XINYONG_DEADLINES_INTERVAL_S": "3600", "XINYONG_PUSH_INTERVAL_S": "0.2"}
    with serving_two_workers(home, sqlite_template, **intervals) as (server, port, log):
        assert wait_until(lambda: "schedules started" in log.read_text()), log.read_text()
        assert wait_until(lambda: _healthy(port)), log.read_text()
        time.sleep(1.5)  # several push intervals: a second scheduler would have said so by now
        text = log.read_text()
        serving = set(re.findall(r"process (\d+) serving", text))
        scheduling = re.findall(r"schedules started in process (\d+)", text)
        assert len(serving) == 2 and "with the schedules" not in text
        assert len(scheduling) == 1 and scheduling[0] not in serving  # once, and not in a worker
        assert "search index every 60.0 s" in text  # XINYONG_SEARCH_REFRESH_INTERVAL_S's default
        assert str(server.pid) not in serving | set(scheduling)  # the supervisor only supervises
    assert server.returncode == 0
    for pid in serving | set(scheduling):
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_shared_socket_is_tcp_so_answers_are_not_held_back_by_nagle() -> None:
    """asyncio switches Nagle's algorithm off only on sockets accepted from an IPPROTO_TCP listener (a
    protocol-0 socket, as uvicorn's own --workers binds, leaves every keep-alive answer waiting ~40 ms)."""
    sock = listening_socket("127.0.0.1", 0, 4096)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) == 1
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    finally:
        sock.close()


def test_the_workers_count_one_rate_limit_together(home: Path, sqlite_template: Path) -> None:
    with serving_two_workers(home, sqlite_template, XINYONG_RATE_PUBLIC="4/minute") as (_, port, log):
        assert wait_until(lambda: _healthy(port)), log.read_text()
        workers = set(re.findall(r"process (\d+) serving", log.read_text()))
        counted_in = {pid: _rate_limit_files(pid) for pid in workers}
        # Every worker counts in the same one file, whichever worker a client's connection reaches.
        assert len(set(counted_in.values())) == 1 and all(counted_in.values()), counted_in
        shared = Path(next(iter(counted_in.values()))[0]).parent
        statuses = [
            httpx.get(f"http://127.0.0.1:{port}/api/v1/search", params={"q": "公司"}, timeout=10).status_code
            for _ in range(12)  # each on a new connection
        ]
        assert statuses.count(429) == 8 and statuses[:4] == [200] * 4, statuses
    assert not shared.exists()  # the buckets go with the server


def _rate_limit_files(pid: str) -> tuple[str, ...]:
    opened = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if "xinyong-limits-" in target and target.endswith("buckets.db"):
                opened.append(target)
    return tuple(sorted(opened))
