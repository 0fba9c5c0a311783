"""`xinyong ingest` and `xinyong batch …` through the real command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.config import Settings
from xinyong.security.models import audit_log
from xinyong.store.tables import batches

from . import hostile
from .conftest import (
    CITY,
    DEPT,
    DEPT2,
    OF_DEPT2,
    OTHER_COMPANY,
    PERSON,
    REWRITE,
    UNREGISTERED,
    csv_bytes,
    penalty,
    person_penalty,
    reasons,
    record_of,
    write_csv,
)

SUMMARY_KEYS = {"batch_id", "encoding", "received", "inserted", "updated", "unchanged", "rejected", "seconds"}


@pytest.fixture
def xinyong(settings: Settings, orgs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.setenv("XINYONG_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("XINYONG_FIXED_NOW", raising=False)
    monkeypatch.delenv("XINYONG_INGEST_CHUNK_ROWS", raising=False)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, f"{args}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
        return result

    return run


BAD_ID = PERSON[:-1] + "2"
SENT = [penalty(1), penalty(2, cf_nr_fk=None), person_penalty(3, xdr_zjhm=BAD_ID), penalty(4)]


def _file(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "处罚.csv", SENT, encoding="gb18030")


def test_ingest_json_summary(xinyong: Callable[..., Any], tmp_path: Path) -> None:
    result = xinyong("ingest", str(_file(tmp_path)), "--item", "XZCF", "--provider", DEPT, "--json")
    summary = json.loads(result.stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert (summary["encoding"], summary["received"], summary["inserted"], summary["rejected"]) == (
        "gb18030",
        4,
        2,
        2,
    )
    assert (
        summary["received"]
        == summary["inserted"] + summary["updated"] + summary["unchanged"] + summary["rejected"]
    )
    # No terminal here: progress comes as plain lines on stderr, ending with the load.
    assert "progress: read 4/4" in result.stderr and "progress: loaded 4/4" in result.stderr


def test_ingest_readable_summary_and_chunks(
    xinyong: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_INGEST_CHUNK_ROWS", "1")
    result = xinyong("ingest", str(_file(tmp_path)), "--item", "xzcf", "--provider", DEPT)
    assert "收到 received 4" in result.stdout and "退回 rejected 2" in result.stdout
    assert "xinyong batch errors 1" in result.stdout
    assert [line for line in result.stderr.splitlines() if "checked" in line] == [
        f"进度 / progress: checked {n}/4" for n in (1, 2, 3, 4)
    ]


def test_ingest_fixed_clock_for_tests(xinyong: Callable[..., Any], tmp_path: Path, engine: sa.Engine) -> None:
    result = xinyong(
        "ingest",
        str(_file(tmp_path)),
        "--item",
        "XZCF",
        "--provider",
        DEPT,
        "--json",
        "--now",
        "2026-06-20T08:00:00",
    )
    assert json.loads(result.stdout)["seconds"] == 0
    with engine.connect() as conn:
        created = conn.execute(sa.text("SELECT created_at FROM batches")).scalar_one()
    assert str(created).startswith("2026-06-20 00:00:00")  # 08:00 in China is midnight UTC


def test_refused_file_exits_1_with_every_problem(xinyong: Callable[..., Any], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [{**penalty(1), "血型": "A", "宗教信仰": "无"}])
    result = xinyong("ingest", str(path), "--item", "XZCF", "--provider", DEPT, code=1)
    assert result.stderr.count("file.forbidden_column") == 2
    assert "血型" in result.stderr and "must not be collected" in result.stderr
    assert "整批拒收" in result.stdout


def test_unknown_submitter_and_item_are_usage_errors(xinyong: Callable[..., Any], tmp_path: Path) -> None:
    path = _file(tmp_path)
    unknown = xinyong("ingest", str(path), "--item", "XZCF", "--provider", UNREGISTERED, code=2)
    assert "batch.unknown_submitter" in unknown.stderr and "xinyong org add" in unknown.stderr
    assert (
        "catalog.unknown_item"
        in xinyong("ingest", str(path), "--item", "NOPE", "--provider", DEPT, code=2).stderr
    )
    xinyong("ingest", str(tmp_path / "missing.csv"), "--item", "XZCF", "--provider", DEPT, code=2)


def test_batch_show_errors_and_timeliness(
    xinyong: Callable[..., Any], tmp_path: Path, engine: sa.Engine
) -> None:
    batch = json.loads(
        xinyong("ingest", str(_file(tmp_path)), "--item", "XZCF", "--provider", DEPT, "--json").stdout
    )
    shown = json.loads(xinyong("batch", "show", str(batch["batch_id"]), "--json").stdout)
    assert (shown["status"], shown["rejected"], shown["rejected_open"], shown["submitter"]["uscc"]) == (
        "done",
        2,
        2,
        DEPT,
    )
    assert "收到 received 4" in xinyong("batch", "show", str(batch["batch_id"])).stdout

    out = tmp_path / "errors.csv"
    xinyong("batch", "errors", str(batch["batch_id"]), "--format", "csv", "--out", str(out))
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "行号" and rows[0][-1] == "问题说明" and [r[0] for r in rows[1:]] == ["3", "4"]
    assert BAD_ID in rows[2]  # the provider gets its own ID number back to fix it

    xlsx = tmp_path / "errors.xlsx"
    xinyong("batch", "errors", str(batch["batch_id"]), "--format", "xlsx", "--out", str(xlsx), "--lang", "en")
    sheet = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_name("问题数据").to_python()
    # Every cell read back: the provider's GB18030 cells exactly as sent, as text, under its own headers.
    assert sheet[0] == ["Row", *rows[0][1:-1], "Problems"] and set(sheet[0][1:-1]) == set(SENT[0])
    assert [line[0] for line in sheet[1:]] == ["3", "4"]
    for line, sent in zip(sheet[1:], (SENT[1], SENT[2]), strict=True):
        assert line[1:-1] == [sent[header] or "" for header in sheet[0][1:-1]]
    assert "Fine" in sheet[1][-1] and "required" in sheet[1][-1]
    assert "ID document number" in sheet[2][-1] and BAD_ID in sheet[2]

    with engine.connect() as conn:
        actions = [a for (a,) in conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.seq))]
    assert actions == ["batch.submit", "batch.errors", "batch.errors"]

    figures = json.loads(xinyong("batch", "timeliness", "--item", "XZCF", "--json").stdout)
    assert [(f["source_uscc"], f["records"]) for f in figures] == [(DEPT, 2)]
    assert DEPT in xinyong("batch", "timeliness").stdout

    assert "batch.not_found" in xinyong("batch", "show", "999", code=2).stderr
    xinyong("batch", "errors", "999", "--out", str(out), code=2)
    xinyong("batch", "errors", str(batch["batch_id"]), "--format", "pdf", "--out", str(out), code=2)
    xinyong("batch", "timeliness", "--since", "yesterday", code=2)


def test_the_command_line_holds_a_provider_to_its_own_records(
    xinyong: Callable[..., Any], tmp_path: Path, engine: sa.Engine
) -> None:
    """The same check as the API: `--provider` names who sends, every row's source must be its own."""

    def ingest(name: str, provider: str, rows: list[dict[str, str | None]]) -> dict[str, Any]:
        path = write_csv(tmp_path / name, rows, encoding="gb18030")
        return json.loads(
            xinyong("ingest", str(path), "--item", "XZCF", "--provider", provider, "--json").stdout
        )

    forwarded = ingest("forwarded.csv", CITY, [penalty(1, **OF_DEPT2)])  # the system above DEPT2: accepted
    assert (forwarded["inserted"], forwarded["rejected"]) == (1, 0)
    before = record_of(engine, DEPT2, "武市监罚〔2026〕1号")

    attack = ingest(
        "attack.csv",
        DEPT,
        [penalty(1, **OF_DEPT2, **REWRITE, **OTHER_COMPANY), penalty(7, **OF_DEPT2), penalty(2)],
    )
    assert (attack["inserted"], attack["updated"], attack["rejected"]) == (1, 0, 2)
    assert record_of(engine, DEPT2, "武市监罚〔2026〕1号") == before
    assert record_of(engine, DEPT2, "武市监罚〔2026〕7号") is None
    assert record_of(engine, DEPT, "武市监罚〔2026〕2号") is not None  # its own row: accepted
    assert reasons(engine, attack["batch_id"]) == {
        2: ["row.source_not_permitted"],
        3: ["row.source_not_permitted"],
    }


