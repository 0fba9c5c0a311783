"""Benchmark: the check at the service window (逢办必查) on 1M subjects and 100k list entries.

    .venv/bin/python bench/check.py                                       # build if needed, then measure
    .venv/bin/python bench/check.py --subjects 100000 --entries 10000     # a reduced run (shared machines)
    .venv/bin/python bench/check.py --profile          # with a pyinstrument profile of the in-process check

Build (cached in --home; rebuilt when the sizes or seed differ, or with --rebuild): subjects, their
identifiers and names with bench/portal.py's generator (70 % companies, 15 % 个体工商户, 5 % other
organisations, 10 % persons with blind-indexed, encrypted ID numbers), then `--entries` list entries in force
on random organisations and persons (black and red lists, decided in 2026, valid to 2029), written with the
store's bulk writer; a government organisation and an API token for it.

Measure, in one run:
  1. `xinyong serve` (one uvicorn process, the push worker off) on 127.0.0.1; Debian's `wrk` drives
     POST /api/v1/checks with a Lua script that picks each request's subject from a mix (listed and unlisted
     subjects, organisations and persons, several matters), under 1 and 16 connections: p50, p99, rate;
  2. the machine's limit in the same run: wrk against GET /healthz of the same server, same connections;
  3. the in-process check (xinyong.apply.flows.check, one transaction each): checks per second;
  4. a batch check of `--batch-rows` subjects (apply.batch.check_file, in process): seconds.
Targets (issue 10): p99 ≤ 20 ms under one client; ≥ 2,000 in-process checks a second; the batch ≤ 5 s. Figures
are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import portal
from wrk import free_port, wait_up

from xinyong.clock import CHINA, SystemClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.store.bulk import insert_frame
from xinyong.store.engine import upgrade

HERE = Path(__file__).resolve().parent
DEFAULT_HOME = HERE / "out" / "check"
MATTERS = ("ZFCG", "ZBTB", "TDGY", "XMSP", "CZZJ")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--seed", type=int, default=20170701)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--in-process", type=int, default=5000, help="checks in the in-process loop")
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the check")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    args.home.mkdir(parents=True, exist_ok=True)
    # The demo key of the personal-identifier protector: synthetic data only (as bench/portal.py).
    settings = Settings(home=args.home, database_url=f"sqlite:///{args.home / 'xinyong.db'}", demo=True)
    runtime = Runtime.open(settings, clock=SystemClock())
    try:
        marker = args.home / "built.json"
        wanted = {"subjects": args.subjects, "entries": args.entries, "seed": args.seed}
        if args.rebuild or not marker.exists() or json.loads(marker.read_text()) != wanted:
            build(runtime, args)
            marker.write_text(json.dumps(wanted))
        print(measure(runtime, args))
    finally:
        runtime.close()
    return 0


# ---------------------------------------------------------------------------------------------- build


def build(runtime: Runtime, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    engine = runtime.engine
    path = Path(engine.url.database or "")
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade(engine)
    rng = np.random.default_rng(args.seed)
    now = dt.datetime.now(CHINA)
    portal._subjects(runtime, args.subjects, rng, now)
    print(f"subjects: {args.subjects:,} in {time.perf_counter() - started:.1f}s")
    t = time.perf_counter()
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT id, kind FROM subjects ORDER BY id")).all()
    ids = np.array([r[0] for r in kinds])
    chosen = rng.choice(ids, size=min(args.entries, len(ids)), replace=False)
    black = ["SXBZXR", "ZDSSWF", "TQNMGGZ", "AQSCYZSX", "SCJGYZWF"]
    red = ["AJNSR", "SXJLDX"]
    types = np.where(rng.random(len(chosen)) < 0.8, np.array(black)[rng.integers(0, 5, len(chosen))],
                     np.array(red)[rng.integers(0, 2, len(chosen))])  # fmt: skip
    kind_of = dict(kinds)
    # A person is on no red list of a firm (A级纳税人 takes organisations only): those become black entries.
    types = np.array([t if not (kind_of[int(s)] == "natural_person" and t in red) else "SXBZXR"
                      for s, t in zip(chosen, types, strict=True)])  # fmt: skip
    decided = [dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 150, len(chosen))]
    at = pl.lit(dt.datetime.now(dt.UTC), dtype=pl.Datetime("us", "UTC"))
    entries = pl.DataFrame(
        {
            "id": np.arange(1, len(chosen) + 1),
            "list_type": types,
            "subject_id": chosen,
            "state": "listed",
            "reason": "基准测试条目 / benchmark entry",
            "basis": "bench",
            "proposed_by": "bench",
            "noticed_on": decided,
            "defence_due": decided,
            "statement_waived": True,
            "decided_on": decided,
            "valid_until": [dt.date(2029, 1, 1)] * len(chosen),
        }
    ).with_columns(at.alias("created_at"), at.alias("updated_at"))
    with engine.begin() as conn:
        insert_frame(conn, "list_entries", entries)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"list entries: {entries.height:,} in {time.perf_counter() - t:.1f}s")


# -------------------------------------------------------------------------------------------- measure


def _government(runtime: Runtime) -> tuple[str, str]:
    """A government organisation of the bench and a fresh API token for it."""
    from xinyong.codes.uscc import make_uscc
    from xinyong.security.organisations import add_organisation, find_organisation
    from xinyong.security.tokens import issue_token

    uscc = make_uscc("1", "1", "420100", "Q0100050")
    with runtime.engine.begin() as conn:
        if find_organisation(conn, uscc) is None:
            add_organisation(conn, name="基准测试采购单位", uscc=uscc, kind="government", clock=runtime.clock)
        token = issue_token(conn, organisation_uscc=uscc, role="government", name="bench", days=1,
                            created_by="bench", clock=runtime.clock, max_days=366).token  # fmt: skip
    return uscc, token


def _codes(runtime: Runtime, rng: random.Random, n: int) -> list[str]:
    """A mix of subjects to check: half on a list, half not; organisations by USCC."""
    with runtime.engine.connect() as conn:
        listed = conn.execute(sa.text(
            "SELECT s.uscc FROM list_entries e JOIN subjects s ON s.id = e.subject_id "
            "WHERE s.uscc IS NOT NULL LIMIT :n"), {"n": n}).scalars().all()  # fmt: skip
        top = conn.execute(sa.text("SELECT max(id) FROM subjects")).scalar_one()
        sample = rng.sample(range(1, top + 1), min(n, top))
        plain = (
            conn.execute(
                sa.text("SELECT uscc FROM subjects WHERE uscc IS NOT NULL AND id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": sample},
            )
            .scalars()
            .all()
        )
    codes = list(listed[: n // 2]) + list(plain[: n // 2])
    rng.shuffle(codes)
    return codes


def _lua(path: Path, token: str, codes: list[str]) -> Path:
    bodies = [json.dumps({"subject": c, "matter": MATTERS[i % len(MATTERS)]}) for i, c in enumerate(codes)]
    table = ",\n".join(json.dumps(b) for b in bodies)
    path.write_text(
        f"""-- POST /api/v1/checks with a subject picked from a mix (written by bench/check.py)
