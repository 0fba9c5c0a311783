"""The dashboards' numbers equal counts computed here independently (from the rows themselves, in Python),
and each table downloads as CSV and XLSX; a provider's clerk sees only its own figures."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from collect.conftest import DEPT, DEPT2, penalty
from xinyong.clock import CHINA
from xinyong.console import stats
from xinyong.console.periods import month_period
from xinyong.store.tables import batches, records

from .conftest import World, dept2_rows

ROOT = Path(__file__).resolve().parents[2]


def _load(world: World) -> None:
    world.send([penalty(i) for i in range(1, 5)], submitter=DEPT)
    world.send(dept2_rows(6, bad=2), submitter=DEPT2)
    world.clock.set("2026-06-30T23:30:00")  # 15:30 UTC: still June in China
    world.send([penalty(i, cf_jdrq="2026-05-04") for i in range(10, 13)], submitter=DEPT)  # late ones
    world.clock.set("2026-07-01T00:30:00")  # July in China, June 30 in UTC
    world.send([penalty(20)], submitter=DEPT)


def test_dashboard_numbers_equal_independent_counts(world: World) -> None:
    _load(world)
    with world.runtime.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                records.c.source_uscc,
                records.c.item_code,
                records.c.first_seen,
                records.c.late,
                records.c.receipt_working_days,
            )
        ).all()
        sent = conn.execute(
            sa.select(batches.c.submitter_id, batches.c.received, batches.c.rejected, batches.c.created_at)
        ).all()
    june = [r for r in rows if r.first_seen.astimezone(CHINA).strftime("%Y-%m") == "2026-06"]
    by_provider = Counter(r.source_uscc for r in june)
    by_month = Counter(r.first_seen.astimezone(CHINA).strftime("%Y-%m") for r in rows)
    period = month_period("2026-06")
    with world.runtime.engine.connect() as conn:
        figure = stats.records_by_provider(conn, period, None)
        assert {r["uscc"]: r["records"] for r in figure.rows} == dict(by_provider)
        assert {r["item"]: r["records"] for r in stats.records_by_item(conn, period, None).rows} == {
            "XZCF": len(june)
        }
        year = stats.records_by_month(
            conn, month_period("2026-06").__class__(dt.date(2026, 1, 1), dt.date(2027, 1, 1)), None
        )
        assert {r["month"]: r["records"] for r in year.rows} == dict(by_month)
        ranking = {r["uscc"]: r for r in stats.timeliness_ranking(conn, period, None).rows}
    for uscc in by_provider:
        measured = [r for r in june if r.source_uscc == uscc and r.receipt_working_days is not None]
        on_time = sum(1 for r in measured if not r.late)
        assert ranking[uscc]["on_time"] == on_time
        assert ranking[uscc]["timeliness"] == round(on_time / len(measured), 4)
    assert ranking[DEPT]["timeliness"] < 1  # the May decisions came late
    assert ranking[DEPT2]["rows_rejected"] == 2 and ranking[DEPT2]["rows_received"] == 6
    assert len(sent) == 4


def test_the_page_draws_every_figure_with_its_table_and_downloads(world: World) -> None:
    _load(world)
    office = world.client("operator")
    page = office.get("/console/stats?month=2026-06")
    assert page.status_code == 200
    assert '<script src="/static/vendor/echarts.min.js"' in page.text
    charts = json.loads(page.text.split('id="chart-data">', 1)[1].split("</script>", 1)[0])
    assert charts["records_by_provider"]["series"][0]["data"] == sorted(
        charts["records_by_provider"]["series"][0]["data"], reverse=True
    )
    for name in (
        "records_by_item",
        "records_by_provider",
        "records_by_month",
        "coverage",
        "timeliness",
        "tasks",
        "list_entries",
        "queries",
    ):
        assert f'data-figure="{name}"' in page.text
    csv = office.get("/console/stats/records_by_provider/export?format=csv&month=2026-06")
    assert (
        csv.status_code == 200
        and "宜昌市市场监督管理局,91" not in csv.text
        and "宜昌市市场监督管理局" in csv.text
    )
    xlsx = office.get("/console/stats/timeliness/export?format=xlsx&month=2026-06")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert office.get("/console/stats/nothing/export?format=csv").status_code == 404
    assert office.get("/console/stats?month=2026-13").status_code == 400


def test_a_clerk_sees_its_own_figures_only(world: World) -> None:
    _load(world)
    page = world.client("clerk2").get("/console/stats?month=2026-06").text
    assert DEPT2 in page and DEPT not in page
    assert world.client("clerk2").get("/console/assessment").status_code == 403


def test_the_vendored_echarts_is_the_pinned_version() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["echarts"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/echarts"][
        "version"
    ]
    vendored = (ROOT / "src/xinyong/web/static/vendor/echarts.min.js").read_text(encoding="utf-8")
    assert pinned == locked
    assert f'version="{pinned}"' in vendored or f'version:"{pinned}"' in vendored
