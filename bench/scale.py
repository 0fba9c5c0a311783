"""Benchmark: PostgreSQL at province scale — 10,000,000 records on 2,000,000 subjects.

    .venv/bin/python bench/scale.py                                                  # the full size (long)
    .venv/bin/python bench/scale.py --subjects 20000 --records 100000 --file-rows 10000 --seconds 5  # a proof

1. **Build** a database of --subjects subjects and (--records − --file-rows) records with bulk SQL, not the
   platform's ingest: subjects, identifiers and names by COPY (the generator of bench/portal.py: valid
   USCCs, ID numbers blind-indexed and encrypted), records by one `INSERT … SELECT … FROM generate_series`
   per million rows (行政处罚 and 行政许可 with the 双公示 fields as JSONB, decided 2019–2026 by the
   synthetic departments), their secondary indexes built after the load; then the name search index
   (xinyong.disclose.search.rebuild) and ANALYZE. Kept in --name and reused unless --rebuild.
2. **Ingest** a --file-rows 行政处罚 file (GB18030, 2 % bad rows: xinyong.demo.generate) through the
   platform's entry point (`xinyong.collect.service.ingest`, in this process) into an empty database and
   into the big one, and print both rates and their ratio (target: within 30 %). After it the big database
   holds --records records, and the search index is refreshed with the file's new subjects, as `xinyong
   serve`'s schedule does within a minute.
3. **Serve** it with `xinyong serve --workers N` (bench/wrk.py) and drive it with `wrk` (16 connections):
   the machine's limit (GET /healthz), the subject API, name search and the 双公示 list page (HTML), each
   with requests/s, p50 and p99 (target: p99 ≤ 50 ms at 10 M records).

The machine may be shared: make the sizes small (flags) unless it is yours, and say which you ran.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
import sqlalchemy as sa

from xinyong.catalog.loader import load_catalog
from xinyong.clock import CHINA, FixedClock
from xinyong.codes import make_uscc
from xinyong.config import Settings
from xinyong.demo.generate import make_world, penalties
from xinyong.demo.seed import register_departments
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation
from xinyong.store.engine import make_engine, upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portal import _RECORD_INDEXES, _search_queries, _subjects
from wrk import run_wrk, served, warm_page_cache

TODAY = "2026-06-15"
SUBMITTER = make_uscc("1", "2", "420000", "Q0000099")  # a collection system forwarding every department
DEFAULT_PG = "postgresql+psycopg://xinyong:xinyong@127.0.0.1:5432/postgres"
HERE = Path(__file__).resolve().parent
STEP = 1_000_000  # records per INSERT … SELECT transaction


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=2_000_000)
    parser.add_argument("--records", type=int, default=10_000_000, help="records once the file is in")
    parser.add_argument("--file-rows", type=int, default=1_000_000, help="rows of the file ingested")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("XINYONG_BENCH_PG_URL") or os.environ.get("XINYONG_TEST_PG_URL") or DEFAULT_PG,
    )
    parser.add_argument("--name", default=None, help="database name (default: xinyong_scale_<sizes>)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20170701)
    args = parser.parse_args()
    if args.file_rows >= args.records:
        parser.error("--file-rows must be fewer than --records")

    name = args.name or f"xinyong_scale_{args.subjects}_{args.records}"
    home = HERE / "out" / name
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XINYONG_PII_KEY", base64.b64encode(bytes(range(64))).decode())  # synthetic data
    admin = make_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    clock = FixedClock(f"{TODAY}T09:00:00")
    print(
        f"scale benchmark — PostgreSQL, {args.subjects:,} subjects, {args.records:,} records after a "
        f"{args.file_rows:,}-row file, {os.cpu_count()} CPUs"
    )
    world = make_world(max(2000, args.file_rows // 50), seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="xinyong-scale-") as tmp:
        path = _write_file(Path(tmp), world, args)
        marker = home / "built"
        exists = _exists(admin, name)
        if args.rebuild or not exists or not marker.exists():
            _create(admin, name)
            runtime = Runtime.open(Settings(home=home, database_url=url, demo=True), clock=clock)
            build(runtime, world, args)
            empty_rate = _ingest_empty(admin, world, path, clock, args)
            big_rate = _ingest(runtime, path, "into the big database")
            print(
                f"ingest    rate into {args.records - args.file_rows:,} records = "
                f"{big_rate / empty_rate:.0%} of the rate into an empty database (target: ≥ 70 %)"
            )
            _refresh_search(runtime)
            marker.write_text(dt.datetime.now(CHINA).isoformat())
        else:
            print(f"reusing {name} built {marker.read_text()} (--rebuild to build and ingest again)")
            runtime = Runtime.open(Settings(home=home, database_url=url, demo=True), clock=clock)
    measure(runtime, args)
    runtime.close()
    admin.dispose()
    return 0


def _refresh_search(runtime: Runtime) -> None:
    """The file made subjects the search index has not seen: `xinyong serve` adds them within a minute
    (XINYONG_SEARCH_REFRESH_INTERVAL_S); the benchmark's server runs no schedules, so it is done here, as
    the schedule would. Without it every search also scans those names one by one."""
    from xinyong.disclose.search import refresh

    started = time.perf_counter()
    added = refresh(runtime.engine, clock=runtime.clock)
    print(f"search    index refreshed: {added:,} new subjects in {time.perf_counter() - started:.1f} s")


# -------------------------------------------------------------------------------------------------- build


def _exists(admin: sa.Engine, name: str) -> bool:
    with admin.connect() as conn:
        return bool(
            conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        )


def _create(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')


def _organisations(runtime: Runtime, world: object) -> None:
    with runtime.engine.begin() as conn:
        add_organisation(
            conn,
            name="湖北省信用信息共享平台（基准测试）",
            uscc=SUBMITTER,
            kind="credit_office",
            clock=runtime.clock,
        )
        register_departments(conn, world.departments, parent_uscc=SUBMITTER, clock=runtime.clock)  # type: ignore[attr-defined]


def build(runtime: Runtime, world: object, args: argparse.Namespace) -> None:
    engine = runtime.engine
    started = time.perf_counter()
    upgrade(engine)
    _organisations(runtime, world)
    now = dt.datetime.combine(dt.date.fromisoformat(TODAY), dt.time(9), tzinfo=CHINA)
    t = time.perf_counter()
    _subjects(runtime, args.subjects, np.random.default_rng(args.seed), now)
    with engine.begin() as conn:  # the rows carry their ids: the sequence continues after them
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('subjects', 'id'), (SELECT max(id) FROM subjects))"
        )
    print(f"build     subjects: {args.subjects:,} by COPY in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    _records(engine, args.records - args.file_rows, args.subjects, now)
    print(
        f"build     records: {args.records - args.file_rows:,} by INSERT … SELECT "
        f"in {time.perf_counter() - t:.1f} s"
    )
    from xinyong.disclose.search import rebuild

    summary = rebuild(engine, clock=runtime.clock, progress=lambda stage, n: None)
    print(f"build     search index: {summary.grams:,} grams in {summary.seconds:.1f} s")
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"build     done in {time.perf_counter() - started:.1f} s")


def _records(engine: sa.Engine, n: int, subjects: int, now: dt.datetime) -> None:
    """Records in set-based SQL: one statement per million rows, indexes built afterwards."""
    with engine.begin() as conn:
        batches = {
            item: conn.execute(
                sa.text(
                    "INSERT INTO batches (item_code, submitter_id, status, received, inserted, created_at) "
                    "SELECT :item, id, 'done', :n, :n, :now FROM organisations WHERE uscc = :sub RETURNING id"
                ),
                {"item": item, "n": n // 2, "now": now, "sub": SUBMITTER},
            ).scalar_one()
            for item in ("XZCF", "XZXK")
        }
        departments = conn.execute(
            sa.text("SELECT uscc, name FROM organisations WHERE kind = 'provider' ORDER BY uscc")
        ).all()
        for index in _RECORD_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
    k = len(departments)
    # Deterministic pseudo-random spreads of i: subject, department, decision day (2019-01-01 + 0..2720).
    statement = sa.text(
        f"""
        WITH dept AS (
            SELECT row_number() OVER (ORDER BY uscc) AS d, uscc, name
            FROM organisations WHERE kind = 'provider'
        )
        INSERT INTO records (item_code, source_uscc, source_key, subject_id, state, version, decision_date,
                             valid_until, data, content_hash, first_batch_id, last_batch_id, first_seen,
                             last_seen, updated_at)
        SELECT g.item, dept.uscc, g.key, s.id, 'active', 1, g.decided,
               CASE WHEN g.item = 'XZCF' THEN g.decided + 1095 ELSE g.decided + 1825 END,
               CASE WHEN g.item = 'XZCF' THEN jsonb_build_object(
                   'xdr_mc', s.name, 'xdr_lb', '法人及非法人组织', 'xdr_dm1', s.uscc, 'cf_wsh', g.key,
                   'cf_wfxw', '未按规定履行安全生产管理职责', 'cf_yj', '《安全生产法》第九十七条',
                   'cf_cflb', '警告;罚款', 'cf_nr', '决定给予警告、罚款的行政处罚。',
                   'cf_nr_fk', ((g.i % 500) + 1)::text, 'cf_jdrq', g.decided::text,
                   'cf_yxq', (g.decided + 1095)::text, 'cf_cfjg', dept.name,
                   'cf_cfjgdm', dept.uscc, 'cf_sjly', dept.name, 'cf_sjlydm', dept.uscc)
               ELSE jsonb_build_object(
                   'xdr_mc', s.name, 'xdr_lb', '法人及非法人组织', 'xdr_dm1', s.uscc, 'xk_wsh', g.key,
                   'xk_xkws', '准予行政许可决定书', 'xk_xklb', '普通', 'xk_xkzs', '许可证',
                   'xk_xkbh', 'XK' || g.i, 'xk_nr', '准予许可', 'xk_jdrq', g.decided::text,
                   'xk_yxqz', g.decided::text, 'xk_yxqzhi', (g.decided + 1825)::text,
                   'xk_xkjg', dept.name, 'xk_xkjgdm', dept.uscc, 'xk_zt', '1',
                   'xk_sjly', dept.name, 'xk_sjlydm', dept.uscc)
               END,
               md5(g.key), g.batch, g.batch, :now, :now, :now
        FROM (
            SELECT i,
                   CASE WHEN i % 2 = 0 THEN 'XZCF' ELSE 'XZXK' END AS item,
                   CASE WHEN i % 2 = 0 THEN :xzcf ELSE :xzxk END AS batch,
                   1 + (i * 7919) % {k} AS d,
                   'SCALE-' || i AS key,
                   DATE '2019-01-01' + ((i * 104729) % 2720)::int AS decided,
                   1 + ((i * 2654435761) % {subjects}) AS sid
            FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint)) AS i
        ) AS g
        JOIN subjects s ON s.id = g.sid
        JOIN dept ON dept.d = g.d
        """
    )
    for start in range(1, n + 1, STEP):
        stop = min(n, start + STEP - 1)
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(
                statement,
                {"start": start, "stop": stop, "xzcf": batches["XZCF"], "xzxk": batches["XZXK"], "now": now},
            )
        print(f"build       records {stop:,}/{n:,} ({time.perf_counter() - t:.1f} s)", flush=True)
    t = time.perf_counter()
    with engine.begin() as conn:
        for index, target in _RECORD_INDEXES.items():
            conn.exec_driver_sql(f"CREATE INDEX {index} ON {target}")
    print(f"build       record indexes in {time.perf_counter() - t:.1f} s")


# ------------------------------------------------------------------------------------------------- ingest


def _write_file(work: Path, world: object, args: argparse.Namespace) -> Path:
    t = time.perf_counter()
    generated = penalties(
        world,  # type: ignore[arg-type]
        args.file_rows,
        item=load_catalog().item("XZCF"),
        seed=args.seed,
        end=dt.date(2026, 6, 14),
        bad_fraction=0.02,
    )
    path = work / "行政处罚.csv"
    path.write_bytes(generated.frame.write_csv().encode("gb18030"))
    print(
        f"file      {args.file_rows:,} rows (2 % bad), GB18030, generated in {time.perf_counter() - t:.1f} s"
    )
    return path


def _ingest(runtime: Runtime, path: Path, where: str) -> float:
    from xinyong.collect.service import ingest

    t = time.perf_counter()
    summary = ingest(runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER)
    seconds = time.perf_counter() - t
    rate = summary.received / seconds
    print(
        f"ingest    {where}: {summary.received:,} rows in {seconds:.1f} s = {rate:,.0f} rows/s "
        f"(inserted {summary.inserted:,}, rejected {summary.rejected:,})"
    )
    return rate


def _ingest_empty(
    admin: sa.Engine, world: object, path: Path, clock: FixedClock, args: argparse.Namespace
) -> float:
    name = f"xinyong_scale_empty_{os.getpid()}"
    _create(admin, name)
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="xinyong-scale-empty-") as home:
        runtime = Runtime.open(Settings(home=Path(home), database_url=url, demo=True), clock=clock)
        try:
            upgrade(runtime.engine)
            _organisations(runtime, world)
            return _ingest(runtime, path, "into an empty database")
        finally:
            runtime.close()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------------------------------------ measure


def measure(runtime: Runtime, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with runtime.engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one()
        orgs = conn.execute(
            sa.text(
                "SELECT id, kind, uscc, name, name_pinyin FROM subjects "
                "WHERE uscc IS NOT NULL AND id % :m = 0 LIMIT 20000"
            ),
            {"m": max(1, args.subjects // 20000)},
        ).all()
    subject_paths = [f"/api/v1/subjects/{r.uscc}" for r in orgs]
    rng.shuffle(subject_paths)
    search_paths = [f"/api/v1/search?q={quote(q)}" for q in _search_queries(orgs, rng, 2000)]
    regions = ("42", "4201", "4202", "4203", "4205", "4206", "4208", "4209", "4210", "4211", "4212", "4228")
    list_paths = [f"/publicity/{name}?region={r}" for name in ("penalties", "licences") for r in regions]
    print(
        f"serve     {total:,} records; xinyong serve --workers {args.workers}, wrk {args.connections} "
        f"connections x {args.seconds} s a phase"
    )
    settings = runtime.settings
    with served(settings.home, settings.database_url, today=TODAY, workers=args.workers) as port:
        run_wrk(port, subject_paths[:300] + search_paths[:100] + list_paths, title="warm-up", seconds=5)
        print(warm_page_cache(settings.database_url))
        for title, paths in (
            ("machine limit: GET /healthz", ["/healthz"]),
            ("subject API", subject_paths),
            ("name search", search_paths),
            ("双公示 list page (HTML)", list_paths),
        ):
            print(
                run_wrk(port, paths, title=title, connections=args.connections, seconds=args.seconds).line()
            )
    print("          target: p99 ≤ 50 ms at 10 M records")


if __name__ == "__main__":
    sys.exit(main())
