"""Bulk writes from polars frames: executemany on SQLite, COPY on PostgreSQL.

The ORM and even Core's per-row type processing cost microseconds a value; a million-row batch cannot
afford that. Here a frame is converted column-wise to what the driver stores natively (the same
representation SQLAlchemy's types use, so Core reads the rows back unchanged) and handed over in bulk.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.store.engine import SQLITE_CACHE_KIB

log = logging.getLogger(__name__)

UNINDEXED_LOAD_CACHE_KIB = 64 * 1024

# SQLAlchemy's SQLite DateTime storage format; UTCDateTime stores naive UTC in it.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"


Constant = str | int | dt.datetime | None


def insert_frame(
    conn: sa.Connection, table: str, frame: pl.DataFrame, *, constants: Mapping[str, Constant] | None = None
) -> int:
    """Insert the frame's rows; `constants` are columns with one value for every row (a batch id, a
    timestamp). On SQLite they are written into the statement once instead of converted for each row, which
    is most of what a wide insert costs above SQLite itself."""
    if frame.height == 0:
        return 0
    if conn.dialect.name == "sqlite":
        written = _sqlite_insert(conn, table, frame, constants or {})
    else:
        filled = [_constant_column(name, value) for name, value in (constants or {}).items()]
        written = _postgres_copy(conn, table, frame.with_columns(filled))
    if conn.info.get(_PROBES_OFF):
        check_references(conn, table, frame, constants or {})
    return written


# Set on a connection while bulk_transaction has the database's per-row foreign-key checks switched off.
_PROBES_OFF = "xinyong.foreign_key_probes_off"
_REFERENCES = "xinyong.references"


class DanglingReference(RuntimeError):
    """A bulk write referred to a row that does not exist: a bug, never a data problem (the batch rolls
    back). Names the table and column, never a value."""


@contextmanager
def bulk_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction for a bulk load, in which the database does not check foreign keys row by row;
    `insert_frame` checks each frame's references instead, once per distinct value (`check_references`),
    and refuses a dangling one. The few single-row writes a batch makes (its batch row, rejected rows,
    evidence) refer to what the same transaction just wrote or read.

    Why: per-row checks were a quarter of a 1M-row batch on PostgreSQL (79.8 s with them, 59.6 s without,
    bench/ingest.py) and 7 % on SQLite, where each row costs a B-tree probe per key (records have three,
    their provenance two).

    - SQLite: `PRAGMA foreign_keys` takes effect only outside a transaction, so it is switched off before
      this one begins and on again after it ends, committed or not; a connection that cannot be switched
      back is discarded, never returned to the pool without its checks.
    - PostgreSQL: `SET LOCAL session_replication_role = replica`, which stops the foreign-key triggers for
      this transaction only, takes no lock, and ends with it. It needs the role's right to set it
      (`GRANT SET ON PARAMETER session_replication_role`, PostgreSQL 15; docs/scaling.md); without it the
      database goes on checking every row. The audit trail's guards are ALWAYS triggers (migration
      0017_alwaystriggers): they hold in this mode too.
    """
    if engine.dialect.name == "sqlite":
        with _sqlite_unprobed(engine) as conn:
            yield conn
        return
    with engine.begin() as conn:
        if _may_replicate(conn):
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.info[_PROBES_OFF] = True
        try:
            yield conn
        finally:
            conn.info.pop(_PROBES_OFF, None)


