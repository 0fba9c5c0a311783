import contextlib
import datetime as dt
import itertools
import logging
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from dbtools import truncate_tables
from xinyong.store.bulk import (
    UNINDEXED_LOAD_CACHE_KIB,
    DanglingReference,
    allocate_ids,
    build_indexes,
    bulk_transaction,
    drop_secondary_indexes,
    insert_frame,
)
from xinyong.store.concurrency import in_transaction
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


def _subjects(conn: sa.Connection, count: int) -> list[int]:
    ids = allocate_ids(conn, "subjects", count)
    frame = pl.DataFrame({"id": ids, "kind": ["legal_person"] * count, "name": [f"公司{i}" for i in ids]})
    insert_frame(conn, "subjects", frame, constants={"created_at": NOW, "updated_at": NOW})
    return ids


def _identifiers(subject_ids: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"subject_id": subject_ids, "value": [f"REG{i:012d}" for i in range(len(subject_ids))]}
    ).with_columns(scheme=pl.lit("regno"), origin=pl.lit("declared"))


def _stored_identifiers(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM subject_identifiers").scalar_one()


def test_a_bulk_load_writes_rows_whose_references_exist(engine: sa.Engine) -> None:
    def load(conn: sa.Connection) -> None:
        ids = _subjects(conn, 3)
        insert_frame(
            conn, "subject_identifiers", _identifiers([ids[0], ids[2], ids[2]]), constants={"created_at": NOW}
        )

    in_transaction(engine, load, bulk=True)
    assert _stored_identifiers(engine) == 3


def test_a_bulk_load_refuses_a_row_that_refers_to_nothing_and_keeps_none_of_the_batch(
    engine: sa.Engine,
) -> None:
    def load(conn: sa.Connection) -> None:
        ids = _subjects(conn, 2)
        frame = _identifiers([ids[0], ids[1] + 1000, ids[1]])
        insert_frame(conn, "subject_identifiers", frame, constants={"created_at": NOW})

    # The load's own check, once per distinct value, where the database does not check each row (SQLite
    # always, PostgreSQL when the role may set session_replication_role: scripts/test-postgres.sh grants it).
    with pytest.raises(DanglingReference) as caught:
        in_transaction(engine, load, bulk=True)
    assert str(caught.value) == "subject_identifiers.subject_id: 1 value(s) with no row in subjects"
    assert _stored_identifiers(engine) == 0
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM subjects").scalar_one() == 0


def test_a_constant_reference_is_checked_too(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)
    frame = pl.DataFrame({"record_id": [1], "row_number": [1], "action": ["inserted"]})
    with (
        pytest.raises(DanglingReference, match=r"record_provenance\.batch_id: 1 value"),
        bulk_transaction(engine) as conn,
    ):
        insert_frame(conn, "record_provenance", frame, constants={"batch_id": 7})


@pytest.mark.parametrize("outcome", ["committed", "failed"])
def test_sqlite_checks_every_row_again_once_a_bulk_load_is_over(tmp_path: Path, outcome: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata.create_all(engine)
    dangling = _identifiers([4242]).with_columns(id=pl.lit(1), created_at=pl.lit(NOW))
    with contextlib.suppress(RuntimeError), bulk_transaction(engine) as conn:
        loader = conn.connection.driver_connection
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 0  # no per-row probes
        if outcome == "failed":
            raise RuntimeError("killed mid-load")
    with engine.connect() as conn:
        assert conn.connection.driver_connection is loader  # the pool hands back the load's connection
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"), engine.begin() as conn:
        conn.execute(
            sa.table("subject_identifiers", *map(sa.column, dangling.columns)).insert(), dangling.to_dicts()
        )


def test_postgresql_checks_every_row_again_once_a_bulk_load_is_over(pg_database: str) -> None:
    engine = make_engine(pg_database)
    with engine.begin() as conn:
        truncate_tables(conn, [t.name for t in metadata.sorted_tables])
    with bulk_transaction(engine) as conn:
        loader = conn.connection.driver_connection
        assert conn.exec_driver_sql("SHOW session_replication_role").scalar_one() == "replica"
    with engine.connect() as conn:
        assert conn.connection.driver_connection is loader
        assert conn.exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
    with pytest.raises(sa.exc.IntegrityError, match="foreign key"), engine.begin() as conn:
        conn.execute(
            sa.table(
                "subject_identifiers",
                *map(sa.column, ("subject_id", "scheme", "value", "origin", "created_at")),
            ).insert(),
            [{"subject_id": 4242, "scheme": "regno", "value": "R1", "origin": "declared", "created_at": NOW}],
        )
    engine.dispose()


def test_the_audit_trail_stays_append_only_inside_a_bulk_load(pg_database: str) -> None:
    engine = make_engine(pg_database)
    for table in ("audit_log", "audit_head"):
        with pytest.raises(sa.exc.DBAPIError, match=r"审计日志不能清空"), bulk_transaction(engine) as conn:
            # Past the privilege, so that what refuses is the guard.
            conn.exec_driver_sql(f"GRANT TRUNCATE ON {table} TO CURRENT_USER")
            conn.exec_driver_sql(f"TRUNCATE {table}")
    with engine.connect() as conn:
        modes = conn.exec_driver_sql(
            "SELECT tgname, tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relnamespace = to_regnamespace(current_schema())"
        ).all()
    # Every trigger of the schema fires in every session role: a bulk load's replica role stops none.
    assert modes and {mode for _, mode in modes} == {"A"}, modes
    engine.dispose()


def test_without_the_grant_postgresql_checks_every_row_and_says_why(
    pg_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(pg_database)

    @sa.event.listens_for(engine, "connect")
    def as_a_role_without_the_grant(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET ROLE pg_signal_backend")  # a role the test role is a member of
        dbapi_connection.commit()

    with caplog.at_level(logging.WARNING, logger="xinyong.store.bulk"), bulk_transaction(engine) as conn:
        assert conn.exec_driver_sql("SHOW session_replication_role").scalar_one() == "origin"
    assert "GRANT SET ON PARAMETER session_replication_role" in caplog.text
    engine.dispose()
