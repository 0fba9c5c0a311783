"""Feed declarations: what each provider must send, and how many rows a batch should have."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from xinyong.collect.feeds import load_feeds
from xinyong.problems import ProblemError
from xinyong.store.tables import batches, records

from .conftest import CITY, DEPT, Ingest, penalty

FEEDS = f"""
source: test declaration
providers:
  - uscc: {DEPT}
    name: 武汉市市场监督管理局
    feeds:
      - {{item: XZCF, frequency: daily, min_rows: 3, max_rows: 5}}
"""


@pytest.fixture
def declared(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "feeds.yaml"
    path.write_text(FEEDS, encoding="utf-8")
    return path


def test_too_few_rows_fails_loudly(declared: Path, send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1), penalty(2)])
    assert summary.status == "refused"
    problem = summary.problems[0]
    assert problem.code == "batch.too_few_rows" and "3" in problem.message_zh and "2" in problem.message_en
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(records)).scalar_one() == 0
        assert conn.execute(sa.select(batches.c.status)).scalar_one() == "refused"


def test_too_many_rows_warns(declared: Path, send: Ingest) -> None:
    summary = send([penalty(n) for n in range(1, 7)])
    assert (summary.status, summary.inserted) == ("done", 6)
    assert [w.code for w in summary.warnings] == ["batch.many_rows"]


def test_within_bounds_is_quiet(declared: Path, send: Ingest) -> None:
    summary = send([penalty(n) for n in range(1, 4)])
    assert (summary.status, summary.warnings) == ("done", [])


def test_undeclared_item_is_refused(declared: Path, send: Ingest) -> None:
    summary = send([{"许可证书名称": "食品经营许可证"}], item="XZXK")
    assert summary.status == "refused"
    assert summary.problems[0].code == "batch.item_not_declared" and "XZCF" in summary.problems[0].message_zh


def test_a_provider_without_declaration_may_send_any_item(declared: Path, send: Ingest) -> None:
    assert send([penalty(1)], submitter=CITY).status == "done"


def test_a_broken_declaration_file_is_reported(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    broken = f"{{uscc: {DEPT}, name: x, feeds: [{{item: XZCF, min_rows: 9, max_rows: 2}}]}}"
    (home / "feeds.yaml").write_text(f"source: x\nproviders:\n  - {broken}\n", encoding="utf-8")
    with pytest.raises(ProblemError) as broken:
        load_feeds(home)
    assert broken.value.problems[0].code == "feeds.invalid"


def test_the_packaged_declaration_loads() -> None:
    assert load_feeds(None).source