def test_bad_chunk_setting_is_a_usage_error(
    xinyong: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XINYONG_INGEST_CHUNK_ROWS", "lots")
    xinyong("ingest", str(_file(tmp_path)), "--item", "XZCF", "--provider", DEPT, code=2)


def test_batch_list(xinyong: Callable[..., Any], tmp_path: Path) -> None:
    path = _file(tmp_path)
    first = json.loads(xinyong("ingest", str(path), "--item", "XZCF", "--provider", DEPT, "--json").stdout)
    second = json.loads(xinyong("ingest", str(path), "--item", "XZCF", "--provider", DEPT, "--json").stdout)
    listed = json.loads(xinyong("batch", "list", "--json").stdout)
    assert [b["batch_id"] for b in listed["items"]] == [second["batch_id"], first["batch_id"]]
    assert listed["total"] == 2 and listed["next"] is None
    assert listed["items"][1]["submitter"]["uscc"] == DEPT and listed["items"][1]["rejected"] == 2
    page = json.loads(xinyong("batch", "list", "--provider", DEPT, "--limit", "1", "--json").stdout)
    assert [b["batch_id"] for b in page["items"]] == [second["batch_id"]] and page["next"] == second[
        "batch_id"
    ]
    older = json.loads(xinyong("batch", "list", "--before", str(page["next"]), "--json").stdout)
    assert [b["batch_id"] for b in older["items"]] == [first["batch_id"]]
    assert json.loads(xinyong("batch", "list", "--provider", UNREGISTERED, "--json").stdout)["total"] == 0

    table = xinyong("batch", "list", "--provider", DEPT.lower()).stdout
    assert "武汉市市场监督管理局" in table and "XZCF" in table and "共 2 个批次" in table
    xinyong("batch", "list", "--limit", "0", code=2)


# --------------------------------------------------------------------- hostile files (issue 8, item 7)


@pytest.mark.parametrize("name", list(hostile.REFUSED))
def test_a_hostile_file_is_a_refused_batch_not_a_traceback(
    xinyong: Callable[..., Any], tmp_path: Path, engine: sa.Engine, name: str
) -> None:
    content, code = hostile.REFUSED[name]
    path = hostile.write(tmp_path, name, content)
    result = xinyong("ingest", str(path), "--item", "XZCF", "--provider", DEPT, "--json", code=1)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    summary = json.loads(result.stdout)
    assert summary["status"] == "refused" and summary["problems"][0]["code"] == code
    assert f"[{code}]" in result.stderr and "Traceback" not in result.stderr
    with engine.connect() as conn:
        batch = conn.execute(sa.select(batches.c.id, batches.c.status)).one()
        audited = conn.execute(sa.select(audit_log.c.action, audit_log.c.object_id)).all()
    assert batch.status == "refused" and [(a.action, a.object_id) for a in audited] == [
        ("batch.submit", str(batch.id))
    ]
    assert PERSON not in result.stdout + result.stderr


def test_header_row_option(xinyong: Callable[..., Any], tmp_path: Path) -> None:
    notes = "".join(f"说明第{i}条\r\n" for i in range(1, 12))
    path = tmp_path / "notes.csv"
    path.write_text(notes + csv_bytes([penalty(1)]), encoding="utf-8")
    refused = xinyong("ingest", str(path), "--item", "XZCF", "--provider", DEPT, code=1)
    assert "file.no_known_columns" in refused.stderr
    loaded = xinyong(
        "ingest", str(path), "--item", "XZCF", "--provider", DEPT, "--header-row", "12", "--json"
    )
    assert json.loads(loaded.stdout)["inserted"] == 1
    xinyong("ingest", str(path), "--item", "XZCF", "--provider", DEPT, "--header-row", "0", code=2)
