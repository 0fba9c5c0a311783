"""Benchmark: ingest a synthetic 行政处罚 file end to end, beside the machine's own write limit measured in
the same run, and time `frictionless validate` on the same file.

    .venv/bin/python bench/ingest.py                                   # 1,000,000 rows, SQLite and PostgreSQL
    .venv/bin/python bench/ingest.py --rows 100000 --database sqlite

The file is what providers really send (GB18030, full-width codes, mixed date styles, Excel serials,
about 2 % defective rows of every kind: xinyong.demo.generate). Each database is fresh; the ingest runs
as `xinyong ingest` in a child process, so that the figures are end to end (start-up and import
included) and the peak memory is that process's own (ru_maxrss from wait4, see _OWN_PEAK). Afterwards the
rejected rows are compared with the generator's bad rows: every bad row must be caught, no good row rejected.

**The limit.** Then the records the ingest stored are written again, bare, into a fresh database of the same
kind: the same rows (the same bytes of JSON), the records table's own columns, unique key, indexes and check,
no foreign keys, one transaction, through the writer the platform itself uses (`store.bulk`: executemany on
SQLite, COPY on PostgreSQL). Only the writes and the commit are timed. Nothing the platform does above storage
— reading, checking, resolving subjects, provenance, rejected rows — is in it, so the platform's rate as a
share of it says how much of the time goes above the machine's write limit.

frictionless (optional: `pip install -e '.[bench]'`) validates the same file against the Table Schema
closest to the catalogue item. Table Schema cannot say everything the catalogue says (check characters,
conditional requirements, dates against each other and against today, full-width forms), so its result
is a timing reference, not the same verdict.
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import importlib.util
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

import xinyong.store.schema  # noqa: F401  (every chapter's indexes on records)
from xinyong.catalog.loader import load_catalog
from xinyong.catalog.models import FieldType, Identifier, Item
from xinyong.clock import FixedClock, SystemClock
from xinyong.codes import make_uscc
from xinyong.collect.service import INDEX_AFTER_ROWS
from xinyong.demo.generate import make_world, penalties
from xinyong.demo.seed import register_departments
from xinyong.security.organisations import add_organisation
from xinyong.store.bulk import build_indexes, drop_secondary_indexes, insert_frame
from xinyong.store.engine import make_engine, upgrade
from xinyong.store.meta import NAMING
from xinyong.store.tables import records, rejected_rows

SUBMITTER = make_uscc("1", "2", "420000", "Q0000099")  # a collection system forwarding every department
DEFAULT_PG = "postgresql+psycopg://xinyong:xinyong@127.0.0.1:5432/postgres"
BARE_CHUNK = 50_000


@dataclass
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--bad-fraction", type=float, default=0.02)
    parser.add_argument("--encoding", choices=("gb18030", "utf-8"), default="gb18030")
    parser.add_argument("--seed", type=int, default=20170701)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("XINYONG_BENCH_PG_URL") or os.environ.get("XINYONG_TEST_PG_URL") or DEFAULT_PG,
        help="a PostgreSQL server URL; the benchmark creates and drops its own database there",
    )
    parser.add_argument("--no-frictionless", action="store_true", help="skip the frictionless comparison")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (file and SQLite DB)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="xinyong-bench-"))
    try:
        item = load_catalog().item("XZCF")
        path, bad_rows, departments = _generate(work, item, args)
        databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
        ok = True
        for database in databases:
            ok &= _bench_database(database, path, bad_rows, departments, work, args)
        if not args.no_frictionless:
            _bench_frictionless(path, item, work, args)
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _generate(work: Path, item: Item, args: argparse.Namespace) -> tuple[Path, set[int], pl.DataFrame]:
    """The file is made in a separate, spawned process, so that this one stays small (see _OWN_PEAK)."""
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        path, bad, departments = pool.submit(
            _write_file, work, item.code, args.rows, args.seed, args.bad_fraction, args.encoding
        ).result()
    size = path.stat().st_size / 1e6
    print(
        f"file      {args.rows:,} rows, {len(bad):,} bad ({len(bad) / args.rows:.1%}), {args.encoding}, "
        f"{size:,.1f} MB; generated in {time.perf_counter() - started:.1f} s"
    )
    return path, bad, departments


def _write_file(
    work: Path, item_code: str, rows: int, seed: int, bad_fraction: float, encoding: str
) -> tuple[Path, set[int], pl.DataFrame]:
    yesterday = SystemClock().today() - dt.timedelta(days=1)
    world = make_world(max(2000, rows // 50), seed=seed)
    generated = penalties(
        world,
        rows,
        item=load_catalog().item(item_code),
        seed=seed,
        end=min(dt.date(2026, 6, 30), yesterday),
        bad_fraction=bad_fraction,
    )
    path = work / "行政处罚.csv"
    path.write_bytes(generated.frame.write_csv().encode(encoding))
    bad = {i + 2 for i, flag in enumerate(generated.bad.to_list()) if flag}  # CSV row numbers
    return path, bad, world.departments


def _bench_database(
    database: str,
    path: Path,
    bad_rows: set[int],
    departments: pl.DataFrame,
    work: Path,
    args: argparse.Namespace,
) -> bool:
    home = work / f"home-{database}"
    home.mkdir()
    url, drop = _fresh_database(database, home, args.pg_url)
    try:
        engine = make_engine(url)
        upgrade(engine)
        with engine.begin() as conn:
            add_organisation(
                conn,
                name="湖北省信用信息共享平台（基准测试）",
                uscc=SUBMITTER,
                kind="credit_office",
                clock=FixedClock(SystemClock().now()),
            )
            # Only a source or a system the tree places above it may send its records: the tree says so.
            register_departments(
                conn, departments, parent_uscc=SUBMITTER, clock=FixedClock(SystemClock().now())
            )
        env = {
            **os.environ,
            "XINYONG_HOME": str(home),
            "XINYONG_DATABASE_URL": url,
            "XINYONG_PII_KEY": base64.b64encode(os.urandom(64)).decode(),
        }
        env.pop("XINYONG_FIXED_NOW", None)
        env.pop("XINYONG_INGEST_CHUNK_ROWS", None)
        command = [sys.executable, "-m", "xinyong.cli", "ingest", str(path), "--item", "XZCF"]
        run = _measure([*command, "--provider", SUBMITTER, "--json"], env=env)
        if run.returncode != 0:
            print(f"{database:<10}  ingest failed ({run.returncode}):\n{run.stderr[-2000:]}")
            return False
        summary = json.loads(run.stdout)
        with engine.connect() as conn:
            rejected = set(
                conn.execute(
                    sa.select(rejected_rows.c.row_number).where(
                        rejected_rows.c.batch_id == summary["batch_id"]
                    )
                ).scalars()
            )
        indexes_after = summary["received"] >= INDEX_AFTER_ROWS
        limit = _bare_write(database, engine, summary["batch_id"], work, args.pg_url, indexes_after)
        engine.dispose()
    finally:
        drop()
    caught, wrongly = len(rejected & bad_rows), len(rejected - bad_rows)
    rows = summary["received"]
    print(
        f"{database:<10}  {rows:,} rows in {run.seconds:.1f} s end to end = {rows / run.seconds:,.0f} rows/s "
        f"(in-process {summary['seconds']:.1f} s = {rows / max(summary['seconds'], 1e-9):,.0f} rows/s); "
        f"peak RSS {run.peak_mb:,.0f} MB"
    )
    print(
        f"{'':<10}  received {rows:,} = inserted {summary['inserted']:,} + updated {summary['updated']:,} + "
        f"unchanged {summary['unchanged']:,} + rejected {summary['rejected']:,}"
    )
    stored, bare_seconds = limit
    platform_rate, bare_rate = rows / run.seconds, stored / bare_seconds
    print(
        f"{'':<10}  limit: bare write of the same {stored:,} records into the same layout"
        + (", indexes built after," if indexes_after else "")
        + " "
        f"{bare_seconds:.1f} s = {bare_rate:,.0f} rows/s; "
        f"the platform runs at {platform_rate / bare_rate:.0%} of it"
    )
    good = caught == len(bad_rows) and wrongly == 0
    print(
        f"{'':<10}  bad rows caught {caught:,} of {len(bad_rows):,}; good rows rejected {wrongly:,}  "
        + ("OK" if good else "MISMATCH")
    )
    return good


def _bare_write(
    database: str, source: sa.Engine, batch_id: int, work: Path, pg_url: str, indexes_after: bool
) -> tuple[int, float]:
    """The records the batch stored, written bare into a fresh database: (rows, seconds of writing)."""
    home = work / f"bare-{database}"
    home.mkdir()
    url, drop = _fresh_database(database, home, pg_url)
    try:
        target = make_engine(url)
        bare = _bare_records(sa.MetaData(naming_convention=NAMING))
        bare.create(target)
        # JSON as the stored text: the same bytes go back in, not a re-serialised copy.
        columns = [
            sa.cast(c, sa.Text).label(c.name) if c.name in ("data", "original") else c
            for c in records.columns
        ]
        query = sa.select(*columns).where(records.c.first_batch_id == batch_id).order_by(records.c.id)
        names = [c.name for c in records.columns]
        written, seconds = 0, 0.0
        with source.connect() as reader, target.connect() as writer:
            result = reader.execution_options(stream_results=True, yield_per=BARE_CHUNK).execute(query)
            writer.begin()
            # The platform's first large load into an empty table builds the secondary indexes at the end
            # (collect.service.INDEX_AFTER_ROWS): so does the bare write then, timed with the build.
            started = time.perf_counter()
            writer.exec_driver_sql("DELETE FROM records")  # a first write: pysqlite's transaction begins
            dropped = drop_secondary_indexes(writer, "records") if indexes_after else []
            seconds += time.perf_counter() - started
            for part in result.partitions(BARE_CHUNK):
                frame = pl.DataFrame(
                    [tuple(r) for r in part], schema=names, orient="row", infer_schema_length=None
                )
                started = time.perf_counter()
                written += insert_frame(writer, "records", frame)
                seconds += time.perf_counter() - started
            started = time.perf_counter()
            build_indexes(writer, dropped)
            writer.commit()
            seconds += time.perf_counter() - started
        target.dispose()
    finally:
        drop()
    return written, seconds


def _bare_records(metadata: sa.MetaData) -> sa.Table:
    """The records table's layout without foreign keys: columns, primary key, unique key, indexes, check."""
    columns = [
        sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False)
        for c in records.columns
    ]
    table = sa.Table(records.name, metadata, *columns)
    for constraint in records.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and not isinstance(
            constraint, sa.PrimaryKeyConstraint
        ):
            table.append_constraint(
                sa.UniqueConstraint(*[c.name for c in constraint.columns], name=constraint.name)
            )
        elif isinstance(constraint, sa.CheckConstraint):
            table.append_constraint(sa.CheckConstraint(str(constraint.sqltext), name=constraint.name))
    for index in records.indexes:
        sa.Index(index.name, *[table.c[c.name] for c in index.columns], unique=bool(index.unique))
    return table