@contextmanager
def _sqlite_unprobed(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        conn.info[_PROBES_OFF] = True
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info.pop(_PROBES_OFF, None)
            try:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
            except Exception:
                conn.invalidate()
                raise


def _may_replicate(conn: sa.Connection) -> bool:
    """Whether this PostgreSQL role may set session_replication_role (asked once per connection)."""
    key = "xinyong.may_replicate"
    if key not in conn.info:
        version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
        conn.info[key] = version >= 150000 and bool(
            conn.exec_driver_sql("SELECT has_parameter_privilege('session_replication_role', 'SET')").scalar()
        )
        if not conn.info[key]:
            log.warning(
                "bulk loads check foreign keys row by row (slower): the database role may not set "
                "session_replication_role; GRANT SET ON PARAMETER session_replication_role (docs/scaling.md)"
            )
    return bool(conn.info[key])


def check_references(
    conn: sa.Connection, table: str, frame: pl.DataFrame, constants: Mapping[str, Constant]
) -> None:
    """Every foreign key of `table` (as the database itself declares them) that the frame or its constants
    fill must name an existing row: one statement per key over the distinct values. Raises
    DanglingReference."""
    sqlite = conn.dialect.name == "sqlite"
    for column, parent, key in _references(conn, table):
        if column in constants:
            values = [] if constants[column] is None else [constants[column]]
        elif column in frame.columns:
            values = frame[column].drop_nulls().unique().to_list()
        else:
            continue
        if not values:
            continue
        if sqlite:
            found = conn.exec_driver_sql(
                f'SELECT count(*) FROM "{parent}" WHERE "{key}" IN (SELECT value FROM json_each(?))',
                (json.dumps(values),),
            ).scalar_one()
        else:
            found = conn.exec_driver_sql(
                f'SELECT count(*) FROM "{parent}" WHERE "{key}" = ANY(%(values)s)', {"values": values}
            ).scalar_one()
        if found != len(values):
            missing = len(values) - found
            raise DanglingReference(f"{table}.{column}: {missing} value(s) with no row in {parent}")


def _references(conn: sa.Connection, table: str) -> list[tuple[str, str, str]]:
    """(column, parent table, parent column) of each foreign key of `table`, read once per connection."""
    known = conn.info.setdefault(_REFERENCES, {})
    if table not in known:
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")').all()
            composite = any(r[1] > 0 for r in rows)  # seq > 0: the second column of a key
            found = [(r[3], r[2], r[4]) for r in rows]
        else:
            rows = conn.exec_driver_sql(
                "SELECT a.attname, p.relname, pa.attname, cardinality(c.conkey) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
                "WHERE c.contype = 'f' AND t.relname = %(table)s "
                "AND t.relnamespace = to_regnamespace(current_schema())",
                {"table": table},
            ).all()
            composite = any(r[3] > 1 for r in rows)
            found = [(r[0], r[1], r[2]) for r in rows]
        if composite:
            raise NotImplementedError(f"{table} has a composite foreign key: check_references cannot say")
        known[table] = found
    return known[table]


def _sqlite_insert(
    conn: sa.Connection, table: str, frame: pl.DataFrame, constants: Mapping[str, Constant]
) -> int:
    converted = frame.with_columns(
        [
            _sqlite_column(name, dtype)
            for name, dtype in frame.schema.items()
            if dtype in (pl.Date, pl.Boolean) or isinstance(dtype, pl.Datetime)
        ]
    )
    columns = ", ".join(f'"{c}"' for c in [*converted.columns, *constants])
    marks = ", ".join(["?"] * converted.width + [_sqlite_literal(v) for v in constants.values()])
    raw = conn.connection.driver_connection
    raw.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', converted.iter_rows())  # type: ignore[union-attr]
    return frame.height


def _sqlite_literal(value: Constant) -> str:
    """A constant as SQLite stores it (datetimes as UTCDateTime does: naive UTC text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        value = value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return "'" + value.replace("'", "''") + "'"


def _constant_column(name: str, value: Constant) -> pl.Expr:
    if isinstance(value, dt.datetime):
        return pl.lit(value.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC")).alias(name)
    return pl.lit(value).alias(name)


def _sqlite_column(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if dtype == pl.Boolean:
        return col.cast(pl.Int8)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        col = col.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return col.dt.strftime(_SQLITE_DATETIME)


def allocate_ids(conn: sa.Connection, table: str, count: int) -> list[int]:
    """Primary keys for `count` new rows, so that bulk inserts need no RETURNING round trip.

    On SQLite the caller's transaction must already hold the write lock (it has written something):
    then no other writer can take the same ids. On PostgreSQL the table's sequence hands them out.
    """
    if count == 0:
        return []
    if conn.dialect.name == "sqlite":
        start = conn.exec_driver_sql(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"').scalar_one()
        return list(range(start, start + count))
    # The sequence is looked up once: as an argument of nextval, pg_get_serial_sequence would run again for
    # every row (2.4 s instead of 0.3 for a million ids, measured).
    sequence = conn.exec_driver_sql(
        f"SELECT pg_get_serial_sequence('{table}', 'id')::regclass::oid"
    ).scalar_one()
    values = f"SELECT nextval({int(sequence)}::oid) AS v FROM generate_series(1, {int(count)})"
    # Almost always the values are one run (no other writer took any meanwhile): then two numbers say them
    # all, instead of a row per id. When another writer interleaved, those are left as a gap (ids have gaps
    # anyway) and the values are fetched one by one.
    low, high = conn.exec_driver_sql(f"SELECT min(v), max(v) FROM ({values}) AS taken").one()
    if high - low + 1 == count:
        return list(range(low, high + 1))
    return [r[0] for r in conn.exec_driver_sql(values)]


def _postgres_copy(conn: sa.Connection, table: str, frame: pl.DataFrame) -> int:
    binary = [name for name, dtype in frame.schema.items() if dtype == pl.Binary]
    if binary:  # bytea in COPY's CSV form is \x followed by hex
        frame = frame.with_columns([(pl.lit("\\x") + pl.col(c).bin.encode("hex")).alias(c) for c in binary])
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="\\N", datetime_format="%Y-%m-%dT%H:%M:%S%.6f%z")
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(  # type: ignore[union-attr]
            f"COPY \"{table}\" ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy,
    ):
        view = buffer.getbuffer()
        for start in range(0, len(view), 1 << 20):
            copy.write(view[start : start + (1 << 20)])
    return frame.height


def drop_secondary_indexes(conn: sa.Connection, table: str) -> list[str]:
    """Drop the table's non-unique indexes and return their definitions, for `build_indexes` after a first
    large load into an empty table: one sorted build costs far less than a million scattered inserts.

    Unique indexes and constraints stay: they are integrity, not speed. The definitions are read from the
    database itself (whatever chapter or migration made them) and run again as they were. Both SQLite and
    PostgreSQL make DDL part of the transaction: a failed or killed load rolls back with its indexes in
    place. On PostgreSQL the drop locks the table until commit, so a reader waits for the load instead of
    seeing a table without indexes; on SQLite, readers see the last committed state as always.
    """
    if conn.dialect.name == "sqlite":
        # pysqlite opens its transaction at the first write only: DDL before that would commit at once.
        if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            raise RuntimeError("drop_secondary_indexes needs a transaction that has already written")
        found = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
            "AND sql NOT LIKE 'CREATE UNIQUE%'",
            (table,),
        ).all()
        if found:
            # The page cache is there for inserts into indexes keyed by random codes. With none to keep in
            # order, the load appends rows and never reads a page back: a large cache only holds memory (a
            # 1M-row first load peaked at 0.93 GB instead of 1.13, about 4 % slower). build_indexes
            # restores it.
            conn.exec_driver_sql(f"PRAGMA cache_size=-{UNINDEXED_LOAD_CACHE_KIB}")
    else:
        found = conn.exec_driver_sql(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = %(table)s AND t.relnamespace = to_regnamespace(current_schema()) "
            "AND NOT x.indisunique",
            {"table": table},
        ).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def build_indexes(conn: sa.Connection, definitions: list[str]) -> None:
    """The indexes `drop_secondary_indexes` dropped, built again, and SQLite's page cache back to its size
    (the sort of each build uses it). A load that fails before this leaves the smaller cache on its
    connection, which costs that connection's later reads some speed, nothing else."""
    if definitions and conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    for definition in definitions:
        conn.exec_driver_sql(definition)


def rows_after(
    conn: sa.Connection, query: sa.Select[Any], key: sa.ColumnElement[int], *, after: int, limit: int
) -> list[sa.Row[Any]]:
    """The next `limit` rows of `query` whose `key` is above `after`, in key order: one page of a walk over
    a large table that never re-reads a row (keyset paging, not OFFSET)."""
    return list(conn.execute(query.where(key > after).order_by(key).limit(limit)).all())