local bodies = {{
{table}
}}
local n = #bodies
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  return wrk.format(nil, "/api/v1/checks", nil, bodies[math.random(n)])
end
""",
        encoding="utf-8",
    )
    return path


def _wrk(port: int, connections: int, seconds: int, script: Path | None, path: str) -> dict[str, Any]:
    threads = 1 if connections == 1 else 2
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip

    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "rate": float(rate.group(1)) if rate else float("nan"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def measure(runtime: Runtime, args: argparse.Namespace) -> str:
    rng = random.Random(args.seed)
    org, token = _government(runtime)
    codes = _codes(runtime, rng, 20_000)
    script = _lua(args.home / "checks.lua", token, codes)
    port = free_port()
    env = {
        **os.environ,
        "XINYONG_HOME": str(runtime.settings.home),
        "XINYONG_DATABASE_URL": runtime.settings.database_url,
        "XINYONG_DEMO": "1",
        "XINYONG_RATE_TOKEN": "off",
        "XINYONG_RATE_PUBLIC": "off",
        "XINYONG_PUSH_INTERVAL_S": "0",
        "XINYONG_LOG_LEVEL": "warning",
    }
    with runtime.engine.connect() as conn:
        subjects_n = conn.execute(sa.text("SELECT count(*) FROM subjects")).scalar_one()
        entries_n = conn.execute(sa.text("SELECT count(*) FROM list_entries")).scalar_one()
    lines = [
        f"check benchmark — {subjects_n:,} subjects, {entries_n:,} list entries, "
        f"{runtime.engine.dialect.name}, {os.cpu_count()} CPUs, `xinyong serve` (one process), wrk"
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "xinyong.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_up(port)
        _wrk(port, 1, 2, script, "/")  # warm up
        for connections in (1, 16):
            checked = _wrk(port, connections, args.duration, script, "/")
            limit = _wrk(port, connections, args.duration, None, "/healthz")
            lines.append(
                f"POST /api/v1/checks, {connections:>2} connection(s): p50 {checked['p50_ms']:.2f} ms, "
                f"p99 {checked['p99_ms']:.2f} ms, {checked['rate']:,.0f}/s"
                + (f" ({checked['non_2xx']} non-2xx)" if checked["non_2xx"] else "")
                + f"   | machine limit (GET /healthz): p50 {limit['p50_ms']:.2f} ms, "
                f"p99 {limit['p99_ms']:.2f} ms, {limit['rate']:,.0f}/s"
            )
    finally:
        server.terminate()
        server.wait(20)
    lines.append(_in_process(runtime, org, codes, args))
    lines.append(_batch(runtime, org, codes, args))
    return "\n".join(lines)


def _principal(runtime: Runtime, org: str) -> Any:
    from xinyong.security.organisations import acting_for

    with runtime.engine.connect() as conn:
        return acting_for(conn, org, actor="bench", roles={"government": "government"})


def _in_process(runtime: Runtime, org: str, codes: list[str], args: argparse.Namespace) -> str:
    from xinyong.apply.flows import check

    principal = _principal(runtime, org)

    def one(i: int) -> None:
        with runtime.engine.begin() as conn:
            check(
                conn,
                runtime,
                code=codes[i % len(codes)],
                matter=MATTERS[i % len(MATTERS)],
                principal=principal,
            )

    for i in range(200):
        one(i)
    n = args.in_process
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        one(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    line = f"in-process check: {n / wall:,.0f}/s wall, {n / cpu:,.0f}/s per CPU second ({n:,} checks)"
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        for i in range(min(n, 1000)):
            one(i)
        profiler.stop()
        line += "\n" + profiler.output_text(unicode=False, color=False)
    return line


def _batch(runtime: Runtime, org: str, codes: list[str], args: argparse.Namespace) -> str:
    from xinyong.apply.batch import check_file

    rows = [codes[i % len(codes)] for i in range(args.batch_rows)]
    path = args.home / "bidders.csv"
    path.write_text("代码\n" + "\n".join(rows) + "\n", encoding="utf-8")
    principal = _principal(runtime, org)
    started = time.perf_counter()
    with runtime.engine.begin() as conn:
        result = check_file(conn, runtime, path=path, filename=path.name, matter="ZBTB", principal=principal)
    seconds = time.perf_counter() - started
    s = result.summary
    return (
        f"batch check of {s['rows']:,} rows: {seconds:.2f} s (resolved {s['resolved']:,}, with measures "
        f"{s['with_measures']:,}; XLSX {len(result.xlsx) / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
