"""Load one chunk of a batch's good rows into records, inside the batch's one transaction.

Each record's JSON is written once: only the identity keys go through a temporary table, to be matched
against existing records in one join; new records are then inserted in bulk with pre-allocated ids,
changed ones keep their previous version in record_versions before being updated, and provenance rows
are written straight from the frame. Rows of one batch never share an identity (in-file duplicates are
rejected before this point), so chunks are independent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.store.bulk import Constant, allocate_ids, insert_frame
from xinyong.store.meta import Json, UTCDateTime
from xinyong.store.tables import record_versions, records

KEYS = "collect_keys"
CHUNK = 5000

# What the service hands over for each good row.
ROW_SCHEMA = {
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
_COPIED = ("subject_id", "decision_date", "valid_until", "act_end_date", "data", "original", "content_hash")


def content_hash(data: pl.Expr) -> pl.Expr:
    """A fingerprint of a record's data, to tell "unchanged" from "updated" without reading the data back.

    polars' hash is fast and stable within one polars version; a hash that differs is confirmed by
    comparing the data itself (`load_chunk`), so an upgrade can cost time but never invent a version.
    """
    return data.hash(seed=20170701).cast(pl.String)


def load_chunk(
    conn: sa.Connection,
    rows: pl.DataFrame,
    *,
    item_code: str,
    batch_id: int,
    now: dt.datetime,
    existing: pl.DataFrame | None = None,
) -> dict[str, int]:
    """`existing`: what existing_records() said about these rows' keys, when the caller already asked."""
    rows = rows.select([pl.col(c).cast(t) for c, t in ROW_SCHEMA.items()])
    if existing is None:
        existing = existing_records(conn, rows, item_code)
    classified = rows.join(
        existing.select("source_uscc", "source_key", "record_id", "old_hash"),
        on=["source_uscc", "source_key"],
        how="left",
        maintain_order="left",
    )
    changed_ids = classified.filter(
        pl.col("record_id").is_not_null() & (pl.col("old_hash") != pl.col("content_hash"))
    )["record_id"].to_list()
    really_changed = _data_differs(conn, classified, changed_ids)
    classified = classified.with_columns(
        pl.when(pl.col("record_id").is_null())
        .then(pl.lit("inserted"))
        .when(pl.col("record_id").is_in(list(really_changed)))
        .then(pl.lit("updated"))
        .otherwise(pl.lit("unchanged"))
        .alias("action")
    )
    inserted = _insert(conn, classified.filter(pl.col("action") == "inserted"), item_code, batch_id, now)
    updated = classified.filter(pl.col("action") == "updated")
    _update(conn, updated, batch_id, now)
    unchanged = classified.filter(pl.col("action") == "unchanged")
    _touch(conn, unchanged["record_id"].to_list(), batch_id, now)
    provenance = pl.concat(
        [
            inserted.select("record_id", "row_number", "action"),
            updated.select("record_id", "row_number", "action"),
            unchanged.select("record_id", "row_number", "action"),
        ]
    )
    insert_frame(conn, "record_provenance", provenance, constants={"batch_id": batch_id})
    return {"inserted": inserted.height, "updated": updated.height, "unchanged": unchanged.height}


# What existing_records() answers when nothing matches.
NO_RECORDS = pl.DataFrame(
    schema={
        "source_uscc": pl.String,
        "source_key": pl.String,
        "record_id": pl.Int64,
        "old_hash": pl.String,
        "old_subject": pl.Int64,
    }
)


def existing_records(conn: sa.Connection, rows: pl.DataFrame, item_code: str) -> pl.DataFrame:
    """The records these rows' identities (source_uscc, source_key) already have: id, hash and subject.
    The identities must be distinct (one answer row per record)."""
    empty = NO_RECORDS
    big = "INTEGER" if conn.dialect.name == "sqlite" else "BIGINT"
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {KEYS}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {KEYS} (source_uscc VARCHAR(18) NOT NULL, source_key VARCHAR(256) NOT NULL, "
        f"row_number {big} NOT NULL)"
    )
    insert_frame(conn, KEYS, rows.select("source_uscc", "source_key", "row_number"))
    found = conn.execute(
        sa.text(
            f"""SELECT k.source_uscc, k.source_key, r.id, r.content_hash, r.subject_id FROM {KEYS} k
                JOIN records r ON r.item_code = :item AND r.source_uscc = k.source_uscc
                              AND r.source_key = k.source_key"""
        ),
        {"item": item_code},
    ).all()
    conn.exec_driver_sql(f"DROP TABLE {KEYS}")
    if not found:
        return empty
    return pl.DataFrame(found, schema=empty.schema, orient="row")


