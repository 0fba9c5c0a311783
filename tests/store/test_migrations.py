import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from xinyong.store.engine import (
    current_revision,
    head_revision,
    is_current,
    make_engine,
    normalise_url,
    upgrade,
)
from xinyong.store.schema import metadata
from xinyong.store.tables import organisations


def test_migrations_build_exactly_the_declared_tables(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == [], "a table, column or column type was declared without a migration (or the reverse)"


def test_database_is_at_head_and_upgrade_is_idempotent(engine: sa.Engine) -> None:
    assert current_revision(engine) == head_revision(engine)
    upgrade(engine)
    assert is_current(engine)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_datetimes_come_back_aware_and_in_utc(engine: sa.Engine) -> None:
    at = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with engine.begin() as conn:
        conn.execute(
            organisations.insert().values(
                uscc="91350100M000100Y43", name="测试", kind="provider", created_at=at
            )
        )
        stored = conn.execute(sa.select(organisations.c.created_at)).scalar_one()
    assert stored == at and stored.utcoffset() == dt.timedelta(0)


def test_naive_datetimes_are_refused(engine: sa.Engine) -> None:
    import pytest

    with pytest.raises(sa.exc.StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(
            organisations.insert().values(
                uscc="91350100M000100Y43", name="测试", kind="provider", created_at=dt.datetime(2026, 1, 1)
            )
        )


def test_operator_urls_use_psycopg() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
