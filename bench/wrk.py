"""Load from Debian's `wrk` (compiled: the client does not compete with the server for Python CPU), against
the platform served by `xinyong serve`'s own code (xinyong.web.serve), shared by bench/portal.py and
bench/scale.py.

    with served(settings, today="2026-06-15", workers=2) as port:
        limit = run_wrk(port, ["/healthz"], connections=16, seconds=10)       # the machine's limit
        api = run_wrk(port, subject_paths, connections=16, seconds=20)

Each phase cycles through its list of paths (a Lua script; every wrk thread starts at another offset) over
`connections` keep-alive connections for `seconds`, and reports requests/s, p50, p99 (wrk's --latency
distribution) and the count of non-2xx answers.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

LUA = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local extra = os.getenv("WRK_HEADER_NAME")
local counter = 0
function setup(thread) thread:set("offset", counter * 7919); counter = counter + 1 end
local i = 0
request = function()
  i = i + 1
  local headers = {["Accept"] = "application/json"}
  if extra then headers[extra] = os.getenv("WRK_HEADER_VALUE") end
  return wrk.format("GET", paths[((i + offset) % #paths) + 1], headers)
end
"""


@dataclass(frozen=True)
class Load:
    title: str
    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: str

    def line(self) -> str:
        if not self.requests:
            return f"  {self.title:<40} no answer completed within the phase  {self.errors}"
        bad = f"  non-2xx {self.non_2xx}" if self.non_2xx else ""
        errs = f"  socket errors: {self.errors}" if self.errors else ""
        return (
            f"  {self.title:<40} {self.rate:8.0f} req/s  p50 {self.p50_ms:7.1f} ms  p99 {self.p99_ms:7.1f} ms"
            f"  n={self.requests}{bad}{errs}"
        )


def require_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    return found


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    port: int,
    paths: list[str],
    *,
    title: str,
    connections: int = 16,
    seconds: int = 15,
    threads: int = 2,
    header: tuple[str, str] | None = None,
) -> Load:
    with tempfile.TemporaryDirectory() as tmp:
        script, listing = Path(tmp) / "paths.lua", Path(tmp) / "paths.txt"
        script.write_text(LUA)
        listing.write_text("\n".join(paths) + "\n")
        env = {**os.environ, "WRK_PATHS": str(listing)}
        if header:
            env.update(WRK_HEADER_NAME=header[0], WRK_HEADER_VALUE=header[1])
        out = subprocess.run(
            [
                require_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    dist = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if "99" not in dist:
        raise RuntimeError(f"wrk's output has no latency distribution:\n{out}")
    return Load(
        title=title,
        requests=int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(dist["50"]),
        p99_ms=_ms(dist["99"]),
        non_2xx=int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        errors=m.group(1).strip() if (m := re.search(r"Socket errors: (.*)", out)) else "",
    )


def warm_page_cache(database_url: str) -> str:
    """Bring the database into memory before measuring, and say how: the phases below ask for random
    subjects, each at most once, so a cold page cache measures the disk, not the platform: on the 1M/5M
    SQLite database with 2.6 of its 7.4 GB cached, a subject answer took 4.0 ms in process instead of 1.9,
    and the subject API ran at 916 req/s once all of it was read in. A server dedicated to the platform
    keeps its database in memory; the line printed says whether this one could.

    SQLite: the database file and its WAL are read once, sequentially. PostgreSQL: `pg_prewarm` on the
    tables and indexes the public read path uses, where the role may create that extension; otherwise the
    line says the cache was left as the build left it."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[-1])
        started, size = time.monotonic(), 0
        for part in (path, path.with_name(path.name + "-wal")):
            if not part.exists():
                continue
            with part.open("rb", buffering=0) as handle:
                while chunk := handle.read(1 << 24):
                    size += len(chunk)
        took = time.monotonic() - started
        return f"  page cache: read the {size / 1e9:.2f} GB database once ({took:.0f} s)"
    import sqlalchemy as sa

    from xinyong.store.engine import make_engine

    engine = make_engine(database_url)
    tables = (
        "subjects",
        "subject_identifiers",
        "subject_names",
        "records",
        "organisations",
        *(f"search_{kind}_{slot}" for kind in ("grams", "gram_stats") for slot in "ab"),
    )
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            started, blocks = time.monotonic(), 0
            for table in tables:
                relations = conn.execute(
                    sa.text(
                        "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = to_regclass(:t) "
                        "UNION ALL SELECT i.indexrelid::regclass::text FROM pg_index i "
                        "WHERE i.indrelid = to_regclass(:t)"
                    ),
                    {"t": table},
                ).scalars()
                for relation in list(relations):
                    blocks += conn.execute(sa.text("SELECT pg_prewarm(:r)"), {"r": relation}).scalar_one()
        return (
            f"  page cache: pg_prewarm read {blocks * 8192 / 1e9:.2f} GB of the read path's tables and "
            f"indexes ({time.monotonic() - started:.0f} s)"
        )
    except sa.exc.DBAPIError as refused:
        reason = str(refused.orig).splitlines()[0] if refused.orig else type(refused).__name__
        return f"  page cache: not warmed (pg_prewarm: {reason}); figures may include disk reads"
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not come up")


@contextlib.contextmanager
def served(home: Path, database_url: str, *, today: str, workers: int) -> Iterator[int]:
    """`xinyong serve --workers N --no-access-log` on a free port (its clock fixed at `today`, no public
    rate limit, no schedules), in a subprocess; yields the port and stops it with SIGTERM."""
    port = free_port()
    env = {
        **os.environ,
        "XINYONG_HOME": str(home),
        "XINYONG_DATABASE_URL": database_url,
        "XINYONG_DEMO": "1",
        "XINYONG_RATE_PUBLIC": "off",
        "XINYONG_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), str(port), str(workers), today], env=env
    )
    try:
        wait_up(port)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def _serve_main() -> None:
    """The measuring server: xinyong.web.serve.run, exactly as `xinyong serve` runs it, with a fixed clock."""
    from xinyong.clock import FixedClock
    from xinyong.config import Settings
    from xinyong.web.serve import ServeOptions, run

    port, workers, today = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    settings = Settings.from_env(demo=True)
    options = ServeOptions(workers=workers, log_level="warning", access_log=False)
    run(settings, host="127.0.0.1", port=port, options=options, clock=FixedClock(f"{today}T09:00:00"))


if __name__ == "__main__":
    _serve_main()