def _data_differs(conn: sa.Connection, classified: pl.DataFrame, ids: list[int]) -> set[int]:
    """Of the records whose hash changed, those whose data really changed (not just the hash function)."""
    if not ids:
        return set()
    new_data = dict(classified.filter(pl.col("record_id").is_in(ids)).select("record_id", "data").iter_rows())
    differs = set()
    # Compared as stored: the new data's person names are sealed, and sealing is deterministic.
    stored = sa.type_coerce(records.c.data, Json)
    for chunk in _chunks(ids):
        for record_id, old in conn.execute(sa.select(records.c.id, stored).where(records.c.id.in_(chunk))):
            if old != json.loads(new_data[record_id]):
                differs.add(record_id)
    return differs


def _insert(
    conn: sa.Connection, rows: pl.DataFrame, item_code: str, batch_id: int, now: dt.datetime
) -> pl.DataFrame:
    if rows.height == 0:
        return rows.with_columns(pl.col("record_id"))
    ids = allocate_ids(conn, "records", rows.height)
    rows = rows.with_columns(pl.Series("record_id", ids, dtype=pl.Int64))
    frame = rows.select(
        pl.col("record_id").alias("id"),
        "source_uscc",
        "source_key",
        "subject_id",
        "decision_date",
        "valid_until",
        "act_end_date",
        "receipt_working_days",
        "late",
        "data",
        "original",
        "content_hash",
    )
    same_for_all: dict[str, Constant] = {
        "item_code": item_code,
        "state": "active",
        "version": 1,
        "first_batch_id": batch_id,
        "last_batch_id": batch_id,
        "first_seen": now,
        "last_seen": now,
        "updated_at": now,
    }
    insert_frame(conn, "records", frame, constants=same_for_all)
    return rows


def _update(conn: sa.Connection, rows: pl.DataFrame, batch_id: int, now: dt.datetime) -> None:
    """Keep the superseded version, then write the new one; the record keeps its identity and first_seen."""
    if rows.height == 0:
        return
    ids = rows["record_id"].to_list()
    r = records
    for chunk in _chunks(ids):
        conn.execute(
            record_versions.insert().from_select(
                [
                    "record_id",
                    "version",
                    "state",
                    "data",
                    "original",
                    "content_hash",
                    "batch_id",
                    "reason",
                    "superseded_at",
                ],
                sa.select(
                    r.c.id,
                    r.c.version,
                    r.c.state,
                    r.c.data,
                    r.c.original,
                    r.c.content_hash,
                    r.c.last_batch_id,
                    sa.literal("resubmitted"),
                    sa.literal(now, UTCDateTime()),
                ).where(r.c.id.in_(chunk)),
            )
        )
    conn.execute(
        r.update()
        .where(r.c.id == sa.bindparam("rid"))
        .values(
            {c: sa.bindparam(f"new_{c}") for c in _COPIED}
            | {"version": r.c.version + 1, "last_batch_id": batch_id, "last_seen": now, "updated_at": now}
        ),
        _update_payload(rows),
    )


def _update_payload(rows: pl.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in rows.iter_rows(named=True):
        item = {"rid": row["record_id"]}
        for c in _COPIED:
            value = row[c]
            if c in ("data", "original") and value is not None:
                value = json.loads(value)  # the column is JSON: Core serialises it per backend
            item[f"new_{c}"] = value
        out.append(item)
    return out


def _touch(conn: sa.Connection, ids: Sequence[int], batch_id: int, now: dt.datetime) -> None:
    for chunk in _chunks(ids):
        conn.execute(
            records.update().where(records.c.id.in_(chunk)).values(last_batch_id=batch_id, last_seen=now)
        )


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]
