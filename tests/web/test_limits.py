"""Bounded answers: a list never carries a huge cell whole (the notice does), and a page never grows past
its cap, whatever the caller asks for."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from disclose.builders import COMPANY, SUBMITTER, _penalty, write_file
from xinyong.collect.service import ingest

from .conftest import Portal

LIMIT = 500
LONG = "经查，当事人" + "违法事实很长。" * 600  # 4,206 characters


@pytest.fixture
def long_text(portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("XINYONG_LIST_TEXT_MAX_CHARS", str(LIMIT))
    row = _penalty("武环罚〔2026〕31号", "2026-05-20", "吊销许可证件", cf_sy=LONG)
    path = write_file(tmp_path / "long.csv", portal.timeline.catalog, "XZCF", [row])
    assert ingest(portal.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER).rejected == 0
    rows = portal.client("public").get("/api/v1/records", params={"item": "XZCF"}).json()["items"]
    return next(r["id"] for r in rows if r["source_key"] == "武环罚〔2026〕31号")


def cut(text: str) -> bool:
    return len(text) == LIMIT and text.endswith("…") and LONG.startswith(text[:-1])


def test_lists_and_public_subject_views_cut_long_text(portal: Portal, long_text: int) -> None:
    client = portal.client("public")
    rows = client.get("/api/v1/records", params={"item": "XZCF"}).json()["items"]
    (row,) = [r for r in rows if r["id"] == long_text]
    assert cut(row["data"]["cf_sy"]) and row["truncated"] == ["cf_sy"]
    exported = client.get("/api/v1/records", params={"item": "XZCF", "format": "csv"}).text
    assert (
        LONG not in exported and max(len(c) for r in csv.reader(io.StringIO(exported)) for c in r) < LIMIT * 2
    )
    subject = client.get(f"/api/v1/subjects/{COMPANY}").json()
    (record,) = [r for r in subject["records"] if r["id"] == long_text]
    assert cut(record["data"]["cf_sy"]) and record["truncated"] == ["cf_sy"]
    page = client.get(f"/subjects/{COMPANY}", headers={"accept": "text/html"}).text
    assert LONG not in page and "查看全文" in page
    assert LONG not in client.get(f"/api/v1/subjects/{COMPANY}", params={"format": "csv"}).text


def test_the_notice_shows_the_whole_text(portal: Portal, long_text: int) -> None:
    client = portal.client("public")
    notice = client.get(f"/api/v1/records/{long_text}").json()
    assert notice["data"]["cf_sy"] == LONG and notice["truncated"] == []
    assert LONG in client.get(f"/notices/{long_text}", headers={"accept": "text/html"}).text
    government = portal.client("government").get(
        f"/api/v1/subjects/{COMPANY}", params={"level": "government", "purpose": "行政许可审查"}
    )
    (record,) = [r for r in government.json()["records"] if r["id"] == long_text]
    assert record["data"]["cf_sy"] == LONG  # a government user's view of a subject is its detail view


def test_page_sizes_are_capped(portal: Portal) -> None:
    client = portal.client("public")
    answer = client.get("/api/v1/records", params={"item": "XZCF", "limit": 1_000_000})
    assert answer.status_code == 200 and len(answer.json()["items"]) <= 100
    first = client.get("/api/v1/records", params={"item": "XZCF", "limit": 1})
    assert len(first.json()["items"]) == 1 and "limit=1" in first.headers["link"]
    assert client.get("/api/v1/search", params={"q": "华信", "limit": 101}).status_code == 422
