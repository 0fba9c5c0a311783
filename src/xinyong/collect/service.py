"""归集's only writer: take a provider's file for one catalogue item and load it as one atomic batch.

received = inserted + updated + unchanged + rejected, always. A row is either loaded (a new record, a
new version of an existing one, or a confirmation of it) or kept in rejected_rows with its reasons and
its original cells, until a later batch brings it corrected. The whole batch — subjects it creates
included — is one transaction: a crash part-way leaves nothing behind, and sending again is safe.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import sqlalchemy as sa

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.models import Item
from xinyong.collect import cell_checks, correction_guard, load, ownership, prepare
from xinyong.collect.columns import ColumnMap, header_score, map_columns, shown_header
from xinyong.collect.feeds import load_feeds
from xinyong.collect.messages import ROWS_LISTED, batch_warning, row_problem
from xinyong.collect.ownership import SOURCE_PROBLEM, SUBJECT_CHANGED, Submitter
from xinyong.collect.prepare import KEY, ROW, SOURCE, Context, err, is_personal_id, norm, pid, raw, warn
from xinyong.collect.readers import ReadLimits, ReadResult, read_file
from xinyong.collect.timeliness import working_days_to
from xinyong.events import emit
from xinyong.policy.loader import load_policy
from xinyong.policy.masking import mask_expr
from xinyong.policy.models import PersonNameMasking, Policy
from xinyong.policy.workdays import WorkdayCalendar
from xinyong.problems import Problem, ProblemError
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.bulk import build_indexes, drop_secondary_indexes
from xinyong.store.concurrency import dialect_insert, in_transaction
from xinyong.store.tables import batches, catalog_versions, records, rejected_rows, row_warnings
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.resolve import ResolutionMemo, kind_of_new_subject, resolve_frame
from xinyong.subjects.sealing import names_a_person, seal_where

# Rows checked and loaded at a time: the working set of a chunk is many times its rows (raw, clean and
# problem columns per field), so this bounds an ingest's memory whatever the file's size.
CHUNK_ROWS = 25_000
# A first load of at least this many rows into an empty records table builds the secondary indexes after
# the rows are in (store.bulk.drop_secondary_indexes): one sorted build costs far less than a million
# scattered index inserts (bench/ingest.py times both). Smaller loads keep them: on PostgreSQL the drop
# would lock the table until commit for nothing.
INDEX_AFTER_ROWS = 100_000
POSITION = "__position"  # a row's place in its chunk: row numbers need not be consecutive (empty rows)
FILENAME_MAX = 260  # batches.filename
Progress = Callable[[str, int, int], None]
_T = TypeVar("_T")


@dataclass
class BatchSummary:
    batch_id: int | None
    item: str
    status: str
    filename: str | None = None
    format: str | None = None
    encoding: str | None = None
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    late: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        return self.received == self.inserted + self.updated + self.unchanged + self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "item": self.item,
            "status": self.status,
            "filename": self.filename,
            "format": self.format,
            "encoding": self.encoding,
            "received": self.received,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "late": self.late,
            "seconds": round(self.seconds, 3),
            "problems": [p.as_dict() for p in self.problems],
            "warnings": [p.as_dict() for p in self.warnings],
            "unknown_columns": self.unknown_columns,
            "columns": self.columns,
        }


def ingest(
    runtime: Runtime,
    *,
    path: Path,
    item_code: str,
    submitter_uscc: str,
    filename: str | None = None,
    fmt: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    catalog: Catalog | None = None,
    calendar: WorkdayCalendar | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    index_after_rows: int = INDEX_AFTER_ROWS,
    timer: Callable[[], float] = time.perf_counter,
) -> BatchSummary:
    """Ingest one file. Refusals of the whole file are recorded as a refused batch and returned, not raised;
    an unknown submitter or item raises ProblemError (there is nothing to record them against).

    `header_row` (1-based) names the row of a CSV or Excel file that holds the headers; by default the
    reader finds it among the first rows (a title row above it is common)."""
    started = timer()
    catalog = catalog or load_catalog()
    item = catalog.item(item_code)
    calendar = calendar or WorkdayCalendar(environ={"XINYONG_HOME": str(runtime.settings.home)})
    report = progress or (lambda stage, done, total: None)
    now = runtime.clock.now()
    summary = BatchSummary(
        batch_id=None, item=item.code, status="loading", filename=_file_name(filename or path.name)
    )
    limits = ReadLimits.from_policy()

    with runtime.engine.connect() as conn:
        # typed by hand: a NUL would crash PostgreSQL's query
        sender = ownership.submitter(conn, _file_name(submitter_uscc.strip().upper())[:64])
    feed_problem, feed = _feed(runtime, submitter_uscc, item)
    try:
        if feed_problem:
            raise ProblemError(feed_problem)
        read = read_file(
            path, fmt=fmt, sheet=sheet, header_row=header_row, header_score=header_score(item), limits=limits
        )
        summary.format, summary.encoding = read.format, read.encoding
        columns = map_columns(read.headers, item)
        summary.columns = {shown_header(h): code for h, code in columns.mapped.items()}
        summary.unknown_columns = [shown_header(h) for h in columns.unknown]
        summary.warnings.extend(columns.warnings)
        columns.raise_if_refused()
        summary.received = read.height
        if feed is not None:
            _check_volume(feed, read.height, summary)
    except ProblemError as refusal:
        return _refuse(runtime, summary, refusal, sender, catalog, now, timer() - started)
    report("read", read.height, read.height)

    policy = load_policy()
    ctx = Context(
        item=item,
        today=runtime.clock.today(),
        source_field=item.data_source.uscc if item.data_source else None,
        default_source=submitter_uscc,
        collection=policy.collection,
        id_mask=policy.masking.id_number,
        deadline_working_days=_deadline(item, policy),
    )
    before = summary

    def attempt(conn: sa.Connection) -> BatchSummary:
        # A fresh summary each attempt: an attempt lost to a concurrent writer is rolled back, counts too.
        summary = dataclasses.replace(before, problems=list(before.problems), warnings=list(before.warnings))
        _load(
            conn,
            read,
            columns,
            ctx,
            summary,
            sender,
            catalog,
            runtime,
            calendar,
            now,
            chunk_rows,
            index_after_rows,
            report,
            limits,
        )
        summary.seconds = timer() - started
        _finish_batch(conn, summary, runtime.clock.now())
        _announce(conn, summary, sender, runtime)
        return summary

    try:
        summary = in_transaction(runtime.engine, attempt, bulk=True)
    except ProblemError as refusal:  # a CSV found malformed part-way: nothing of it stays
        fresh = BatchSummary(batch_id=None, item=item.code, status="loading", filename=summary.filename)
        fresh.format, fresh.encoding, fresh.received = read.format, read.encoding, read.height
        return _refuse(runtime, fresh, refusal, sender, catalog, now, timer() - started)
    report("loaded", read.height, read.height)
    return summary


def _refuse(
    runtime: Runtime,
    summary: BatchSummary,
    refusal: ProblemError,
    sender: Submitter,
    catalog: Catalog,
    now: dt.datetime,
    seconds: float,
) -> BatchSummary:
    summary.problems.extend(refusal.problems)
    summary.status = "refused"
    summary.rejected = summary.received  # a refused file rejects every row it had: it still reconciles
    summary.seconds = seconds
    with runtime.engine.begin() as conn:
        summary.batch_id = _insert_batch(conn, summary, sender.id, _catalog_version(conn, catalog, now), now)
    return summary


def _load(
    conn: sa.Connection,
    read: ReadResult,
    columns: ColumnMap,
    ctx: Context,
    summary: BatchSummary,
    sender: Submitter,
    catalog: Catalog,
    runtime: Runtime,
    calendar: WorkdayCalendar,
    now: dt.datetime,
    chunk_rows: int,
    index_after_rows: int,
    report: Progress,
    limits: ReadLimits,
) -> None:
    """Every chunk of the file, checked and loaded inside the batch's one transaction."""
    item = ctx.item
    batch_id = _insert_batch(conn, summary, sender.id, _catalog_version(conn, catalog, now), now)
    summary.batch_id = batch_id
    # An item's first load finds nothing to update in any chunk: no row of this batch can match a record an
    # earlier chunk wrote, as in-file duplicates are rejected. Asked once, inside the batch's transaction.
    item_had_records = _item_has_records(conn, item.code)
    warned = _WarningTally()
    resolved, names = ResolutionMemo(), _SubjectNames()
    start = 0
    # Closed when this frame goes (CPython frees it as soon as an error here has been handled): the
    # worker then finishes the chunk it is on and stops.
    checked = _ahead(_checked_chunks(read, columns, ctx, chunk_rows, limits, calendar, NameSeal.of(runtime)))
    # A failed load rolls back the drop with everything else: no path leaves the table without its indexes.
    dropped = []
    if not item_had_records and read.height >= index_after_rows and _no_records_at_all(conn):
        # Provenance grows row for row with records: its secondary index (by batch) is deferred too.
        dropped = [
            *drop_secondary_indexes(conn, "records"),
            *drop_secondary_indexes(conn, "record_provenance"),
        ]
    # Rows other batches rejected that this one may correct: asked once, before this batch rejects any. A
    # batch loading at the same time is not an earlier one, so it need not be seen part-way.
    corrects_others = _open_rejections(conn, item.code, batch_id)
    for kept, cell_problems, prepared in checked:
        existing = _existing(conn, prepared, item.code) if item_had_records else load.NO_RECORDS
        # The checks that ask the database, in the batch's transaction: one line each.
        prepared = ownership.mark_sources(conn, prepared, ctx, sender)
        prepared = correction_guard.mark(conn, prepared, ctx, existing)
        failed = pl.any_horizontal(
            [pl.col(err(f.code)).is_not_null() for f in item.fields]
            + [
                pl.col("__dup"),
                pl.col(SOURCE_PROBLEM).is_not_null(),
                pl.col(correction_guard.REVERTS).is_not_null(),
                cell_checks.any_problem(cell_problems.columns),
            ]
        )
        bad = prepared.filter(failed).with_columns(pl.lit(False).alias(SUBJECT_CHANGED))
        good = prepared.filter(~failed)
        # Rows that would re-point an existing record to another subject join the rejected ones.
        candidates = _subject_candidates(good, item)
        old_subject = good.join(
            existing,
            left_on=[SOURCE, KEY],
            right_on=["source_uscc", "source_key"],
            how="left",
            maintain_order="left",
        )["old_subject"]
        changed, keep = ownership.subject_changes(conn, candidates, old_subject, protector=runtime.protector)
        if changed.any():
            bad = pl.concat([bad, good.filter(changed).with_columns(changed.filter(changed))]).sort(ROW)
            good, candidates, keep = good.filter(~changed), candidates.filter(~changed), keep.filter(~changed)
        _store_rejected(conn, bad, kept, columns, ctx, sender, batch_id, runtime, limits)
        summary.rejected += bad.height
        rows = _record_rows(conn, good, candidates, keep, runtime, batch_id, resolved)
        good = good.with_columns(_name_mismatches(conn, good, rows["subject_id"], item, names))
        _store_warnings(conn, good, kept, columns, ctx, batch_id, runtime, warned)
        summary.late += int(rows["late"].sum() or 0)
        counts = load.load_chunk(
            conn, rows, item_code=item.code, batch_id=batch_id, now=now, existing=existing
        )
        summary.inserted += counts["inserted"]
        summary.updated += counts["updated"]
        summary.unchanged += counts["unchanged"]
        if corrects_others:
            _close_corrected(conn, item.code, batch_id, rows)
        start += kept.height
        report("checked", start, read.height)
    build_indexes(conn, dropped)
    summary.warnings.extend(warned.problems(item, ctx))
    summary.status = "done"
    if not summary.reconciles:  # pragma: no cover - a bug, never a data problem: roll back loudly
        raise RuntimeError(f"batch {batch_id} does not reconcile: {summary.as_dict()}")


