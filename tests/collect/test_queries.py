"""Read functions shared by the CLI and the API: the batch view and timeliness per source department."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from xinyong.collect.queries import batch_view, list_batches, timeliness_by_provider
from xinyong.policy.workdays import WorkdayCalendar
from xinyong.runtime import Runtime
from xinyong.store.tables import records

from .conftest import CITY, DEPT, DEPT2, Ingest, penalty

TODAY = dt.date(2026, 6, 15)  # the fixed clock's day (a Monday)


def test_batch_view(send: Ingest, runtime: Runtime) -> None:
    first = send([penalty(1), penalty(2, cf_nr_fk=None), {**penalty(3), "经办人": "x"}])
    fixed = send([penalty(2)])
    with runtime.engine.connect() as conn:
        view = batch_view(conn, first.batch_id)  # type: ignore[arg-type]
        assert batch_view(conn, 999) is None
    assert view is not None
    assert view["submitter"] == {"uscc": DEPT, "name": "武汉市市场监督管理局"}
    assert (view["status"], view["received"], view["inserted"], view["rejected"]) == ("done", 3, 2, 1)
    assert view["reconciles"] and view["encoding"] == "utf-8" and view["format"] == "csv"
    assert (view["rejected_open"], view["rejected_corrected"]) == (0, 1)
    assert view["unknown_columns"] == ["经办人"] and view["warnings"][0]["code"] == "file.unknown_columns"
    assert fixed.batch_id != first.batch_id


def test_timeliness_by_source_department(send: Ingest, runtime: Runtime, home: Path) -> None:
    calendar = WorkdayCalendar(environ={"XINYONG_HOME": str(home)})
    assert calendar.between(dt.date(2026, 6, 1), TODAY) == 10  # late: more than 7 working days
    assert calendar.between(dt.date(2026, 6, 5), TODAY) == 6
    assert calendar.between(dt.date(2026, 6, 12), TODAY) == 1
    send([penalty(1, cf_jdrq="2026-06-01"), penalty(2, cf_jdrq="2026/6/5")], submitter=DEPT)
    # Forwarded by the city platform: the figures belong to the department that decided, not to the city.
    send(
        [penalty(3, cf_jdrq="20260612", cf_sjly="宜昌市市场监督管理局", cf_sjlydm=DEPT2)],
        submitter=CITY,
    )
    with runtime.engine.connect() as conn:
        flags = dict(conn.execute(sa.select(records.c.source_key, records.c.late)).all())
        days = dict(conn.execute(sa.select(records.c.source_key, records.c.receipt_working_days)).all())
        figures = {t.source_uscc: t for t in timeliness_by_provider(conn, item="XZCF")}
        assert timeliness_by_provider(conn, item="XZXK") == []
        assert timeliness_by_provider(conn, since=TODAY + dt.timedelta(days=1)) == []
        assert len(timeliness_by_provider(conn, since=TODAY)) == 2
    assert flags == {"武市监罚〔2026〕1号": True, "武市监罚〔2026〕2号": False, "武市监罚〔2026〕3号": False}
    assert days == {"武市监罚〔2026〕1号": 10, "武市监罚〔2026〕2号": 6, "武市监罚〔2026〕3号": 1}
    dept = figures[DEPT]
    assert (dept.source_name, dept.records, dept.measured, dept.late) == ("武汉市市场监督管理局", 2, 2, 1)
    assert dept.average_working_days == 8.0 and dept.late_rate == 0.5
    assert figures[DEPT2].as_dict() == {
        "source_uscc": DEPT2,
        "source_name": "宜昌市市场监督管理局",
        "records": 1,
        "measured": 1,
        "late": 0,
        "late_rate": 0.0,
        "average_working_days": 1.0,
    }
    assert CITY not in figures


def test_the_late_count_is_in_the_batch_summary(send: Ingest) -> None:
    summary = send([penalty(1, cf_jdrq="2026-06-01"), penalty(2, cf_jdrq="2026-06-12")])
    assert summary.late == 1


def test_list_batches_newest_first_per_submitter_and_paged(send: Ingest, runtime: Runtime) -> None:
    ours = [send([penalty(n)]).batch_id for n in range(1, 6)]
    theirs = send([penalty(9, cf_sjlydm=DEPT2)], submitter=DEPT2).batch_id
    with runtime.engine.connect() as conn:
        everyone = list_batches(conn)
        first = list_batches(conn, submitter_uscc=DEPT, limit=2)
        second = list_batches(conn, submitter_uscc=DEPT, limit=2, before=first.next_cursor)
        last = list_batches(conn, submitter_uscc=DEPT, limit=2, before=second.next_cursor)
        nobody = list_batches(conn, submitter_uscc=CITY)
        licences = list_batches(conn, item="XZXK")
    assert [b["batch_id"] for b in everyone.items] == [theirs, *reversed(ours)]
    assert everyone.total == 6 and everyone.next_cursor is None
    paged = [b["batch_id"] for page in (first, second, last) for b in page.items]
    assert paged == list(reversed(ours)) and last.next_cursor is None
    assert (first.total, second.total, last.total) == (5, 5, 5)
    shown = first.items[0]
    assert shown["submitter"] == {"uscc": DEPT, "name": "武汉市市场监督管理局"}
    assert (shown["item"], shown["status"], shown["received"], shown["inserted"]) == ("XZCF", "done", 1, 1)
    assert shown["reconciles"] and shown["created_at"] is not None
    assert (nobody.items, nobody.total) == ([], 0)
    assert (licences.items, licences.total) == ([], 0)
