"""Load a batch's good rows into records, set-based, inside the batch's one transaction.

Rows are staged in a temporary table (COPY / executemany), then a handful of SQL statements classify each
row against the existing record of the same identity (item, source, source key), keep the superseded
version, update or insert, and write provenance. The database does the per-row work in C.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa

from xinyong.store.bulk import insert_frame
from xinyong.store.meta import UTCDateTime

STAGE = "collect_stage"

STAGE_SCHEMA = {
    "row_number": pl.Int64,
    "source_uscc": pl.String,
    "source_key": pl.String,
    "subject_id": pl.Int64,
    "decision_date": pl.Date,
    "valid_until": pl.Date,
    "act_end_date": pl.Date,
    "receipt_working_days": pl.Int32,
    "late": pl.Boolean,
    "data": pl.String,
    "original": pl.String,
    "content_hash": pl.String,
}


def create_stage(conn: sa.Connection) -> None:
    big = "INTEGER" if conn.dialect.name == "sqlite" else "BIGINT"
    suffix = " ON COMMIT DROP" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}") if conn.dialect.name == "sqlite" else None
    conn.exec_driver_sql(
        f"""CREATE TEMPORARY TABLE {STAGE} (
            row_number {big} NOT NULL, source_uscc VARCHAR(18) NOT NULL, source_key VARCHAR(256) NOT NULL,
            subject_id {big} NOT NULL, decision_date DATE, valid_until DATE, act_end_date DATE,
            receipt_working_days INTEGER, late BOOLEAN, data TEXT NOT NULL, original TEXT,
            content_hash VARCHAR(32) NOT NULL, record_id {big}, action VARCHAR(16) NOT NULL DEFAULT 'inserted'
        ){suffix}"""
    )


def stage_rows(conn: sa.Connection, frame: pl.DataFrame) -> int:
    return insert_frame(conn, STAGE, frame.select([pl.col(c).cast(t) for c, t in STAGE_SCHEMA.items()]))


def merge(conn: sa.Connection, *, item_code: str, batch_id: int, now: dt.datetime) -> dict[str, int]:
    """Fold the staged rows into records; returns how many were inserted, updated and unchanged."""
    pg = conn.dialect.name == "postgresql"
    as_json = "CAST({} AS JSONB)" if pg else "{}"
    conn.exec_driver_sql(f"CREATE INDEX ix_{STAGE}_identity ON {STAGE} (source_uscc, source_key)")
    params = {"item": item_code, "batch": batch_id}
    run = _runner(conn, now)
    run(
        f"""UPDATE {STAGE} SET record_id = r.id,
               action = CASE WHEN r.content_hash = {STAGE}.content_hash THEN 'unchanged' ELSE 'updated' END
            FROM records r
            WHERE r.item_code = :item AND r.source_uscc = {STAGE}.source_uscc
              AND r.source_key = {STAGE}.source_key""",
        params,
    )
    run(
        f"""INSERT INTO record_versions
              (record_id, version, state, data, original, content_hash, batch_id, reason, superseded_at)
            SELECT r.id, r.version, r.state, r.data, r.original, r.content_hash, r.last_batch_id,
                   'resubmitted', :now
            FROM records r JOIN {STAGE} s ON s.record_id = r.id WHERE s.action = 'updated'""",
        params,
    )
    run(
        f"""UPDATE records SET data = {as_json.format("s.data")}, original = {as_json.format("s.original")},
               content_hash = s.content_hash, version = records.version + 1, subject_id = s.subject_id,
               decision_date = s.decision_date, valid_until = s.valid_until, act_end_date = s.act_end_date,
               last_batch_id = :batch, last_seen = :now, updated_at = :now
            FROM {STAGE} s WHERE records.id = s.record_id AND s.action = 'updated'""",
        params,
    )
    run(
        f"""UPDATE records SET last_batch_id = :batch, last_seen = :now
            FROM {STAGE} s WHERE records.id = s.record_id AND s.action = 'unchanged'""",
        params,
    )
    run(
        f"""INSERT INTO records (item_code, source_uscc, source_key, subject_id, state, version,
               decision_date, valid_until, act_end_date, receipt_working_days, late, data, original,
               content_hash, first_batch_id, last_batch_id, first_seen, last_seen, updated_at)
            SELECT :item, s.source_uscc, s.source_key, s.subject_id, 'active', 1, s.decision_date,
               s.valid_until, s.act_end_date, s.receipt_working_days, s.late, {as_json.format("s.data")},
               {as_json.format("s.original")}, s.content_hash, :batch, :batch, :now, :now, :now
            FROM {STAGE} s WHERE s.action = 'inserted'""",
        params,
    )
    run(
        f"""INSERT INTO record_provenance (record_id, batch_id, row_number, action)
            SELECT r.id, :batch, s.row_number, s.action
            FROM {STAGE} s JOIN records r
              ON r.item_code = :item AND r.source_uscc = s.source_uscc AND r.source_key = s.source_key""",
        params,
    )
    counts = dict(conn.exec_driver_sql(f"SELECT action, COUNT(*) FROM {STAGE} GROUP BY action").all())
    return {k: int(counts.get(k, 0)) for k in ("inserted", "updated", "unchanged")}


def staged_keys(conn: sa.Connection) -> sa.TextClause:
    return sa.text(f"SELECT source_key FROM {STAGE}")


def drop_stage(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")


def _runner(conn: sa.Connection, now: dt.datetime):  # type: ignore[no-untyped-def]
    def run(sql: str, params: dict[str, object]) -> None:
        statement = sa.text(sql)
        if ":now" in sql:
            statement = statement.bindparams(sa.bindparam("now", type_=UTCDateTime()))
        conn.execute(statement, {**params, "now": now} if ":now" in sql else params)

    return run
