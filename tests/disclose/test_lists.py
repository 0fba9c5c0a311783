"""The 双公示 lists: exactly the records in publicity, keyset-paged, filtered, bounded, under a time limit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from xinyong.catalog.loader import load_catalog
from xinyong.collect.service import ingest
from xinyong.config import Settings
from xinyong.demo.generate import make_world, penalties
from xinyong.demo.seed import register_departments
from xinyong.disclose.limits import QueryRefused, time_limit
from xinyong.disclose.lists import ListFilter, Total, count_list, departments, publicity_list
from xinyong.disclose.service import assess, record_facts, source_names
from xinyong.policy import load_policy
from xinyong.runtime import Runtime
from xinyong.store.tables import records
from xinyong.subjects.models import subjects

from .builders import SUBMITTER, Timeline


@pytest.fixture
def crowd(timeline: Timeline, tmp_path: Path) -> Timeline:
    """The timeline's subject among 60 synthetic ones with 240 penalties from the synthetic departments."""
    world = make_world(60, seed=7)
    generated = penalties(
        world,
        240,
        item=load_catalog().item("XZCF"),
        seed=7,
        start=dt.date(2022, 1, 1),
        end=dt.date(2026, 6, 14),
    )
    path = tmp_path / "crowd.csv"
    generated.frame.write_csv(path)
    with timeline.runtime.engine.begin() as conn:  # the system forwards for them: the tree must say so
        register_departments(conn, world.departments, parent_uscc=SUBMITTER, clock=timeline.runtime.clock)
    assert ingest(timeline.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER).rejected == 0
    return timeline


def all_pages(runtime: Runtime, flt: ListFilter, *, limit: int = 7, scan: int = 2000) -> list[int]:
    catalog, policy = load_catalog(), load_policy()
    seen: list[int] = []
    cursor = None
    for _ in range(500):
        with runtime.engine.connect() as conn:
            page = publicity_list(
                conn,
                flt,
                catalog=catalog,
                policy=policy,
                clock=runtime.clock,
                limit=limit,
                cursor=cursor,
                scan=scan,
            )
        seen += [row.record.id for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


def publicly_visible(runtime: Runtime, item_code: str) -> set[int]:
    """Judged one record at a time with service.assess: the list must agree with the subject pages."""
    catalog, policy = load_catalog(), load_policy()
    item = catalog.item(item_code)
    with runtime.engine.connect() as conn:
        rows = conn.execute(
            sa.select(records, subjects.c.kind)
            .join(subjects, subjects.c.id == records.c.subject_id)
            .where(records.c.item_code == item_code)
        ).all()
        names = source_names(conn, rows, catalog)
    today = runtime.clock.today()
    return {
        row.id
        for row in rows
        if assess(
            record_facts(
                row, item, natural_person=row.kind == "natural_person", source_name=names.get(row.source_uscc)
            ),
            item,
            row.state,
            audience="public",
            up_to="public",
            today=today,
            policy=policy,
        ).visible
    }


def test_pages_hold_exactly_the_records_in_publicity_newest_first(crowd: Timeline) -> None:
    runtime = crowd.runtime
    ids = all_pages(runtime, ListFilter(item="XZCF"))
    assert len(ids) == len(set(ids))
    expected = publicly_visible(runtime, "XZCF")
    assert set(ids) == expected and crowd.ids["P2"] in expected and crowd.ids["P1"] not in expected
    with runtime.engine.connect() as conn:
        dates = dict(
            conn.execute(sa.select(records.c.id, records.c.decision_date).where(records.c.id.in_(ids))).all()
        )
    order = [(dates[i], i) for i in ids]
    assert order == sorted(order, reverse=True)


def test_a_small_scan_budget_answers_incomplete_pages_that_continue(crowd: Timeline) -> None:
    runtime = crowd.runtime
    with runtime.engine.connect() as conn:
        page = publicity_list(
            conn,
            ListFilter(item="XZCF", category="责令停产停业"),
            catalog=load_catalog(),
            policy=load_policy(),
            clock=runtime.clock,
            limit=50,
            scan=30,
        )
    assert page.scanned == 30 and not page.complete and page.next_cursor
    budgeted = all_pages(runtime, ListFilter(item="XZCF", category="责令停产停业"), limit=50, scan=30)
    assert set(budgeted) == set(all_pages(runtime, ListFilter(item="XZCF", category="责令停产停业")))


def test_filters(crowd: Timeline) -> None:
    runtime = crowd.runtime
    visible = publicly_visible(runtime, "XZCF")
    with runtime.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(records).where(records.c.id.in_(visible)))}
        depts = departments(conn, load_catalog().item("XZCF"), load_catalog())
    provider = rows[crowd.ids["P2"]].source_uscc
    assert {"uscc": provider, "name": "武汉市生态环境局"} in depts
    by_provider = all_pages(runtime, ListFilter(item="XZCF", provider=provider))
    assert set(by_provider) == {i for i, r in rows.items() if r.source_uscc == provider}
    by_category = all_pages(runtime, ListFilter(item="XZCF", category="罚款"))
    assert set(by_category) == {i for i, r in rows.items() if "罚款" in r.data["cf_cflb"].split(";")}
    by_region = all_pages(runtime, ListFilter(item="XZCF", region="4205"))
    assert by_region and set(by_region) == {i for i, r in rows.items() if r.source_uscc[2:6] == "4205"}
    window = ListFilter(item="XZCF", date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 6, 30))
    assert set(all_pages(runtime, window)) == {
        i for i, r in rows.items() if dt.date(2025, 1, 1) <= r.decision_date <= dt.date(2025, 6, 30)
    }


