"""`xinyong serve` runs the deadline engine on a schedule: a provider's missed deadline suspends the disputed
record while the site serves, with no command run by hand. On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from disclose.builders import build_timeline
from rights.builders import add_extra_records
from xinyong.rights.models import notifications
from xinyong.rights.objections import file_objection, forward
from xinyong.runtime import Runtime
from xinyong.security.principal import Principal
from xinyong.store.tables import records
from xinyong.web.app import create_app


def state_of(runtime: Runtime, record_id: int) -> str:
    with runtime.engine.connect() as conn:
        return conn.execute(sa.select(records.c.state).where(records.c.id == record_id)).scalar_one()


def test_the_served_app_times_out_deadlines_by_itself(runtime: Runtime, tmp_path: Path) -> None:
    rights = add_extra_records(build_timeline(runtime, tmp_path), tmp_path)
    record = rights.ids["OBJECTED"]
    counter = Principal.system("counter")
    rights.clock.set("2026-10-09T10:00")
    with runtime.engine.begin() as conn:
        filed = file_objection(conn, runtime=runtime, principal=counter, record_id=record, reason="有误")
        forward(conn, runtime=runtime, principal=counter, objection_id=filed["id"])  # provider: due Thu 15
    rights.clock.set("2026-10-16T08:00")
    assert state_of(runtime, record) == "disputed"

    with TestClient(create_app(runtime)):  # no schedule unless asked for
        time.sleep(0.3)
    assert state_of(runtime, record) == "disputed"

    with TestClient(create_app(runtime, deadlines_every=0.1)):
        deadline = time.monotonic() + 20
        while not told_of_suspension(runtime) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert state_of(runtime, record) == "suspended"
    # The schedule also delivers what the counter's steps and the run wrote: every party is told.
    assert told_of_suspension(runtime) == [
        ("organisation", f"异议 {filed['id']} 已超时"),
        ("platform", f"异议 {filed['id']}：记录暂停披露"),
        ("subject", f"异议 {filed['id']}：记录暂停披露"),
    ]


def told_of_suspension(runtime: Runtime) -> list[tuple[str, str]]:
    n = notifications
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            sa.select(n.c.party_kind, n.c.title_zh).where(
                n.c.title_zh.like("%暂停披露%") | n.c.title_zh.like("%已超时%")
            )
        )
        return sorted((r.party_kind, r.title_zh) for r in rows)


def test_the_served_app_adds_new_subjects_to_the_search_index(runtime: Runtime) -> None:
    """A subject registered after the index was built joins it while the site serves (no `search refresh`
    by hand): past the high-water mark it would be scanned name by name on every search."""
    from xinyong.codes import make_uscc
    from xinyong.disclose.search import index_status, rebuild
    from xinyong.subjects.service import Candidate, resolve_many

    def register(name: str, serial: int) -> None:
        with runtime.engine.begin() as conn:
            resolve_many(
                conn,
                [Candidate({"uscc": make_uscc("9", "1", "420100", f"MA4K{serial:04d}")}, name=name)],
                clock=runtime.clock,
                protector=runtime.protector,
            )

    def pending() -> int:
        with runtime.engine.connect() as conn:
            return index_status(conn)["pending_subjects"]

    register("武汉华信科技有限公司", 1)
    rebuild(runtime.engine, clock=runtime.clock)
    register("武汉华信电子有限公司", 2)
    assert pending() == 1
    with TestClient(create_app(runtime)):  # no schedule unless asked for
        time.sleep(0.3)
    assert pending() == 1
    with TestClient(create_app(runtime, search_every=0.1)):
        deadline = time.monotonic() + 20
        while pending() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert pending() == 0
