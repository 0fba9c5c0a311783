"""The public read path's engine: on PostgreSQL a read-only, autocommit pool of its own (no BEGIN, time limit
and COMMIT round trips around a public answer's reads); on SQLite without a replica, the primary's engine."""

import pytest
import sqlalchemy as sa

from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.store.engine import make_engine, make_public_reader
from xinyong.store.tables import organisations


def _runtime(settings: Settings) -> Runtime:
    return Runtime.open(settings)


def test_the_public_reader_reads_and_never_writes(engine: sa.Engine, settings: Settings) -> None:
    runtime = _runtime(settings)
    try:
        with runtime.engine.begin() as conn:
            conn.execute(
                organisations.insert().values(
                    uscc="91420100MA4K00001X", name="甲单位", kind="provider", created_at=sa.func.now()
                )
            )
        with runtime.read_engine.connect() as conn:
            assert conn.execute(sa.select(organisations.c.name)).scalars().all() == ["甲单位"]
        if engine.dialect.name == "sqlite":
            assert runtime.read_engine is runtime.engine  # one file, one pool
            return
        assert runtime.read_engine is not runtime.engine
        with (
            runtime.read_engine.connect() as conn,
            pytest.raises(sa.exc.InternalError, match="read-only transaction"),
        ):
            conn.execute(organisations.update().values(name="乙单位"))
        with runtime.engine.connect() as conn:
            assert conn.execute(sa.select(organisations.c.name)).scalar_one() == "甲单位"
    finally:
        runtime.close()


def test_a_public_session_that_died_while_idle_is_replaced_before_use(pg_database: str) -> None:
    """PostgreSQL only: the public reader is its pool (SQLite has no sessions to lose)."""
    reader = make_public_reader(pg_database, ping_idle_after_s=0)
    engine = make_engine(pg_database)
    try:
        with reader.connect() as conn:
            first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as conn:  # as a server restart or a network cut would
            conn.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": first})
        with reader.connect() as conn:
            again = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        assert again != first
    finally:
        reader.dispose()
        engine.dispose()