def _checked_chunks(
    read: ReadResult,
    columns: ColumnMap,
    ctx: Context,
    chunk_rows: int,
    limits: ReadLimits,
    calendar: WorkdayCalendar,
    seal: NameSeal,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """The file's chunks with everything done that needs no database: (the provider's cells, the reader's
    cell problems, the prepared frame with its duplicates marked and each row's record columns built).
    Pure: it runs in a worker thread (`_ahead`), while the caller writes the chunk before."""
    start = 0
    seen = pl.DataFrame(schema=SEEN_SCHEMA)
    for chunk in read.batches(chunk_rows):
        # Only the catalogue's columns are kept: an unknown column is reported, never stored.
        cleaned, cell_problems = cell_checks.check_cells(
            chunk, ctx.item, columns.header_for, max_chars=limits.cell_max_chars
        )
        kept = cleaned.select(list(columns.mapped))
        shaped = _shape(kept, columns, ctx.item, rows=read.row_numbers_for(start, chunk.height))
        prepared, seen = _mark_duplicates(prepare.prepare(shaped.hstack(cell_problems), ctx), seen)
        yield kept, cell_problems, prepared.hstack(_record_columns(prepared, ctx, calendar, seal))
        start += chunk.height


def _no_records_at_all(conn: sa.Connection) -> bool:
    return conn.execute(sa.select(records.c.id).limit(1)).first() is None


def _item_has_records(conn: sa.Connection, item_code: str) -> bool:
    query = sa.select(records.c.id).where(records.c.item_code == item_code).limit(1)
    return conn.execute(query).first() is not None


def _existing(conn: sa.Connection, prepared: pl.DataFrame, item_code: str) -> pl.DataFrame:
    """The records this chunk's identities already have (load.existing_records), asked once for all checks."""
    keys = prepared.filter(pl.col(SOURCE).is_not_null() & pl.col(KEY).is_not_null()).select(
        pl.col(SOURCE).alias("source_uscc"), pl.col(KEY).alias("source_key"), pl.col(ROW).alias("row_number")
    )
    return load.existing_records(conn, keys.unique(["source_uscc", "source_key"]), item_code)


_END = object()


def _ahead(items: Iterator[_T]) -> Iterator[_T]:
    """`items`, each made in a worker thread while the caller works on the one before.

    Reading and checking a chunk is polars work that releases the interpreter; writing the previous one is
    the database's work (SQLite's engine, or PostgreSQL's server process). Overlapped, the second core
    checks while the first writes. At most one chunk waits, so memory stays two chunks. The worker only
    ever advances `items`, one step at a time; an error it meets (a malformed CSV row) is raised here, in
    the order of the chunks."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-check") as pool:
        pending = pool.submit(next, items, _END)
        while (value := pending.result()) is not _END:
            pending = pool.submit(next, items, _END)
            yield value  # type: ignore[misc]


def _deadline(item: Item, policy: Policy) -> int | None:
    if item.timeliness is None:
        return None
    rule = getattr(policy.timeliness, item.timeliness, None)
    if rule is None:
        raise ProblemError(
            Problem(
                "catalog.unknown_timeliness",
                f"目录事项 {item.code} 的时限规则 {item.timeliness} 在政策文件的 timeliness 中不存在",
                f"Item {item.code} names timeliness rule {item.timeliness}, "
                "which the policy file does not define",
            )
        )
    return int(rule.working_days)


def _feed(runtime: Runtime, submitter_uscc: str, item: Item) -> tuple[Problem | None, Any]:
    provider = load_feeds(runtime.settings.home).for_submitter(submitter_uscc)
    if provider is None:
        return None, None
    feed = next((f for f in provider.feeds if f.item == item.code), None)
    if feed is None:
        declared = "、".join(f.item for f in provider.feeds)
        return (
            Problem(
                "batch.item_not_declared",
                f"{provider.name} 的报送声明中没有事项 {item.code}（{item.name_zh}），只声明了：{declared}",
                f"{provider.name} has not declared item {item.code}; its declared items are: {declared}",
            ),
            None,
        )
    return None, feed


def _check_volume(feed: Any, rows: int, summary: BatchSummary) -> None:
    if rows < feed.min_rows:
        raise ProblemError(
            Problem(
                "batch.too_few_rows",
                f"本批次只有 {rows} 行，少于报送声明的下限 {feed.min_rows} 行：文件可能导出不完整，未入库",
                f"The batch has {rows} rows, fewer than the declared minimum {feed.min_rows}: the export "
                "looks incomplete, nothing was loaded",
            )
        )
    if feed.max_rows is not None and rows > feed.max_rows:
        summary.warnings.append(
            Problem(
                "batch.many_rows",
                f"本批次 {rows} 行，多于报送声明的上限 {feed.max_rows} 行，请确认是否重复导出",
                f"The batch has {rows} rows, more than the declared maximum {feed.max_rows}; "
                "check for a double export",
            )
        )


def _catalog_version(conn: sa.Connection, catalog: Catalog, now: dt.datetime) -> int:
    """The catalogue edition's row, registered once. It is part of the batch's transaction (a killed first
    batch leaves no trace); a concurrent first batch waits at the insert for the other, then finds its row."""
    find = sa.select(catalog_versions.c.id).where(catalog_versions.c.sha256 == catalog.sha256)
    found = conn.execute(find).scalar()
    if found is None:
        content = catalog.file.model_dump_json(by_alias=True)
        conn.execute(
            dialect_insert(conn)(catalog_versions)
            .values(sha256=catalog.sha256, edition=catalog.edition, content=content, created_at=now)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        found = conn.execute(find).scalar_one()
    return int(found)


def _insert_batch(
    conn: sa.Connection, s: BatchSummary, submitter: int, catalog_version: int, now: dt.datetime
) -> int:
    return conn.execute(
        batches.insert()
        .values(
            item_code=s.item,
            submitter_id=submitter,
            catalog_version_id=catalog_version,
            filename=s.filename,
            format=s.format,
            encoding=s.encoding,
            status=s.status,
            received=s.received,
            rejected=s.received if s.status == "refused" else 0,
            report=s.as_dict(),
            created_at=now,
            finished_at=now if s.status == "refused" else None,
        )
        .returning(batches.c.id)
    ).scalar_one()


def _finish_batch(conn: sa.Connection, s: BatchSummary, now: dt.datetime) -> None:
    conn.execute(
        batches.update()
        .where(batches.c.id == s.batch_id)
        .values(
            status=s.status,
            received=s.received,
            inserted=s.inserted,
            updated=s.updated,
            unchanged=s.unchanged,
            rejected=s.rejected,
            report=s.as_dict(),
            finished_at=now,
        )
    )


def _announce(conn: sa.Connection, s: BatchSummary, sender: Submitter, runtime: Runtime) -> None:
    """One outbox event per batch that added or changed records, in the batch's transaction (last: emitting
    holds the outbox's lock until commit). Readers — the application chapter turns a court's 失信被执行人
    records into list entries — find the records through the batch's provenance; collection knows none of
    them."""
    if s.inserted + s.updated == 0:
        return
    emit(
        conn,
        event_type="batch.loaded",
        clock=runtime.clock,
        payload={
            "batch_id": s.batch_id,
            "item": s.item,
            "submitter": sender.uscc,
            "inserted": s.inserted,
            "updated": s.updated,
        },
    )


def _shape(chunk: pl.DataFrame, columns: ColumnMap, item: Item, *, rows: pl.Series) -> pl.DataFrame:
    """The chunk with one raw:<code> column per catalogue field, under the file's row numbers."""
    exprs = [
        pl.lit(rows.alias(ROW)),
        pl.int_range(0, chunk.height, dtype=pl.Int64).alias(POSITION),
    ]
    for spec in item.fields:
        header = columns.header_for.get(spec.code)
        exprs.append((pl.col(header) if header else pl.lit(None, dtype=pl.String)).alias(raw(spec.code)))
    return chunk.select(exprs)


IDENTITY_HASH = "__identity_hash"
SEEN_SCHEMA = {IDENTITY_HASH: pl.UInt64, KEY: pl.String, SOURCE: pl.String, "__first": pl.Int64}


def _mark_duplicates(frame: pl.DataFrame, seen: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows repeating an earlier row's identity (same source, same key) in this file are duplicates.

    `seen` holds each identity of the earlier chunks with its first row. It grows by appending (no copy),
    and a chunk finds its earlier rows by a 64-bit hash of the identity, with the chunk as the hashed side
    and the strings compared on every match, so a hash collision never makes a duplicate. Joining each chunk
    against all of `seen` by its strings built a hash table of the whole file per chunk: at a million rows
    that cost 0.18 s a chunk (now 0.03 s) and left some 300 MB more resident, mostly memory the allocator
    kept."""
    keyed = frame.with_columns(
        pl.col(ROW).first().over([SOURCE, KEY]).alias("__first_here"),
        pl.struct(SOURCE, KEY).hash().alias(IDENTITY_HASH),
    )
    probes = (
        keyed.filter(pl.col(SOURCE).is_not_null() & pl.col(KEY).is_not_null())
        .select(IDENTITY_HASH, pl.col(SOURCE).alias("__source"), pl.col(KEY).alias("__key"))
        .unique()
    )
    earlier = (
        seen.join(probes, on=IDENTITY_HASH, how="inner")
        .filter((pl.col(SOURCE) == pl.col("__source")) & (pl.col(KEY) == pl.col("__key")))
        .select(SOURCE, KEY, "__first")
    )
    keyed = keyed.join(earlier, on=[SOURCE, KEY], how="left", maintain_order="left")
    first = pl.coalesce(pl.col("__first"), pl.col("__first_here"))
    has_key = pl.col(KEY).str.replace_all(r"\|", "") != ""
    marked = keyed.with_columns(first.alias("__first"), (has_key & (first != pl.col(ROW))).alias("__dup"))
    new_seen = marked.filter(~pl.col("__dup") & has_key & pl.col(SOURCE).is_not_null()).select(
        IDENTITY_HASH, KEY, SOURCE, pl.col(ROW).alias("__first")
    )
    grown = pl.concat([seen, new_seen.unique([KEY, SOURCE])], rechunk=False)
    return marked.drop(IDENTITY_HASH), grown


def _store_rejected(
    conn: sa.Connection,
    bad: pl.DataFrame,
    chunk: pl.DataFrame,
    columns: ColumnMap,
    ctx: Context,
    sender: Submitter,
    batch_id: int,
    runtime: Runtime,
    limits: ReadLimits,
) -> None:
    if bad.height == 0:
        return
    originals = _originals_of(bad, chunk)
    private = _Private.of(columns, ctx)
    rows = []
    key_names_zh = "、".join(ctx.item.field(c).name_zh for c in ctx.item.source_key)
    key_names_en = ", ".join(ctx.item.field(c).name_en for c in ctx.item.source_key)
    # The record columns built for loading are large (the data JSON) and say nothing about the rejection.
    explained = bad.select(pl.exclude(f"^{RECORD}.*$"))
    for cells, original in zip(explained.iter_rows(named=True), originals, strict=True):
        # The reader's own finding on a cell says what happened; a rule's complaint about the same cell
        # (a check digit "wrong" because Excel zeroed it) would only mislead.
        reasons = cell_checks.explain(cells, ctx.item, max_chars=limits.cell_max_chars)
        said = {p.field for p in reasons}
        reasons += [p for p in prepare.explain(cells, ctx) if p.field not in said]
        reasons += ownership.explain(cells, ctx, sender)
        reasons += correction_guard.explain(cells, ctx)
        if cells["__dup"]:
            reasons.append(
                row_problem(
                    "row.duplicate_in_file",
                    None,
                    first=cells["__first"],
                    key_zh=key_names_zh,
                    key_en=key_names_en,
                )
            )
        rows.append(
            {
                "batch_id": batch_id,
                "row_number": cells[ROW],
                "item_code": ctx.item.code,
                "source_uscc": _storable_key(cells, [ctx.source_field], cells[SOURCE], 64),
                "source_key": _storable_key(cells, list(ctx.item.source_key), cells[KEY], 256),
                "raw": _protect(original, private.headers(cells), runtime),
                "reasons": [p.as_dict() for p in reasons],
                "status": "open",
            }
        )
    conn.execute(rejected_rows.insert(), rows)


def _originals_of(rows: pl.DataFrame, chunk: pl.DataFrame) -> list[dict[str, Any]]:
    """The provider's own cells (catalogue columns only) of some rows of the chunk, in their order."""
    picked = chunk.with_row_index("__i").filter(pl.col("__i").is_in(rows[POSITION].implode()))
    return list(picked.drop("__i").iter_rows(named=True))


def _file_name(name: str) -> str:
    """A name the caller typed (the upload's, a USCC), as the database may hold it: no NUL, no lone
    surrogate, no longer than the filename column."""
    clean = "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in name)
    return clean[:FILENAME_MAX]


def _storable_key(
    cells: dict[str, Any], fields: list[str | None], value: str | None, width: int
) -> str | None:
    """A rejected row's source or key as it may be stored in clear: not when it holds an ID number or a
    control character (NUL cannot even be stored); the raw cells keep it, protected."""
    if not value or any(cells.get(pid(f)) for f in fields if f):
        return None
    if _CONTROL.search(value):
        return None
    return value[:width]


@dataclass(frozen=True)
class _Private:
    """Which of the provider's headers hold personal data: the ID number fields' and those that may name a
    person (the subject's name, every `names_person` field: a rejected row's kind is not to be trusted)
    always, the others' when a citizen ID number was found in the cell (its `pid:` flag). Worked out once a
    chunk, used for every row."""

    always: frozenset[str]
    flagged: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, columns: ColumnMap, ctx: Context) -> _Private:
        specs = [(h, ctx.item.get_field(code)) for h, code in columns.mapped.items()]
        names = ctx.item.person_name_fields()
        always = frozenset(
            h for h, spec in specs if spec is not None and (is_personal_id(spec) or spec.code in names)
        )
        flagged = tuple((h, pid(spec.code)) for h, spec in specs if spec is not None and h not in always)
        return cls(always, flagged)

    def headers(self, cells: dict[str, Any]) -> set[str]:
        """The headers whose cells must be kept encrypted in this row."""
        return set(self.always) | {header for header, flag in self.flagged if cells.get(flag)}


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


ENCRYPTED_CELL = "enc:"


def encrypted_cell(value: Any, protector: PersonalIdProtector) -> str:
    """A kept cell that holds personal data, as stored: only its provider's feedback shows it (`reveal`)."""
    return ENCRYPTED_CELL + base64.b64encode(protector.encrypt(str(value))).decode()


def _protect(original: dict[str, Any], private: set[str], runtime: Runtime) -> dict[str, Any]:
    """A row's cells as they may be stored: cells holding an ID number or a name encrypted (only the
    provider's feedback shows them), and NUL — which no database column can hold — made visible as ␀."""
    out = {}
    for header, value in original.items():
        if header in private and value:
            out[header] = encrypted_cell(value, runtime.protector)
        elif isinstance(value, str) and "\x00" in value:
            out[header] = value.replace("\x00", "\u2400")
        else:
            out[header] = value
    return out


class _WarningTally:
    """The batch's warnings over every chunk: per (code, field) how many rows, and the first row numbers."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str | None], list[int]] = {}
        self.counts: dict[tuple[str, str | None], int] = {}

    def add(self, code: str, field: str | None, rows: list[int], count: int) -> None:
        listed = self.rows.setdefault((code, field), [])
        listed.extend(rows[: max(0, ROWS_LISTED - len(listed))])
        self.counts[(code, field)] = self.counts.get((code, field), 0) + count

    def problems(self, item: Item, ctx: Context) -> list[Problem]:
        limit = ctx.collection.implausible_amount.warn_from
        return [
            batch_warning(code, item.get_field(field or ""), rows, self.counts[(code, field)], limit=limit)
            for (code, field), rows in self.rows.items()
        ]


def _store_warnings(
    conn: sa.Connection,
    good: pl.DataFrame,
    chunk: pl.DataFrame,
    columns: ColumnMap,
    ctx: Context,
    batch_id: int,
    runtime: Runtime,
    tally: _WarningTally,
) -> None:
    """Rows that loaded with a warning: counted for the batch, kept for the feedback file."""
    codes = [warn(f.code) for f in ctx.item.fields]
    flagged = good.filter(
        pl.any_horizontal(
            [pl.col(c).is_not_null() for c in codes] + [pl.col("__name_registered").is_not_null()]
        )
    )
    if flagged.height == 0:
        return
    long = flagged.select(ROW, *codes).unpivot(index=ROW, variable_name="column", value_name="code")
    long = long.filter(pl.col("code").is_not_null()).with_columns(pl.col("column").str.strip_prefix("warn:"))
    name_field = ctx.item.subject_fields.name
    mismatched = flagged.filter(pl.col("__name_registered").is_not_null()).select(
        ROW, pl.lit(name_field).alias("column"), pl.lit("row.name_mismatch").alias("code")
    )
    long = pl.concat([long, mismatched])
    for (code, column), group in long.sort(ROW).group_by(["code", "column"], maintain_order=True):
        tally.add(str(code), str(column), group[ROW].head(ROWS_LISTED).to_list(), group.height)
    originals = _originals_of(flagged, chunk)
    private = _Private.of(columns, ctx)
    name_spec = ctx.item.field(name_field)
    rows = []
    for cells, original in zip(flagged.iter_rows(named=True), originals, strict=True):
        reasons = prepare.explain_warnings(cells, ctx)
        if cells["__name_registered"] is not None:
            reasons.append(
                row_problem(
                    "row.name_mismatch",
                    name_spec,
                    name=cells[norm(name_field)],
                    registered=cells["__name_registered"],
                    uscc=cells["__name_uscc"],
                )
            )
        rows.append(
            {
                "batch_id": batch_id,
                "row_number": cells[ROW],
                "item_code": ctx.item.code,
                "source_key": cells[KEY],
                "raw": _protect(original, private.headers(cells), runtime),
                "reasons": [p.as_dict() for p in reasons],
            }
        )
    conn.execute(row_warnings.insert(), rows)


_NAME_LOOKUP = 5000


class _SubjectNames:
    """Per subject, the names a row may give it (current and former) and its registered name, read once a
    batch: a file names the same subjects in every chunk. A batch never renames (only the registration
    authority's single resolution does, subjects.service), so what was read stays true for the batch.
    Bounded: past `capacity` subjects it reads each chunk's others again instead of keeping them."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self.known = pl.DataFrame(schema={"subject_id": pl.Int64, "known": pl.String})
        self.registered = pl.DataFrame(schema={"subject_id": pl.Int64, "registered": pl.String})

    def of(self, conn: sa.Connection, ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(subject_id, known) and (subject_id, registered) for these subjects."""
        wanted = ids.implode()
        unread = ids.filter(~ids.is_in(self.registered["subject_id"].implode())).to_list()
        known: list[Any] = []
        registered: list[Any] = []
        for start in range(0, len(unread), _NAME_LOOKUP):
            part = unread[start : start + _NAME_LOOKUP]
            known += conn.execute(
                sa.select(subject_names.c.subject_id, subject_names.c.name).where(
                    subject_names.c.subject_id.in_(part), subject_names.c.role.in_(("current", "former"))
                )
            ).all()
            registered += conn.execute(
                sa.select(subjects.c.id, subjects.c.name).where(subjects.c.id.in_(part))
            ).all()
        known_read = pl.DataFrame(known, schema=self.known.schema, orient="row")
        registered_read = pl.DataFrame(registered, schema=self.registered.schema, orient="row")
        known_frame = pl.concat([self.known.filter(pl.col("subject_id").is_in(wanted)), known_read])
        registered_frame = pl.concat(
            [self.registered.filter(pl.col("subject_id").is_in(wanted)), registered_read]
        )
        if self.registered.height + registered_read.height <= self.capacity:
            self.known = pl.concat([self.known, known_read], rechunk=False)
            self.registered = pl.concat([self.registered, registered_read], rechunk=False)
        return known_frame, registered_frame


def _name_mismatches(
    conn: sa.Connection, good: pl.DataFrame, subject_ids: pl.Series, item: Item, names: _SubjectNames
) -> list[pl.Expr]:
    """For rows naming a subject by its USCC: the name registered for that USCC where the row's name is
    neither it nor a former name (`__name_registered`, with the USCC in `__name_uscc`); null elsewhere.

    Names are compared without spaces and with full-width brackets and letters made half-width, so
    "华信（武汉）" and "华信(武汉)" are one name."""
    roles = item.subject_fields.roles()
    nothing = [
        pl.lit(None, dtype=pl.String).alias("__name_registered"),
        pl.lit(None, dtype=pl.String).alias("__name_uscc"),
    ]
    if "uscc" not in roles or "name" not in roles or good.height == 0:
        return nothing
    placeholders = [p for f in item.fields for p in f.placeholder]
    rows = good.select(
        ROW, pl.col(norm(roles["uscc"])).alias("uscc"), pl.col(norm(roles["name"])).alias("name")
    ).with_columns(subject_ids.alias("subject_id"))
    rows = rows.filter(
        pl.col("uscc").is_not_null() & ~pl.col("uscc").is_in(placeholders) & pl.col("name").is_not_null()
    )
    known_frame, registered_frame = names.of(conn, rows["subject_id"].drop_nulls().unique())
    comparable = rows.with_columns(_name_key(pl.col("name")).alias("key"))
    known_keys = known_frame.select("subject_id", _name_key(pl.col("known")).alias("key"))
    differs = comparable.join(known_keys, on=["subject_id", "key"], how="anti").join(
        registered_frame, on="subject_id"
    )
    found = good.select(ROW).join(
        differs.select(ROW, "registered", "uscc"), on=ROW, how="left", maintain_order="left"
    )
    return [found["registered"].alias("__name_registered"), found["uscc"].alias("__name_uscc")]


def _name_key(name: pl.Expr) -> pl.Expr:
    return name.str.replace_many(prepare.FULL_WIDTH, prepare.HALF_WIDTH).str.replace_all(r"\s", "")


def reveal(raw_row: dict[str, Any], protector: PersonalIdProtector) -> dict[str, Any]:
    """A kept row's cells in clear, for its provider's feedback (`_protect` encrypted some)."""
    return {
        h: protector.decrypt(base64.b64decode(v[len(ENCRYPTED_CELL) :]))
        if isinstance(v, str) and v.startswith(ENCRYPTED_CELL)
        else v
        for h, v in raw_row.items()
    }


# The prefix of a row's record columns (load.ROW_SCHEMA's), built before its subject is known.
RECORD = "__record:"


@dataclass(frozen=True)
class NameSeal:
    """What seals a person's name in a record (security.pii.seal_name, policy `masking.person_names`)."""

    protector: PersonalIdProtector
    rule: PersonNameMasking

    @classmethod
    def of(cls, runtime: Runtime) -> NameSeal:
        return cls(runtime.protector, load_policy().masking.person_names)

    def records(self, frame: pl.DataFrame, item: Item) -> pl.DataFrame:
        """The frame with the cells that name a person sealed, normalised and as sent: the subject's name
        where it is a person's, and on a person's or an 个体工商户's row every `names_person` field — what the
        public sees masked. A row's kind is the one its subject is registered as when new (declared, else
        from its codes): sealed before its subject is known, in the check worker."""
        cands = _subject_candidates(frame, item)
        personal = pl.col("idcard").is_not_null() | pl.col("iddoc").is_not_null()
        kind = cands.select(kind_of_new_subject(pl.col("kind"), pl.col("uscc"), personal))["kind"]
        name_is_person = names_a_person(cands["name"], kind, self.rule)
        row_is_person = kind.is_in(list(self.rule.named_person_fields))
        sealed = []
        for code, is_name in item.person_name_fields().items():
            where = name_is_person if is_name else row_is_person
            sealed += [seal_where(frame[c], where, self.protector) for c in (norm(code), raw(code))]
        return frame.with_columns(sealed) if sealed else frame

    def names_in(self, values: dict[str, Any], item: Item, subject_kind: str, name: str | None) -> set[str]:
        """The fields of a stored record's data (or original text) that name a person, by the same rule as
        `records`, for a subject of `subject_kind` named `name` in the record."""
        return {
            code
            for code, is_name in item.person_name_fields().items()
            if isinstance(values.get(code), str)
            and values[code]
            and (
                self.rule.names_a_person(name, subject_kind)
                if is_name
                else subject_kind in self.rule.named_person_fields
            )
        }


def _record_columns(
    prepared: pl.DataFrame, ctx: Context, calendar: WorkdayCalendar, seal: NameSeal
) -> pl.DataFrame:
    """Each row's record columns except its subject: data and original JSON (ID numbers masked, a person's
    name sealed), the content hash, the dates and the timeliness. No database: built in the check worker for
    every row, used for the rows that load."""
    item = ctx.item
    personal = [f.code for f in item.fields if is_personal_id(f)]
    masked = [mask_expr(pl.col(norm(c)), ctx.id_mask).alias(norm(c)) for c in personal] + [
        mask_expr(pl.col(raw(c)), ctx.id_mask).alias(raw(c)) for c in personal
    ]
    shown = seal.records(prepared.with_columns(masked) if masked else prepared, item)
    data = pl.struct([pl.col(norm(f.code)).alias(f.code) for f in item.fields]).struct.json_encode()
    dates = item.date_fields

    def date_col(code: str | None) -> pl.Expr:
        return (
            pl.col(norm(code)).str.to_date("%Y-%m-%d", strict=False) if code else pl.lit(None, dtype=pl.Date)
        )

    staged = shown.select(
        pl.col(ROW).alias("row_number"),
        pl.col(SOURCE).alias("source_uscc"),
        pl.col(KEY).alias("source_key"),
        date_col(dates.decision).alias("decision_date"),
        date_col(dates.valid_until).alias("valid_until"),
        date_col(dates.act_end).alias("act_end_date"),
        data.alias("data"),
        _originals(shown, item).alias("original"),
    )
    staged = staged.with_columns(load.content_hash(pl.col("data")).alias("content_hash"))
    if ctx.deadline_working_days and dates.decision:
        days = working_days_to(staged["decision_date"], ctx.today, calendar).alias("receipt_working_days")
        staged = staged.with_columns(days, (days > ctx.deadline_working_days).alias("late"))
    else:
        staged = staged.with_columns(
            pl.lit(None, dtype=pl.Int32).alias("receipt_working_days"),
            pl.lit(None, dtype=pl.Boolean).alias("late"),
        )
    return staged.select(pl.all().name.prefix(RECORD))


def _record_rows(
    conn: sa.Connection,
    good: pl.DataFrame,
    candidates: pl.DataFrame,
    keep: pl.Series,
    runtime: Runtime,
    batch_id: int,
    memo: ResolutionMemo,
) -> pl.DataFrame:
    """The good rows' record columns (`_record_columns`) with each row's subject, resolved now."""
    subject_ids = _resolve_subjects(conn, candidates, keep, runtime, batch_id, memo)
    built = good.select(pl.col(f"^{RECORD}.*$").name.map(lambda name: name.removeprefix(RECORD)))
    return built.with_columns(pl.Series("subject_id", subject_ids, dtype=pl.Int64))


def _originals(frame: pl.DataFrame, item: Item) -> pl.Expr:
    """The provider's own text of each cell that normalisation changed (full-width code, 2021/3/5 date...).

    Only the columns where some row changed go into the JSON, and a row where nothing changed has none:
    most rows are clean, and a million rows of empty keys would be real disk for nothing.
    """
    differs = {
        f.code: pl.col(raw(f.code)).is_not_null()
        & (pl.col(raw(f.code)) != pl.col(norm(f.code)).fill_null(""))
        for f in item.fields
    }
    touched = [code for code, flag in differs.items() if frame.select(flag.any()).item()]
    if not touched:
        return pl.lit(None, dtype=pl.String)
    cells = [pl.when(differs[c]).then(pl.col(raw(c))).alias(c) for c in touched]
    return pl.when(pl.any_horizontal([differs[c] for c in touched])).then(
        pl.struct(cells).struct.json_encode()
    )


def _subject_candidates(good: pl.DataFrame, item: Item) -> pl.DataFrame:
    """Each good row's view of its subject: identifiers per scheme, name and kind (what resolution takes)."""
    roles = item.subject_fields.roles()
    kinds = {value: kinds[0].value for value, kinds in (item.subject_kind_values or {}).items()}
    placeholders = [p for f in item.fields for p in f.placeholder]

    def role(name: str) -> pl.Expr:
        return pl.col(norm(roles[name])) if name in roles else pl.lit(None, dtype=pl.String)

    number, id_type = role("id_number"), role("id_type").fill_null("身份证")
    is_card = id_type.is_in(list(prepare.ID_CARD_TYPES))
    org_ids = {
        scheme: pl.when(~role(scheme).is_in(placeholders)).then(role(scheme))
        for scheme in ("uscc", "regno", "orgcode", "taxno", "inst_cert", "social_org_cert")
    }
    return good.select(
        *[expr.alias(scheme) for scheme, expr in org_ids.items()],
        pl.when(is_card).then(number).alias("idcard"),
        # Other documents (passports...) are only unique with their type: "护照:E12345678".
        pl.when(~is_card & number.is_not_null()).then(id_type + ":" + number).alias("iddoc"),
        role("name").alias("name"),
        role("kind").replace_strict(kinds, default=None, return_dtype=pl.String).alias("kind"),
    )


def _resolve_subjects(
    conn: sa.Connection,
    candidates: pl.DataFrame,
    keep: pl.Series,
    runtime: Runtime,
    batch_id: int,
    memo: ResolutionMemo,
) -> pl.Series:
    """Each good row's subject, through the registry's one (vectorised) resolution; rows that keep their
    record's subject (`keep`, see ownership.subject_changes) are not resolved."""
    todo = keep.is_null()
    frame = candidates.filter(todo)
    unique = frame.unique(maintain_order=True)
    resolved = resolve_frame(
        conn,
        unique,
        now=runtime.clock.now(),
        protector=runtime.protector,
        source=f"batch:{batch_id}",
        memo=memo,
    )
    ids = unique.with_columns(resolved["subject_id"].alias("__subject"))
    joined = frame.join(ids, on=frame.columns, how="left", nulls_equal=True, maintain_order="left")
    if todo.all():
        return joined["__subject"]
    return keep.scatter(todo.arg_true(), joined["__subject"])


def _open_rejections(conn: sa.Connection, item_code: str, batch_id: int) -> bool:
    """Whether other batches left rows of this item rejected and not yet corrected."""
    t = rejected_rows
    still_open = sa.select(t.c.id).where(
        t.c.item_code == item_code, t.c.status == "open", t.c.batch_id != batch_id
    )
    return conn.execute(still_open.limit(1)).first() is not None


def _close_corrected(conn: sa.Connection, item_code: str, batch_id: int, loaded: pl.DataFrame) -> None:
    """A rejected row is corrected once a later batch loads a row with the same source and key."""
    t = rejected_rows
    pairs = loaded.select("source_uscc", "source_key")
    for start in range(0, pairs.height, load.CHUNK):
        chunk = pairs.slice(start, load.CHUNK)
        candidates = conn.execute(
            sa.select(t.c.id, t.c.source_uscc, t.c.source_key).where(
                t.c.item_code == item_code,
                t.c.status == "open",
                t.c.batch_id != batch_id,
                t.c.source_key.in_(chunk["source_key"].to_list()),
            )
        ).all()
        if not candidates:
            continue
        # Typed: rows rejected without a source have NULL there, and an all-NULL column would not join.
        found = pl.DataFrame(
            candidates,
            schema={"id": pl.Int64, "source_uscc": pl.String, "source_key": pl.String},
            orient="row",
        )
        ids = found.join(chunk, on=["source_uscc", "source_key"], how="semi")["id"].to_list()
        if ids:
            conn.execute(
                t.update().where(t.c.id.in_(ids)).values(status="corrected", corrected_by_batch_id=batch_id)
            )
