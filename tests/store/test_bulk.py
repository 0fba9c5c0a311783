import datetime as dt
import itertools
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from dbtools import truncate_tables
from xinyong.store.bulk import (
    UNINDEXED_LOAD_CACHE_KIB,
    allocate_ids,
    build_indexes,
    drop_secondary_indexes,
    insert_frame,
)
from xinyong.store.engine import SQLITE_CACHE_KIB, make_engine
from xinyong.store.schema import metadata
from xinyong.store.tables import catalog_versions, organisations

NOW = dt.datetime(2026, 6, 15, 2, 0, tzinfo=dt.UTC)


def test_frames_written_in_bulk_read_back_through_core_unchanged(engine: sa.Engine) -> None:
    at = dt.datetime(2026, 6, 15, 2, 0, 0, 123456, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "uscc": ["91350100M000100Y43", "91420100MA4K0000XX"],
            "name": ["省市场监管局", 'with "quotes", commas\nand a newline'],
            "kind": ["provider", "provider"],
            "division_code": [None, "420100"],
            "created_at": [at, at],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    )
    with engine.begin() as conn:
        assert insert_frame(conn, "organisations", frame) == 2
        conn.execute(
            catalog_versions.insert().values(sha256="0" * 64, edition="e", content="", created_at=at)
        )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(organisations).order_by(organisations.c.id)).mappings().all()
    assert [r["name"] for r in rows] == frame["name"].to_list()
    assert rows[0]["division_code"] is None and rows[1]["division_code"] == "420100"
    assert rows[0]["created_at"] == at
    assert rows[0]["status"] == "active"  # server defaults still apply


def test_empty_frame_writes_nothing(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert insert_frame(conn, "organisations", pl.DataFrame()) == 0


def test_allocated_ids_are_new_and_take_the_rows_written_with_them(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(organisations.insert().values(uscc="X" * 18, name="n", kind="provider", created_at=NOW))
        ids = allocate_ids(conn, "organisations", 500)
        frame = pl.DataFrame(
            {
                "id": ids,
                "uscc": [f"{i:018d}" for i in ids],
                "name": ["n"] * 500,
                "kind": ["provider"] * 500,
                "created_at": [NOW] * 500,
            }
        )
        insert_frame(conn, "organisations", frame)
        after = conn.execute(
            organisations.insert()
            .values(uscc="Y" * 18, name="m", kind="provider", created_at=NOW)
            .returning(organisations.c.id)
        ).scalar_one()
    assert len(set(ids)) == 500
    with engine.connect() as conn:
        stored = conn.execute(sa.select(organisations.c.id).order_by(organisations.c.id)).scalars().all()
    assert len(stored) == 502 and set(ids) <= set(stored)
    assert after > max(ids)  # the table's own next id comes after them


def test_allocated_ids_are_the_sequence_own_values_when_they_are_not_one_run(pg_database: str) -> None:
    """Another writer taking values meanwhile leaves gaps; a sequence stepping by 3 makes them every time.
    PostgreSQL only: SQLite has no sequences, its ids follow the table's largest (the test above)."""
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        truncate_tables(conn, [t.name for t in metadata.sorted_tables])
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER SEQUENCE organisations_id_seq INCREMENT BY 3")
        try:
            ids = allocate_ids(conn, "organisations", 50)
            following = conn.exec_driver_sql("SELECT nextval('organisations_id_seq')").scalar_one()
        finally:
            conn.exec_driver_sql("ALTER SEQUENCE organisations_id_seq INCREMENT BY 1")
    engine.dispose()
    assert len(ids) == 50 and len(set(ids)) == 50
    assert all(b - a == 3 for a, b in itertools.pairwise(ids))
    assert following > max(ids)


def test_constants_are_written_to_every_row_as_core_reads_them(engine: sa.Engine) -> None:
    at = dt.datetime(2026, 6, 15, 10, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    frame = pl.DataFrame({"uscc": ["91350100M000100Y43", "91420100MA4K0000XX"], "name": ["甲", "乙"]})
    with engine.begin() as conn:
        same = {"kind": "provider", "division_code": "42'010", "created_at": at}
        insert_frame(conn, "organisations", frame, constants=same)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(organisations).order_by(organisations.c.id)).mappings().all()
    assert [(r["name"], r["division_code"], r["created_at"]) for r in rows] == [
        ("甲", "42'010", at.astimezone(dt.UTC)),
        ("乙", "42'010", at.astimezone(dt.UTC)),
    ]


def _index_definitions(conn: sa.Connection) -> dict[str, tuple[tuple[str, ...], bool]]:
    return {
        ix["name"]: (tuple(ix["column_names"]), bool(ix["unique"]))
        for ix in sa.inspect(conn).get_indexes("records")
    }


def test_secondary_indexes_dropped_for_a_load_come_back_as_they_were(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        before = _index_definitions(conn)
        _write_something(conn)
        dropped = drop_secondary_indexes(conn, "records")
        during = _index_definitions(conn)
        build_indexes(conn, dropped)
        after = _index_definitions(conn)
    assert len(dropped) >= 4 and after == before
    assert set(during) == {name for name, (_, unique) in before.items() if unique}
    with engine.connect() as conn:
        unique = [c["name"] for c in sa.inspect(conn).get_unique_constraints("records")]
    assert "uq_records_identity" in unique  # the identity stays enforced throughout


def test_sqlite_loads_without_indexes_on_a_smaller_page_cache_then_gets_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)

    def cache_kib(conn: sa.Connection) -> int:
        return -int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

    with engine.begin() as conn:
        _write_something(conn)
        assert cache_kib(conn) == SQLITE_CACHE_KIB
        dropped = drop_secondary_indexes(conn, "records")
        assert cache_kib(conn) == UNINDEXED_LOAD_CACHE_KIB < SQLITE_CACHE_KIB
        build_indexes(conn, dropped)
        assert cache_kib(conn) == SQLITE_CACHE_KIB


def test_a_load_that_fails_after_the_drop_leaves_the_indexes_in_place(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        before = _index_definitions(conn)
    try:
        with engine.begin() as conn:
            _write_something(conn)
            drop_secondary_indexes(conn, "records")
            raise RuntimeError("killed mid-load")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert _index_definitions(conn) == before


def _write_something(conn: sa.Connection) -> None:
    conn.execute(catalog_versions.insert().values(sha256="1" * 64, edition="e", content="", created_at=NOW))


def test_dropping_indexes_outside_a_written_transaction_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)
    with engine.connect() as conn:
        before = _index_definitions(conn)
    with engine.begin() as conn, pytest.raises(RuntimeError):
        drop_secondary_indexes(conn, "records")  # pysqlite would commit the drop at once
    with engine.connect() as conn:
        assert _index_definitions(conn) == before and len(before) >= 4