def _fresh_database(database: str, home: Path, pg_url: str) -> tuple[str, Any]:
    if database == "sqlite":
        return f"sqlite:///{home / 'xinyong.db'}", lambda: None
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"xinyong_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return admin.url.set(database=name).render_as_string(hide_password=False), drop


# A process's ru_maxrss keeps the high-water mark of the memory it was started from: vfork and exec carry it
# over. A child started straight from this process, grown by the previous database's bare write, reported
# this process's peak instead of its own (1.08 GB for an ingest that peaked at 0.94, measured). So the
# measured command is forked by a small Python of its own, which reports the command's peak.
_OWN_PEAK = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _measured(command: list[str], **popen: Any) -> tuple[int, float, float]:
    """Run `command` to its end: (exit code, seconds, its own peak resident memory in MB)."""
    with tempfile.TemporaryDirectory() as scratch:
        peak = Path(scratch) / "peak"
        started = time.perf_counter()
        returncode = subprocess.Popen([sys.executable, "-c", _OWN_PEAK, str(peak), *command], **popen).wait()
        seconds = time.perf_counter() - started
        kib = int(peak.read_text()) if peak.exists() else 0
    return returncode, seconds, kib / 1024  # KiB on Linux


def _measure(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Wall time and the child's own peak resident memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        returncode, seconds, peak_mb = _measured(command, env=env, cwd=cwd, stdout=out, stderr=err)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds=seconds,
            peak_mb=peak_mb,
            returncode=returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


# ------------------------------------------------------------------------------------------ frictionless


def table_schema(item: Item, headers: list[str]) -> dict[str, Any]:
    """The closest Table Schema to a catalogue item, for a file's columns (in its order): types, required,
    enums, lengths, code shapes, the record key."""
    uscc = r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"
    shapes = {
        Identifier.USCC: f"^{uscc}$",
        Identifier.ORGCODE: r"^[0-9A-Z]{8}-?[0-9X]$",
        Identifier.REGNO: r"^[0-9]{15}$",
        Identifier.IDCARD: r"^[0-9]{17}[0-9Xx]$",
    }
    fields = []
    for header in headers:
        spec = item.match_header(header)
        field: dict[str, Any] = {"name": header, "type": "string"}
        if spec is None:
            fields.append(field)
            continue
        constraints: dict[str, Any] = {}
        if spec.required:
            constraints["required"] = True
        if spec.max_length:
            constraints["maxLength"] = spec.max_length
        if spec.type is FieldType.DATE:
            field |= {"type": "date", "format": "any"}
        elif spec.type is FieldType.DECIMAL:
            field |= {"type": "number", "groupChar": ","}
        elif spec.type is FieldType.INTEGER:
            field["type"] = "integer"
        elif spec.type is FieldType.ENUM:
            constraints["enum"] = list(spec.enum or ())
        elif spec.type is FieldType.MULTI_ENUM:
            one = "|".join(spec.enum or ())
            constraints["pattern"] = f"^({one})([;；]({one}))*$"
        elif spec.identifier in shapes:
            constraints["pattern"] = shapes[spec.identifier]  # type: ignore[index]
        elif spec.identifier is Identifier.USCC_OR_PLACEHOLDER:
            constraints["pattern"] = "^(" + "|".join([uscc, *spec.placeholder]) + ")$"
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    key = [item.field(c).name_zh for c in item.source_key]
    if item.data_source:
        key.append(item.field(item.data_source.uscc).name_zh)
    return {"fields": fields, "primaryKey": key}


def _bench_frictionless(path: Path, item: Item, work: Path, args: argparse.Namespace) -> None:
    frictionless = shutil.which("frictionless", path=str(Path(sys.executable).parent)) or shutil.which(
        "frictionless"
    )
    if importlib.util.find_spec("frictionless") is None:
        frictionless = None
    if frictionless is None:
        print(
            "frictionless: not installed, comparison skipped "
            "(install with `pip install -e '.[bench]'`, i.e. frictionless==5.21.0)"
        )
        return
    schema = work / "schema.json"
    with path.open(encoding=args.encoding) as header_line:
        headers = next(csv.reader(header_line))
    schema.write_text(json.dumps(table_schema(item, headers), ensure_ascii=False), encoding="utf-8")
    report = work / "frictionless.json"
    command = [
        frictionless,
        "validate",
        path.name,
        "--schema",
        schema.name,
        "--encoding",
        args.encoding,
        "--format",
        "csv",
        "--limit-errors",
        str(10 * args.rows + 1000),
        "--json",
    ]
    with report.open("w", encoding="utf-8") as sink:
        returncode, seconds, peak_mb = _measured(command, cwd=work, stdout=sink, stderr=subprocess.DEVNULL)
    flagged = _flagged_rows(report)
    print(
        f"frictionless validate  {args.rows:,} rows in {seconds:.1f} s = {args.rows / seconds:,.0f} rows/s; "
        f"peak RSS {peak_mb:,.0f} MB; exit {returncode}; "
        f"rows flagged {flagged if flagged is not None else '?'}"
    )
    print(
        "                        (Table Schema cannot check check characters, conditional requirements, "
        "dates against each other or today; it flags full-width codes and 2021年3月5日/serial dates that "
        "the platform normalises)"
    )


def _flagged_rows(report: Path) -> int | None:
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    rows = {
        error.get("rowNumber")
        for task in data.get("tasks", [])
        for error in task.get("errors", [])
        if error.get("rowNumber") is not None
    }
    return len(rows)


if __name__ == "__main__":
    raise SystemExit(main())
