"""Engines and migrations.

SQLite runs in WAL mode with foreign keys on (a city or a demo on one machine); PostgreSQL serves a
province. Both are migrated by the same Alembic scripts, shipped inside the package.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Accept the URLs operators type (postgres://, postgresql://) and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


SQLITE_CACHE_KIB = 256 * 1024  # each connection's page cache


def make_engine(url: str, **kwargs: object) -> sa.Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def make_public_reader(url: str, *, ping_idle_after_s: float = 5.0) -> sa.Engine:
    """The engine of the public read path (public pages, the public API, search) on PostgreSQL: a pool of its
    own whose sessions are read-only and in autocommit.

    A public answer is a few reads. In a transaction each costs its round trip plus three more (BEGIN, the
    statement time limit, COMMIT) that buy nothing: under READ COMMITTED every statement takes its own
    snapshot anyway. Read-only (`default_transaction_read_only`) makes a bug that writes on the public path
    fail instead of writing, as it would on a replica. The time limit is set once per session
    (disclose.limits.time_limit).

    A pooled session is pinged before use only when it has been idle `ping_idle_after_s` or longer (a
    server restart or a dropped connection shows there; a dead one is replaced before the request sees it).
    The primary's pool pings before every use: that would be one more round trip on every public answer."""
    engine = make_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={"options": "-c default_transaction_read_only=on"},
        pool_pre_ping=False,
    )

    @sa.event.listens_for(engine, "checkin")
    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < ping_idle_after_s:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:  # any failure: the pool discards this one and connects again
            raise sa.exc.DisconnectionError(str(exc)) from exc

    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # Records carry about 1 KB of JSON: larger pages split less. Takes effect only on a new, empty
    # database (before WAL is switched on); an existing database keeps its page size.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Bulk loads insert into indexes keyed by random codes: the default 2 MB page cache thrashes.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def dialect_insert(conn: sa.Connection) -> Any:
    """The INSERT construct of the connection's dialect: the one that has `on_conflict_do_nothing()`."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: sa.Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_current(engine: sa.Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
