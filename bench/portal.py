"""Benchmark: the public portal's name search and subject API on a demo database of 1M subjects, 5M records.

    .venv/bin/python bench/portal.py                                     # build if needed, then measure
    .venv/bin/python bench/portal.py --subjects 50000 --records 250000    # a quick run
    .venv/bin/python bench/portal.py --database-url postgresql+psycopg://xinyong:xinyong@127.0.0.1/xinyong_bench

Build: subjects (70 % companies, 15 % 个体工商户, 5 % other organisations, 10 % natural persons with valid
codes and ID numbers — blind-indexed and encrypted as the registry keeps them), their identifiers and names,
and 行政处罚 / 行政许可 records with the full 双公示 field set as JSON (the shape collection stores), decided
2019–2026 by Hubei's synthetic departments, each within its remit (demo/data/remits.yaml). It is written
straight into the tables with the store's bulk writer (COPY / executemany, indexes built after the load): at
this size the collection pipeline would time the pipeline, not the portal. Then the search index is built
(xinyong.disclose.search.rebuild), which also fills subjects.name_pinyin. The database is kept in --home and
reused by later runs.

Measure: the platform is served exactly as `xinyong serve --workers N` serves it (xinyong.web.serve: one
shared TCP socket, N worker processes; default: the number of cores), with the clock fixed at --today, no
access log and no public rate limit. The load comes from Debian's `wrk` (bench/wrk.py: compiled, so the
client does not compete with the server for Python CPU), 16 keep-alive connections, --seconds a phase:

  0. the machine's limit in the same run: GET /healthz, the cheapest answer of the same server;
  1. the subject API (GET /api/v1/subjects/{code}), random subjects;
  2. name search: 2–4 characters cut from real names, pinyin initials and whole USCCs, mixed;
  3. the 双公示 list's first page (GET /api/v1/records) by item and region;
  4. a repeat visitor: one subject with the ETag it was given (If-None-Match: 304, no body).

Requests/s, p50 and p99 of each are printed, and the in-process cost of search and look-up without HTTP.
Targets (issue #13): subject API >= 1,500 requests/s and p99 <= 50 ms at 1 M subjects / 5 M records, on 2
cores, on SQLite and PostgreSQL. The machine may be shared: say at which scale you ran
(--subjects/--records).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import polars as pl
import sqlalchemy as sa

from xinyong.catalog.loader import load_catalog
from xinyong.clock import CHINA, FixedClock
from xinyong.codes.divisions import hubei_counties
from xinyong.codes.idcard import idcard_check_char
from xinyong.codes.orgcode import orgcode_check_char
from xinyong.codes.uscc import uscc_check_char
from xinyong.config import Settings
from xinyong.demo.generate import BRANDS, GIVEN, SURNAMES, make_world
from xinyong.demo.remits import load_demo_data
from xinyong.policy import load_policy
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.bulk import insert_frame
from xinyong.store.engine import upgrade
from xinyong.subjects.sealing import names_a_person, seal_where

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wrk import run_wrk, served, warm_page_cache

HERE = Path(__file__).resolve().parent
DEFAULT_HOME = HERE / "out" / "portal"
TODAY = "2026-06-15"
_ORG = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
_DEMO = load_demo_data()
_TRADES = [w for t in _DEMO.trades.values() for w in t.firm_words]  # company trade words
_SHOPS = [w for t in _DEMO.trades.values() for w in t.shop_words]  # 个体工商户 trade words
# (type, basis, categories, department kind) and (name, class, department kind): who issues what (remits.yaml)
_VIOLATIONS = [
    (v.type, v.basis, v.categories, _DEMO.kind_of_violation[k]) for k, v in _DEMO.violations.items()
]
_LICENCES = [(lic.name, lic.category, _DEMO.kind_of_licence[k]) for k, lic in _DEMO.licences.items()]
_PLACES = [
    "武汉",
    "黄石",
    "十堰",
    "宜昌",
    "襄阳",
    "鄂州",
    "荆门",
    "孝感",
    "荆州",
    "黄冈",
    "咸宁",
    "随州",
    "恩施",
]
# Indexes dropped during the bulk load and built afterwards (sorting once beats updating them row by row).
_RECORD_INDEXES = {
    "ix_records_item_decision": "records (item_code, decision_date)",
    "ix_records_subject_id": "records (subject_id)",
    "ix_records_source_item_decision": "records (source_uscc, item_code, decision_date)",
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--home", type=Path, default=None, help="where the database and keys live")
    parser.add_argument("--database-url", default=None, help="default: SQLite in --home")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="xinyong serve --workers")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration of each phase")
    parser.add_argument("--search-requests", type=int, default=2000, help="distinct search queries")
    parser.add_argument("--today", default=TODAY)
    parser.add_argument("--seed", type=int, default=20170701)
    args = parser.parse_args()

    home = (args.home or DEFAULT_HOME / f"{args.subjects}-{args.records}").resolve()
    home.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{home / 'xinyong.db'}"
    settings = Settings(home=home, database_url=url, demo=True, extra={"XINYONG_RATE_PUBLIC": "off"})
    runtime = Runtime.open(settings, clock=FixedClock(f"{args.today}T09:00:00"))
    marker = home / f"built-{hashlib.md5(url.encode()).hexdigest()[:8]}"
    if args.rebuild or not marker.exists():
        build(runtime, subjects=args.subjects, records=args.records, seed=args.seed)
        marker.write_text(dt.datetime.now(CHINA).isoformat())
    else:
        print(f"reusing the database built {marker.read_text()} ({url})")
    report = measure(runtime, args)
    runtime.close()
    print(report)
    return 0


# -------------------------------------------------------------------------------------------------- build


def build(runtime: Runtime, *, subjects: int, records: int, seed: int) -> None:
    engine = runtime.engine
    started = time.perf_counter()
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database or "")
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        from xinyong.store.schema import metadata

        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade(engine)
    rng = np.random.default_rng(seed)
    now = dt.datetime.combine(dt.date.fromisoformat(TODAY), dt.time(9), tzinfo=CHINA)
    with engine.begin() as conn:
        submitter = conn.execute(
            sa.text(
                "INSERT INTO organisations (uscc, name, kind, division_code, status, created_at) VALUES "
                "('11420000Q00000997N', '湖北省社会信用信息归集系统', 'provider', '420000', 'active', :now) "
                "RETURNING id"
            ).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True))),
            {"now": now.astimezone(dt.UTC).replace(tzinfo=None) if engine.dialect.name == "sqlite" else now},
        ).scalar_one()
    t = time.perf_counter()
    people = _subjects(runtime, subjects, rng, now)
    print(f"subjects: {subjects:,} in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    _records(runtime, records, subjects, people, rng, now, submitter)
    print(f"records: {records:,} in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    from xinyong.disclose.search import rebuild

    summary = rebuild(engine, clock=runtime.clock, progress=lambda stage, n: None)
    print(f"search index: {summary.subjects:,} subjects, {summary.grams:,} grams in {summary.seconds:.1f}s")
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"built in {time.perf_counter() - started:.1f}s (search index {time.perf_counter() - t:.1f}s)")


def _subjects(runtime: Runtime, n: int, rng: np.random.Generator, now: dt.datetime) -> np.ndarray:
    counties = [c.code for c in hubei_counties()]
    roll = rng.random(n)
    kinds = np.where(
        roll < 0.10,
        "natural_person",
        np.where(roll < 0.25, "individual_business", np.where(roll < 0.30, "other_org", "legal_person")),
    )
    division = np.array(counties)[rng.integers(0, len(counties), n)]
    pick = lambda options, size: np.array(options)[rng.integers(0, len(options), size)]  # noqa: E731
    place, b1, b2 = pick(_PLACES, n), pick(BRANDS, n), pick(BRANDS, n)
    trade, suffix = pick(_TRADES, n), pick(_SUFFIXES, n)
    surname, given1, given2 = pick(SURNAMES, n), pick(GIVEN, n), pick(GIVEN, n)
    shop = pick(_SHOPS, n)
    names = []
    for i in range(n):
        k = kinds[i]
        if k == "natural_person":
            names.append(surname[i] + given1[i] + (given2[i] if i % 3 else ""))
        elif k == "individual_business":
            names.append(f"{place[i]}{surname[i]}{given1[i]}{shop[i]}")
        elif k == "other_org":
            names.append(f"{place[i]}{b1[i]}{b2[i]}培训学校")
        else:
            names.append(f"{place[i]}{b1[i]}{b2[i]}{trade[i]}{suffix[i]}")
    bodies = [_unique_body(i) for i in range(n)]
    uscc: list[str | None] = []
    orgcode: list[str | None] = []
    prefix = {"legal_person": "91", "individual_business": "92", "other_org": "52"}
    for i in range(n):
        if kinds[i] == "natural_person":
            uscc.append(None)
            orgcode.append(None)
            continue
        code9 = bodies[i] + orgcode_check_char(bodies[i])
        first17 = prefix[kinds[i]] + division[i] + code9
        uscc.append(first17 + uscc_check_char(first17))
        orgcode.append(code9)
    ids = np.arange(1, n + 1)
    at = pl.lit(now.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC"))
    frame = pl.DataFrame(
        {
            "id": ids,
            "kind": kinds,
            "uscc": uscc,
            "name": names,
            "division_code": division,
            "status": "active",
        },
        schema_overrides={"uscc": pl.String},
    ).with_columns(at.alias("created_at"), at.alias("updated_at"))
    protector = runtime.protector
    # Stored as the registry stores them: a person's name sealed (its records take the sealed text below).
    person_named = names_a_person(frame["name"], frame["kind"], load_policy().masking.person_names)
    frame = frame.with_columns(seal_where(frame["name"], person_named, protector))
    people = np.flatnonzero(kinds == "natural_person") + 1
    idcards = []
    for k, sid in enumerate(people):
        # Unique by construction: (birth day, sequence) never repeats, whatever the county.
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=k // 1000)
        first17 = f"{division[sid - 1]}{birth:%Y%m%d}{k % 1000:03d}"
        idcards.append(first17 + idcard_check_char(first17))
    identifiers = pl.concat(
        [
            frame.filter(pl.col("uscc").is_not_null()).select(
                pl.col("id").alias("subject_id"),
                pl.lit("uscc").alias("scheme"),
                pl.col("uscc").alias("value"),
                pl.lit(None, dtype=pl.Binary).alias("value_cipher"),
                pl.lit(None, dtype=pl.String).alias("value_masked"),
                pl.lit("declared").alias("origin"),
            ),
            frame.filter(pl.col("uscc").is_not_null()).select(
                pl.col("id").alias("subject_id"),
                pl.lit("orgcode").alias("scheme"),
                pl.col("uscc").str.slice(8, 9).alias("value"),
                pl.lit(None, dtype=pl.Binary).alias("value_cipher"),
                pl.lit(None, dtype=pl.String).alias("value_masked"),
                pl.lit("derived").alias("origin"),
            ),
            pl.DataFrame(
                {
                    "subject_id": people,
                    "scheme": "idcard",
                    "value": [protector.blind_index(c) for c in idcards],
                    "value_cipher": [protector.encrypt(c) for c in idcards],
                    "value_masked": [c[:4] + "*" * 10 + c[-4:] for c in idcards],
                    "origin": "declared",
                },
                schema={
                    "subject_id": pl.Int64,
                    "scheme": pl.String,
                    "value": pl.String,
                    "value_cipher": pl.Binary,
                    "value_masked": pl.String,
                    "origin": pl.String,
                },
            ),
        ]
    ).with_columns(pl.lit("bench").alias("source"), at.alias("created_at"))
    names_frame = frame.select(
        pl.col("id").alias("subject_id"),
        "name",
        pl.lit("current").alias("role"),
        pl.lit("bench").alias("source"),
        at.alias("first_seen"),
        at.alias("last_seen"),
    )
    step = 200_000
    for table, data in (
        ("subjects", frame),
        ("subject_identifiers", identifiers),
        ("subject_names", names_frame),
    ):
        for start in range(0, data.height, step):
            with runtime.engine.begin() as conn:
                insert_frame(conn, table, data.slice(start, step))
    (runtime.settings.home / "idcards.txt").write_text("\n".join(idcards[:1000]))
    return people


def _unique_body(i: int) -> str:
    """An 8-character organisation-code body, distinct for every i (a bijection on 31**8, scrambled)."""
    value = (i * 2_654_435_761 + 12345) % (31**8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 31)
        chars.append(_ORG[digit])
    return "".join(chars)


def _records(
    runtime: Runtime,
    n: int,
    n_subjects: int,
    people: np.ndarray,
    rng: np.random.Generator,
    now: dt.datetime,
    submitter: int,
) -> None:
    engine = runtime.engine
    catalog = load_catalog()
    departments = make_world(1, seed=1).departments
    with engine.begin() as conn:
        batch_ids = {}
        for item in ("XZCF", "XZXK"):
            batch_ids[item] = conn.execute(
                sa.text(
                    "INSERT INTO batches (item_code, submitter_id, status, received, inserted, created_at) "
                    "VALUES (:item, :sub, 'done', :n, :n, :now) RETURNING id"
                ).bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True))),
                {
                    "item": item,
                    "sub": submitter,
                    "n": n // 2,
                    "now": now.astimezone(dt.UTC).replace(tzinfo=None)
                    if engine.dialect.name == "sqlite"
                    else now,
                },
            ).scalar_one()
        for name in _RECORD_INDEXES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    with engine.connect() as conn:
        subjects = pl.read_database(
            "SELECT id, kind, name, uscc FROM subjects ORDER BY id",
            conn,
            schema_overrides={"uscc": pl.String},
        )
    person_set = set(int(p) for p in people)
    step = 250_000
    for start in range(0, n, step):
        size = min(step, n - start)
        t = time.perf_counter()
        frame = _record_frame(
            catalog, subjects, departments, person_set, rng, start, size, now, batch_ids, runtime.protector
        )
        with engine.begin() as conn:
            insert_frame(conn, "records", frame)
        print(f"  records {start + size:,}/{n:,} ({time.perf_counter() - t:.1f}s)", flush=True)
    t = time.perf_counter()
    with engine.begin() as conn:
        for name, target in _RECORD_INDEXES.items():
            conn.exec_driver_sql(f"CREATE INDEX {name} ON {target}")
    print(f"  record indexes in {time.perf_counter() - t:.1f}s")


def _record_frame(
    catalog: Any,
    subjects: pl.DataFrame,
    departments: pl.DataFrame,
    persons: set[int],
    rng: np.random.Generator,
    start: int,
    size: int,
    now: dt.datetime,
    batch_ids: dict[str, int],
    protector: PersonalIdProtector,
) -> pl.DataFrame:
    half = size // 2
    items = ["XZCF"] * half + ["XZXK"] * (size - half)
    who = subjects[rng.integers(0, subjects.height, size)]
    first = dt.date(2019, 1, 1)
    decided = [
        first + dt.timedelta(days=int(d)) for d in rng.integers(0, (dt.date(2026, 6, 14) - first).days, size)
    ]
    violations = rng.integers(0, len(_VIOLATIONS), size)
    licences = rng.integers(0, len(_LICENCES), size)
    # A department of the kind whose remit covers the licence or violation, in any prefecture.
    of_kind = {k: np.flatnonzero(departments["kind"].to_numpy() == k) for k in departments["kind"].unique()}
    kinds = [
        _VIOLATIONS[violations[i]][3] if items[i] == "XZCF" else _LICENCES[licences[i]][2]
        for i in range(size)
    ]
    dept = departments[[int(of_kind[k][rng.integers(len(of_kind[k]))]) for k in kinds]]
    fines = rng.uniform(0.05, 50, size)
    rows = []
    is_person = [sid in persons for sid in who["id"].to_list()]
    sealed: dict[str, str] = {}

    def operator(given: str, *, shop: bool) -> str:
        name = "王" + given
        return sealed.setdefault(name, protector.seal_name(name)) if shop else name

    for i in range(size):
        seq = start + i + 1
        name, uscc = who["name"][i], who["uscc"][i]
        person = is_person[i]
        common = {
            "xdr_mc": name,
            "xdr_lb": "自然人"
            if person
            else ("个体工商户" if (uscc or "").startswith("92") else "法人及非法人组织"),
            "xdr_dm1": uscc,
            "xdr_zjlx": "身份证" if person else None,
            "xdr_zjhm": "4201**********0000" if person else None,
            # On an 个体工商户's record its 经营者 is a person named: sealed, as collection seals it.
            "fr": None if person else operator(GIVEN[seq % len(GIVEN)], shop=(uscc or "").startswith("92")),
        }
        abbr, dname, duscc = dept["abbr"][i], dept["name"][i], dept["uscc"][i]
        day = decided[i]
        if items[i] == "XZCF":
            v = _VIOLATIONS[violations[i]]
            key = f"{abbr}罚〔{day.year}〕{seq}号"
            data = {
                **common,
                "cf_wsh": key,
                "cf_wfxw": v[0],
                "cf_sy": f"经查，当事人{v[0]}，违反了{v[1]}的规定。",
                "cf_yj": v[1],
                "cf_cflb": v[2],
                "cf_nr": f"依据{v[1]}，决定给予{v[2].replace(';', '、')}的行政处罚。",
                "cf_nr_fk": f"{fines[i]:.4f}" if "罚款" in v[2] else None,
                "cf_nr_wfff": f"{fines[i] / 10:.4f}" if "没收" in v[2] else None,
                "cf_nr_zkdx": f"许可证（编号{seq:08d}）" if ("吊销" in v[2] or "暂扣" in v[2]) else None,
                "cf_jdrq": day.isoformat(),
                "cf_yxq": (day + dt.timedelta(days=1095)).isoformat(),
                "cf_gsjzq": None,
                "cf_cfjg": dname,
                "cf_cfjgdm": duscc,
                "cf_sjly": dname,
                "cf_sjlydm": duscc,
            }
            until = day + dt.timedelta(days=1095)
        else:
            lic = _LICENCES[licences[i]]
            key = f"{abbr}许准〔{day.year}〕{seq}号"
            until = day + dt.timedelta(days=1825)
            data = {
                **common,
                "xk_xkws": f"准予行政许可决定书（{lic[0]}）",
                "xk_wsh": key,
                "xk_xklb": lic[1],
                "xk_xkzs": lic[0],
                "xk_xkbh": f"XK{seq:010d}",
                "xk_nr": f"准予核发{lic[0]}",
                "xk_jdrq": day.isoformat(),
                "xk_yxqz": day.isoformat(),
                "xk_yxqzhi": until.isoformat(),
                "xk_xkjg": dname,
                "xk_xkjgdm": duscc,
                "xk_zt": "1",
                "xk_sjly": dname,
                "xk_sjlydm": duscc,
            }
        item = catalog.item(items[i])
        full = {f.code: data.get(f.code) for f in item.fields}  # every field, nulls present, as collected
        rows.append((items[i], duscc, key, int(who["id"][i]), day, until, _json(full)))
    frame = pl.DataFrame(
        rows,
        schema={
            "item_code": pl.String,
            "source_uscc": pl.String,
            "source_key": pl.String,
            "subject_id": pl.Int64,
            "decision_date": pl.Date,
            "valid_until": pl.Date,
            "data": pl.String,
        },
        orient="row",
    )
    seen = (
        (pl.col("decision_date").cast(pl.Datetime("us")) + pl.duration(days=3, hours=1))
        .dt.replace_time_zone("UTC")
        .clip(upper_bound=now.astimezone(dt.UTC))
    )
    return frame.with_columns(
        pl.lit("active").alias("state"),
        pl.lit(1).alias("version"),
        pl.col("data").hash().cast(pl.String).str.slice(0, 32).alias("content_hash"),
        pl.col("item_code").replace_strict(batch_ids, return_dtype=pl.Int64).alias("first_batch_id"),
        pl.col("item_code").replace_strict(batch_ids, return_dtype=pl.Int64).alias("last_batch_id"),
        seen.alias("first_seen"),
        seen.alias("last_seen"),
        seen.alias("updated_at"),
    )


def _json(data: dict[str, Any]) -> str:
    import json

    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------ measure


def measure(runtime: Runtime, args: argparse.Namespace) -> str:
    engine = runtime.engine
    rng = random.Random(args.seed)
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT max(id) FROM subjects")).scalar_one()
        ids = rng.sample(range(1, total + 1), min(20_000, total))
        rows = conn.execute(
            sa.text("SELECT id, kind, uscc, name, name_pinyin FROM subjects WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).all()
    orgs = [r for r in rows if r.uscc]
    subject_codes = [r.uscc for r in orgs]
    queries = _search_queries(orgs, rng, args.search_requests)
    subject_paths = [f"/api/v1/subjects/{c}" for c in subject_codes]
    search_paths = [f"/api/v1/search?q={quote(q)}" for q in queries]
    list_paths = [
        f"/api/v1/records?item={item}&region={region}"
        for item in ("XZCF", "XZXK")
        for region in ("42", "4201", "4202", "4203", "4205", "4206", "4209", "4210", "4211", "4228")
    ]
    lines = [
        f"portal benchmark — {total:,} subjects, {_count(engine):,} records, {engine.dialect.name}, "
        f"{os.cpu_count()} CPUs, xinyong serve --workers {args.workers}, wrk {args.connections} connections "
        f"x {args.seconds} s a phase, clock {args.today}",
    ]
    with served(
        runtime.settings.home, runtime.settings.database_url, today=args.today, workers=args.workers
    ) as port:
        run_wrk(port, subject_paths[:500] + search_paths[:200], title="warm-up", seconds=5)
        lines.append(warm_page_cache(runtime.settings.database_url))
        phases = [
            ("machine limit: GET /healthz", ["/healthz"]),
            ("subject API", subject_paths),
            ("name search", search_paths),
            ("双公示 list, first page", list_paths),
        ]
        for title, paths in phases:
            lines.append(
                run_wrk(port, paths, title=title, connections=args.connections, seconds=args.seconds).line()
            )
        # A repeat visitor: the same subject, with the ETag it was given (304, no body).
        one = subject_paths[0]
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}{one}") as answer:
            tag = answer.headers["ETag"]
        lines.append(
            run_wrk(
                port,
                [one],
                title="subject API, If-None-Match (304)",
                connections=args.connections,
                seconds=args.seconds,
                header=("If-None-Match", tag),
            ).line()
        )
    lines.append(
        "  targets: subject API >= 1,500 req/s and p99 <= 50 ms at 1 M subjects / 5 M records, 16 connections"
    )
    lines.append(_in_process(runtime, queries, subject_codes[:500]))
    return "\n".join(lines)


def _search_queries(orgs: list[Any], rng: random.Random, n: int) -> list[str]:
    """What people type: 2–4 characters of a name, a name's pinyin initials, a whole USCC."""
    out = []
    for i in range(n):
        row = orgs[rng.randrange(len(orgs))]
        kind = i % 5
        if kind <= 2 and len(row.name) >= 4:
            width = rng.choice((2, 3, 4))
            at = rng.randrange(0, len(row.name) - width + 1)
            out.append(row.name[at : at + width])
        elif kind == 3 and row.name_pinyin:
            out.append(row.name_pinyin[: rng.choice((4, 5, 6))])
        else:
            out.append(row.uscc)
    return out


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT max(id) FROM records")).scalar_one() or 0


def _in_process(runtime: Runtime, queries: list[str], codes: list[str]) -> str:
    """The same work without HTTP, to show what the database and the service cost on their own."""
    from xinyong.disclose.flows import look_up
    from xinyong.disclose.limits import QueryRefused
    from xinyong.disclose.search import search
    from xinyong.security.principal import Principal

    timings: dict[str, list[float]] = {"search()": [], "look_up()": []}
    with runtime.engine.connect() as conn:
        for q in queries[:500]:
            t = time.perf_counter()
            with contextlib.suppress(QueryRefused):
                search(conn, q, protector=runtime.protector)
            timings["search()"].append(time.perf_counter() - t)
        public = Principal.anonymous()
        for code in codes:
            t = time.perf_counter()
            look_up(conn, runtime=runtime, principal=public, code=code)
            timings["look_up()"].append(time.perf_counter() - t)
    parts = []
    for name, values in timings.items():
        values.sort()
        parts.append(
            f"{name} p50 {statistics.median(values) * 1000:.1f} ms, "
            f"p99 {values[int(len(values) * 0.99) - 1] * 1000:.1f} ms"
        )
    return "  in process, no HTTP: " + "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
