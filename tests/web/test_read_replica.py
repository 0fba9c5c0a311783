"""The public read path on a PostgreSQL read replica (XINYONG_READ_DATABASE_URL), on a real standby.

scripts/test-replica.sh makes the standby (pg_basebackup from the test cluster, streaming replication) and
`./dev test` passes its URL in XINYONG_TEST_PG_REPLICA_URL. Public pages, the public API and search read the
replica; every write and every non-public read goes to the primary. Without a standby these tests fail
and say how to make one: they never skip (unless PostgreSQL itself is not tested, XINYONG_TEST_DATABASES).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbtools import DATABASES, truncate_tables
from disclose.builders import COMPANY
from xinyong.clock import FixedClock
from xinyong.config import Settings
from xinyong.runtime import Runtime
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.engine import make_engine
from xinyong.store.schema import metadata

from .conftest import RELAXED, Portal, make_portal

REPLICA_URL = os.environ.get(
    "XINYONG_TEST_PG_REPLICA_URL", "postgresql+psycopg://xinyong:xinyong@127.0.0.1:5433/postgres"
)
pytestmark = pytest.mark.skipif("postgresql" not in DATABASES, reason="PostgreSQL is not tested in this run")


def wait_until(condition: Callable[[], bool], seconds: float = 120) -> float:
    """Seconds until `condition` held; fails past a generous limit (replication is usually milliseconds)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            pytest.fail(f"the replica did not catch up within {seconds} s", pytrace=False)
        time.sleep(0.005)
    return time.monotonic() - started


@pytest.fixture
def replicated(
    pg_database: str, home: Path, protector: PersonalIdProtector, clock: FixedClock
) -> Iterator[Runtime]:
    """A runtime whose primary is the test database and whose read engine is the same database on the
    standby, once the standby holds it."""
    primary = make_engine(pg_database)
    with primary.begin() as conn:
        truncate_tables(conn, [t.name for t in metadata.sorted_tables])
    replica_url = sa.make_url(REPLICA_URL).set(database=primary.url.database)
    replica = make_engine(replica_url.render_as_string(hide_password=False))

    def reachable() -> bool:
        try:
            with replica.connect() as conn:
                return bool(conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar())
        except sa.exc.OperationalError as exc:
            if "does not exist" in str(exc.orig):
                return False  # the database is being created on the primary: not replayed yet
            pytest.fail(
                f"No PostgreSQL standby at {REPLICA_URL}: {str(exc.orig).strip()}. Run "
                "scripts/test-replica.sh (as root, or with sudo to postgres): it makes a streaming replica "
                "of the test cluster and prints the URL for XINYONG_TEST_PG_REPLICA_URL (`./dev test` does).",
                pytrace=False,
            )

    wait_until(reachable)
    settings = Settings(
        home=home,
        database_url=pg_database,
        read_database_url=replica_url.render_as_string(hide_password=False),
        extra=dict(RELAXED),
    )
    runtime = Runtime(
        settings=settings, engine=primary, protector=protector, clock=clock, read_engine=replica
    )
    yield runtime
    runtime.close()


def public_record_ids(portal: Portal) -> list[int] | None:
    answer = portal.client("public").get(f"/api/v1/subjects/{COMPANY}")
    return [r["id"] for r in answer.json()["records"]] if answer.status_code == 200 else None


def test_the_read_engine_is_a_standby_of_the_primary(replicated: Runtime) -> None:
    assert replicated.read_engine is not replicated.engine
    with replicated.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is False
    with replicated.read_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is True


def test_a_write_on_the_primary_reaches_the_public_answers_through_the_replica(
    replicated: Runtime, tmp_path: Path
) -> None:
    portal = make_portal(replicated, tmp_path)  # loads the subject through collection: on the primary
    waited = wait_until(lambda: public_record_ids(portal) is not None)
    print(f"\nnew subject visible through the replica {waited * 1000:.0f} ms after the load committed")
    ids = portal.timeline.ids
    assert wait_until(lambda: ids["P2"] in (public_record_ids(portal) or [])) >= 0
    search = portal.client("public").get("/api/v1/search", params={"q": "华信"})
    assert search.status_code == 200  # the search reads the replica too (the index is not built: no error)


def test_a_repaired_record_leaves_the_replicas_answers_and_only_the_public_path_reads_it(
    replicated: Runtime, tmp_path: Path
) -> None:
    portal = make_portal(replicated, tmp_path)
    record = portal.timeline.ids["P2"]
    wait_until(lambda: record in (public_record_ids(portal) or []))
    government = portal.client("government")
    gov_params = {"level": "government", "purpose": "行政许可审查"}

    # Replay paused on the standby: the replica holds the past, the primary the present. Which one answered
    # tells which engine each path used.
    with replicated.read_engine.connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
        conn.commit()
    try:
        portal.timeline.set_state("P2", "repaired")  # what the repair decision writes, on the primary
        assert record in (public_record_ids(portal) or [])  # the public path: the replica, not yet replayed
        shown = government.get(f"/api/v1/subjects/{COMPANY}", params=gov_params).json()["records"]
        repaired = [r for r in shown if r["id"] == record]
        assert repaired and "已修复" in [m["zh"] for m in repaired[0]["marks"]]  # non-public: the primary
        repaired_at = time.monotonic()
    finally:
        with replicated.read_engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")
            conn.commit()
    resumed = time.monotonic()
    lag = wait_until(lambda: record not in (public_record_ids(portal) or [record]))
    print(
        f"\nrepaired record gone from the replica's public answers {lag * 1000:.0f} ms after replay resumed "
        f"({(resumed - repaired_at) * 1000:.0f} ms paused)"
    )
    # Unpaused: a second repair reaches the public answers in the time streaming replication takes.
    portal.timeline.set_state("P4", "repaired")
    lag = wait_until(lambda: portal.timeline.ids["P4"] not in (public_record_ids(portal) or [0]))
    print(f"repaired record gone from the replica's public answers {lag * 1000:.0f} ms after the commit")
