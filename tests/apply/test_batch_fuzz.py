"""The batch check's file input, fuzzed: whatever a department uploads — CSV cells with quotes, commas, line
breaks, formulas, ID numbers, any header, or bytes that are no CSV at all — the answer is an XLSX with one
row per data line, or a bilingual refusal with a stable code; never another exception. On both databases,
each example in a transaction rolled back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.apply import batch
from xinyong.apply.errors import Refused
from xinyong.collect.readers import read_file
from xinyong.runtime import Runtime
from xinyong.security.principal import Principal

HEADERS = st.sampled_from(["代码", "名称", "行政区划", "统一社会信用代码", "其他", "code", "=A1", ""])
CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["91420106MA4KHX013Y", "11010519491231002X", "420106", "=1+1", "0012", '"', "\r\n"]),
)
PRINCIPAL = Principal.system("fuzz")


def _run(runtime: Runtime, path: Path, name: str) -> batch.BatchResult | Refused:
    with runtime.engine.connect() as conn:
        outer = conn.begin()
        try:
            return batch.check_file(
                conn, runtime, path=path, filename=name, matter="ZBTB", principal=PRINCIPAL
            )
        except Refused as refused:
            return refused
        finally:
            outer.rollback()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    headers=st.lists(HEADERS, min_size=1, max_size=4), rows=st.lists(st.lists(CELLS, max_size=5), max_size=8)
)
def test_any_csv_is_answered_row_by_row_or_refused_plainly(
    runtime: Runtime, tmp_path: Path, headers: list[str], rows: list[list[str]]
) -> None:
    path = tmp_path / "fuzz.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)
    got = _run(runtime, path, path.name)
    if isinstance(got, Refused):
        problem = got.problems[0]
        assert problem.code.startswith(("check.", "file.")) and problem.message_zh and problem.message_en
        assert "11010519491231002X" not in problem.message_zh + problem.message_en
        return
    answered = tmp_path / "answer.xlsx"
    answered.write_bytes(got.xlsx)
    lines = read_file(answered).frame
    assert lines.height == got.summary["rows"] > 0
    assert got.summary["rows"] == sum(
        got.summary[k] for k in ("resolved", "not_found", "ambiguous", "invalid")
    )
    assert "11010519491231002X" not in lines.write_csv()


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(body=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".xlsx", ".json", ".xls", ""]))
def test_any_bytes_under_any_name_are_answered_or_refused_plainly(
    runtime: Runtime, tmp_path: Path, body: bytes, suffix: str
) -> None:
    path = tmp_path / f"upload{suffix}"
    path.write_bytes(body)
    got = _run(runtime, path, path.name)
    if isinstance(got, Refused):
        assert got.problems[0].code.startswith(("check.", "file.")), got.problems[0]
    else:
        assert suffix == ".csv" and got.summary["rows"] >= 1


def test_a_valid_file_is_answered(runtime: Runtime, tmp_path: Path) -> None:
    """The sibling of the refusals above: a plain file of codes gets its XLSX."""
    path = tmp_path / "ok.csv"
    path.write_text("代码\n91420106MA4KHX013Y\n", encoding="utf-8")
    got = _run(runtime, path, path.name)
    assert isinstance(got, batch.BatchResult) and got.summary["rows"] == 1 and got.summary["not_found"] == 1
    with runtime.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM checks")).scalar_one() == 0  # rolled back
    assert io.BytesIO(got.xlsx).read(2) == b"PK"
