"""Benchmark: every dashboard query of the console (console/stats.py) and the 考核通报 (console/assessment.py)
against a SQLite database of N records, printed against the 1 s target of issue 12.

    .venv/bin/python bench/stats.py                        # 5,000,000 records (the issue's figure)
    .venv/bin/python bench/stats.py --records 500000       # a shared machine: scale down

The database is built once per size with bulk SQL (recursive CTEs: INSERT … SELECT, no Python loop over
rows) and kept in var/bench/stats-<N>.db; `--rebuild` makes it again. 100 provider departments under one
credit office, 24 months of records (first_seen spread evenly, 2025-01 to 2026-12), one batch per provider
and month with ~2 % of its rows rejected, 10 % of records measured late, and a query log. Each figure is
run for the last month (what the dashboard shows by default), for the whole year (the widest span a user
would ask for), and for one provider (what a clerk sees); the best of `--repeat` runs is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from xinyong.codes import make_uscc
from xinyong.console import assessment, stats
from xinyong.console.periods import Period, day_period, month_period
from xinyong.policy.loader import load_policy
from xinyong.store.engine import make_engine, upgrade

TARGET_SECONDS = 1.0
PROVIDERS = 100
MONTHS = 24
SUBJECTS = 10_000
ITEMS = ("XZCF", "XZXK", "SXBZXR", "JYYC")
OFFICE = make_uscc("1", "1", "420000", "Q0000000")


def provider_uscc(i: int) -> str:
    return make_uscc("1", "1", "420100", f"Q{i:07d}")


def build(path: Path, records: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=OFF")
        now = "2026-12-31 00:00:00.000000"
        conn.exec_driver_sql(
            "INSERT INTO organisations (name, uscc, kind, status, created_at) "
            f"VALUES ('省信用办', '{OFFICE}', 'credit_office', 'active', '{now}')"
        )
        values = ", ".join(
            f"('部门{i}', '{provider_uscc(i)}', 'provider', 'active', '{now}', 1)"
            for i in range(1, PROVIDERS + 1)
        )
        conn.exec_driver_sql(
            f"INSERT INTO organisations (name, uscc, kind, status, created_at, parent_id) VALUES {values}"
        )
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO subjects (kind, name, status, created_at, updated_at) "
            "SELECT 'legal_person', '企业' || i, 'active', ?, ? FROM n",
            (SUBJECTS, now, now),
        )
        # One batch per provider and month; received/rejected counts follow the records below.
        per_batch = max(1, records // (PROVIDERS * MONTHS))
        conn.exec_driver_sql(
            "WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < ?) "
            "INSERT INTO batches (item_code, submitter_id, status, received, inserted, rejected, created_at, "
            "finished_at) "
            "SELECT 'XZCF', o.id, 'done', ?, ?, ?, "
            "strftime('%Y-%m-%d %H:%M:%S.000000', '2025-01-01', '+' || m.k || ' months', '+3 days'), "
            "strftime('%Y-%m-%d %H:%M:%S.000000', '2025-01-01', '+' || m.k || ' months', '+3 days') "
            "FROM organisations o, m WHERE o.kind = 'provider'",
            (MONTHS - 1, per_batch + per_batch // 50, per_batch, per_batch // 50),
        )
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1) "
            "INSERT INTO records (item_code, source_uscc, source_key, subject_id, state, version, "
            "decision_date, receipt_working_days, late, data, content_hash, first_batch_id, last_batch_id, "
            "first_seen, last_seen, updated_at) "
            "SELECT item, o.uscc, 'K' || i, 1 + i % ?, 'active', 1, date(seen, '-5 days'), i % 9, "
            "CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END, '{}', printf('%032x', i), b, b, seen, seen, seen "
            "FROM (SELECT i, ? AS items, "
            "  json_extract(?, '$[' || (i % 4) || ']') AS item, "
            "  2 + i % ? AS org, "
            "  strftime('%Y-%m-%d %H:%M:%S.000000', '2025-01-01', "
            "           '+' || ((i * 730) / ?) || ' days', '+' || (i % 86400) || ' seconds') AS seen, "
            "  1 + (i % ?) * ? + ((i * ?) / ?) AS b "
            "  FROM n) x JOIN organisations o ON o.id = x.org",
            (
                records,
                SUBJECTS,
                len(ITEMS),
                '["' + '","'.join(ITEMS) + '"]',
                PROVIDERS,
                records,
                PROVIDERS,
                MONTHS,
                MONTHS,
                records,
            ),
        )
        conn.exec_driver_sql(
            "INSERT INTO rejected_rows (batch_id, row_number, item_code, source_key, raw, reasons, status) "
            "SELECT b.id, r.k, 'XZCF', 'R' || b.id || '-' || r.k, '{}', '[]', "
            "CASE WHEN r.k % 3 = 0 THEN 'corrected' ELSE 'open' END "
            "FROM batches b JOIN (WITH RECURSIVE k(k) AS "
            "(SELECT 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?) SELECT k FROM k) r",
            (max(1, per_batch // 50),),
        )
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1) "
            "INSERT INTO query_log (subject_id, at, actor, actor_role, organisation_id, audience, level, "
            "purpose, channel, shown) "
            "SELECT 1 + i % ?, "
            "strftime('%Y-%m-%d %H:%M:%S.000000', '2025-01-01', '+' || (i % 730) || ' days'), "
            "'user:bench', 'government', 2 + i % ?, "
            "CASE i % 3 WHEN 0 THEN 'public' WHEN 1 THEN 'government' ELSE 'authorised' END, "
            "'public', 'bench', 'api', '[]' FROM n",
            (max(1000, records // 100), SUBJECTS, PROVIDERS),
        )
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    print(f"built {path} ({records:,} records) in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def timed(run: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--dir", type=Path, default=Path("var/bench"))
    args = parser.parse_args()
    path = args.dir / f"stats-{args.records}.db"
    if args.rebuild or not path.exists():
        build(path, args.records)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)  # a cached file made before a new migration (an index) gets it
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    policy = load_policy().assessment
    periods: dict[str, Period] = {
        "month": month_period("2026-12"),
        "year": day_period("2026-01-01", "2026-12-31"),
    }
    clerk = provider_uscc(7)
    declared = [(provider_uscc(i), f"部门{i}", "XZCF") for i in range(1, PROVIDERS + 1)]
    rows: list[tuple[str, str, float]] = []
    with engine.connect() as conn:
        total = conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one()
        for label, period in periods.items():
            for whom, own in (("office", None), ("clerk", clerk)):
                for name, figure in stats.DASHBOARDS.items():
                    rows.append(
                        (name, f"{label}/{whom}", timed(partial(figure, conn, period, own), args.repeat))
                    )
                mine = [d for d in declared if own is None or d[0] == own]
                rows.append(
                    (
                        "coverage",
                        f"{label}/{whom}",
                        timed(partial(stats.coverage, conn, period, own, mine), args.repeat),
                    )
                )
            rows.append(
                (
                    "assessment (考核通报)",
                    f"{label}/office",
                    timed(partial(assessment.assess, conn, period, policy), args.repeat),
                )
            )
            dashboard = sum(
                s for _, p, s in rows if p == f"{label}/office" and not _.startswith("assessment")
            )
            rows.append(("whole /console/stats page", f"{label}/office", dashboard))
    print(f"records: {total:,}  (SQLite, {path}; best of {args.repeat})")
    print(f"{'figure':34} {'period/who':14} {'seconds':>8}")
    for name, where, seconds in sorted(rows, key=lambda r: -r[2]):
        flag = "  > 1 s" if seconds > TARGET_SECONDS else ""
        print(f"{name:34} {where:14} {seconds:8.3f}{flag}")
    slowest = max(rows, key=lambda r: r[2])
    verdict = "within" if slowest[2] <= TARGET_SECONDS else "OVER"
    print(
        f"slowest: {slowest[0]} ({slowest[1]}) {slowest[2]:.3f} s — "
        f"{verdict} the {TARGET_SECONDS:.0f} s target"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
