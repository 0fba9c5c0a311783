"""Two batches at the same moment (issue #8 item 6): both load, and what they share exists once.

Real threads against the real databases. On PostgreSQL the two transactions are made to meet exactly at
the contested insert (an engine event holds each thread there until the other arrives), so the race is
certain, not likely. SQLite lets one writer in at a time: there the second batch waits, and must still
succeed and find what the first one created.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from xinyong.codes import make_uscc
from xinyong.collect.service import BatchSummary, ingest
from xinyong.runtime import Runtime
from xinyong.store.tables import catalog_versions, records
from xinyong.subjects.models import subject_identifiers, subjects

from .conftest import DEPT, DEPT2, OF_DEPT2, penalty, person_penalty, write_csv

COMPANIES = [
    (make_uscc("9", "1", "420100", f"MA4K{i:04d}"), f"武汉新设{i}号科技有限公司") for i in range(1, 41)
]


def _file(path: Path, **changes: str) -> Path:
    rows = [penalty(i, xdr_dm1=code, xdr_mc=name, **changes) for i, (code, name) in enumerate(COMPANIES, 1)]
    return write_csv(path, rows)


@contextmanager
def meeting_at(engine: sa.Engine, fragment: str) -> Iterator[None]:
    """Hold each thread's first statement containing `fragment` until both threads have reached it."""
    barrier = threading.Barrier(2, timeout=60)
    seen = threading.local()

    def wait(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if fragment in statement and not getattr(seen, "done", False):
            seen.done = True
            barrier.wait()

    sa.event.listen(engine, "before_cursor_execute", wait)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", wait)


def _together(*work: Callable[[], BatchSummary]) -> list[BatchSummary]:
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        futures = [pool.submit(w) for w in work]
        return [f.result() for f in futures]  # an exception in either thread fails the test here


def test_two_providers_loading_the_same_new_companies_share_them(
    runtime: Runtime, orgs: dict[str, str], tmp_path: Path
) -> None:
    engine = runtime.engine
    first = _file(tmp_path / "wuhan.csv")
    second = _file(tmp_path / "yichang.csv", **OF_DEPT2)
    # The catalogue edition is registered beforehand: this test is about subjects alone.
    warm = ingest(
        runtime,
        path=write_csv(tmp_path / "w.csv", [person_penalty(99)]),
        item_code="XZCF",
        submitter_uscc=DEPT,
    )
    assert warm.inserted == 1

    def run(path: Path, submitter: str) -> Callable[[], BatchSummary]:
        return lambda: ingest(runtime, path=path, item_code="XZCF", submitter_uscc=submitter)

    if engine.dialect.name == "postgresql":  # both have looked the companies up and found none: now create
        with meeting_at(engine, "pg_get_serial_sequence('subjects'"):
            done = _together(run(first, DEPT), run(second, DEPT2))
    else:
        done = _together(run(first, DEPT), run(second, DEPT2))

    assert [(s.status, s.inserted, s.rejected) for s in done] == [("done", 40, 0), ("done", 40, 0)]
    with engine.connect() as conn:
        usccs = conn.execute(sa.select(subjects.c.uscc).where(subjects.c.uscc.is_not(None))).scalars().all()
        per_company = conn.execute(
            sa.select(subjects.c.uscc, sa.func.count(sa.distinct(records.c.source_uscc)))
            .join(records, records.c.subject_id == subjects.c.id)
            .where(subjects.c.uscc.is_not(None))
            .group_by(subjects.c.uscc)
        ).all()
        identifiers = conn.execute(
            sa.select(sa.func.count())
            .select_from(subject_identifiers)
            .where(subject_identifiers.c.scheme == "uscc")
        ).scalar_one()
    assert sorted(usccs) == sorted(code for code, _ in COMPANIES)  # each company once
    assert {n for _, n in per_company} == {2} and len(per_company) == 40  # both departments' records on it
    assert identifiers == 40


def test_two_first_ingests_register_the_catalogue_once(
    runtime: Runtime, orgs: dict[str, str], tmp_path: Path
) -> None:
    engine = runtime.engine
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(catalog_versions)).scalar_one() == 0
    wuhan = write_csv(tmp_path / "wuhan.csv", [penalty(1), penalty(2)])
    yichang = write_csv(tmp_path / "yichang.csv", [person_penalty(3, **OF_DEPT2)])
    with meeting_at(engine, "INSERT INTO catalog_versions"):  # both found no edition: now both register it
        done = _together(
            lambda: ingest(runtime, path=wuhan, item_code="XZCF", submitter_uscc=DEPT),
            lambda: ingest(runtime, path=yichang, item_code="XZCF", submitter_uscc=DEPT2),
        )
    assert [(s.status, s.inserted) for s in done] == [("done", 2), ("done", 1)]
    with engine.connect() as conn:
        versions = conn.execute(sa.select(catalog_versions.c.id)).scalars().all()
        used = conn.execute(sa.text("SELECT DISTINCT catalog_version_id FROM batches")).scalars().all()
    assert len(versions) == 1 and used == versions