def test_bad_filters_are_refused_with_a_reason(crowd: Timeline) -> None:
    runtime = crowd.runtime
    for flt, code in [
        (ListFilter(item="NOPE"), "list.unknown_item"),
        (ListFilter(item="XZCF", category="罚钱"), "list.category"),
        (ListFilter(item="XZCF", region="42x"), "list.region"),
        (ListFilter(item="XZCF", date_from=dt.date(2026, 1, 2), date_to=dt.date(2026, 1, 1)), "list.dates"),
    ]:
        with runtime.engine.connect() as conn, pytest.raises(QueryRefused) as refused:
            publicity_list(conn, flt, catalog=load_catalog(), policy=load_policy(), clock=runtime.clock)
        assert refused.value.problem.code == code


def test_the_same_filters_made_valid_are_accepted(crowd: Timeline) -> None:
    """The sibling of the refusals above: the valid spelling of each filter runs and finds the company's
    penalty, so each refusal is about the bad value and nothing else."""
    runtime, wanted = crowd.runtime, crowd.ids["P2"]
    rules = {"catalog": load_catalog(), "policy": load_policy(), "clock": runtime.clock}
    for flt in [
        ListFilter(item="XZCF"),
        ListFilter(item="XZCF", category="吊销许可证件"),
        ListFilter(item="XZCF", region="42"),
        ListFilter(item="XZCF", date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 3, 1)),
    ]:
        shown: list[int] = []
        cursor: str | None = None
        with runtime.engine.connect() as conn:
            while wanted not in shown:
                page = publicity_list(conn, flt, cursor=cursor, **rules)  # type: ignore[arg-type]
                shown += [r.record.id for r in page.rows]
                if not (cursor := page.next_cursor):
                    break
        assert wanted in shown, flt


_SLOW = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000000) "
    "SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(2)",
}


def _stops_the_slow_and_not_the_quick(engine: sa.Engine) -> None:
    with (
        engine.connect() as conn,
        conn.begin(),
        pytest.raises(QueryRefused) as refused,
        time_limit(conn, 100),
    ):
        conn.exec_driver_sql(_SLOW[engine.dialect.name])
    assert refused.value.status == 503 and refused.value.problem.code == "query.time_limit"
    with engine.connect() as conn, conn.begin(), time_limit(conn, 100):  # a quick one is not
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


def test_a_query_past_its_time_limit_is_stopped(runtime: Runtime) -> None:
    _stops_the_slow_and_not_the_quick(runtime.engine)


def test_the_time_limit_holds_on_the_public_reader_without_a_transaction(settings: Settings) -> None:
    """On PostgreSQL the public reader runs in autocommit (store.engine.make_public_reader): no transaction
    for SET LOCAL, so the limit is the session's, set once; the primary's stays scoped to its transaction."""
    runtime = Runtime.open(settings)
    try:
        for _ in range(2):  # the second time on a pooled session that already has its limit
            _stops_the_slow_and_not_the_quick(runtime.read_engine)
        if runtime.engine.dialect.name == "postgresql":
            with runtime.engine.connect() as conn:
                with conn.begin(), time_limit(conn, 100):
                    pass
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
    finally:
        runtime.close()


def test_the_total_counts_what_the_pages_list(crowd: Timeline) -> None:
    runtime = crowd.runtime
    flt = ListFilter(item="XZCF")
    listed = all_pages(runtime, flt)
    with runtime.engine.connect() as conn:
        whole = count_list(conn, flt, catalog=load_catalog(), policy=load_policy(), clock=runtime.clock)
        cut = count_list(
            conn, flt, catalog=load_catalog(), policy=load_policy(), clock=runtime.clock, budget=100
        )
    assert whole == Total(len(listed), True) and len(listed) > 10
    assert not cut.exact and 0 < cut.count < len(listed)  # "more than": the budget ran out first


def test_lists_never_read_the_archive_past_the_five_year_limit(timeline: Timeline) -> None:
    runtime = timeline.runtime
    old = ListFilter(item="XZCF", date_to=dt.date(2020, 12, 31))  # P5, decided 2019: archived since 2024
    with runtime.engine.connect() as conn:
        page = publicity_list(conn, old, catalog=load_catalog(), policy=load_policy(), clock=runtime.clock)
        total = count_list(conn, old, catalog=load_catalog(), policy=load_policy(), clock=runtime.clock)
    assert page.rows == [] and page.scanned == 0 and total == Total(0, True)
