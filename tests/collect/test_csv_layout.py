"""The byte-level CSV scan: it must split records exactly as a CSV parser does, and name the first fault."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.collect import csv_layout

MAX = 1 << 20


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def _scan(path: Path, *, header: int = 0, width: int = 0, start: int = 0) -> csv_layout.Layout:
    return csv_layout.scan(path, start=start, max_bytes=MAX, header=header, width=width)


@pytest.fixture(params=[csv_layout.WINDOW, 3, 7], ids=["window", "tiny-3", "tiny-7"])
def window(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Tiny windows put every quote, comma and line feed on a window's edge at least once."""
    monkeypatch.setattr(csv_layout, "WINDOW", request.param)
    return int(request.param)


cell = st.text(alphabet=st.sampled_from([*'ab,"\n\r 甲', "\u3000"]), max_size=6)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(st.lists(cell, min_size=1, max_size=4), min_size=1, max_size=8), crlf=st.booleans())
def test_records_are_split_as_csv_splits_them(
    tmp_path_factory: pytest.TempPathFactory, window: int, rows: list[list[str]], crlf: bool
) -> None:
    if not crlf:  # with "\n" as line end Python's writer leaves a CR unquoted, and its reader splits there
        rows = [[c.replace("\r", "") for c in row] for row in rows]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    path = _write(tmp_path_factory.mktemp("csv"), buffer.getvalue().encode())
    parsed = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    layout = _scan(path)
    assert layout.fault is None
    assert layout.records == len(parsed)
    head = csv_layout.head(path, start=0, records=len(parsed), max_bytes=MAX)
    assert head.fields == [max(len(r), 1) for r in parsed]  # a blank line is one empty cell


@pytest.mark.parametrize(
    ("data", "kind", "row"),
    [
        (b'a,b\n1,x"y\n', "quote", 2),  # a quote inside an unquoted cell
        (b'a,b\n1,2\n"3"x,4\n', "quote", 3),  # text after a closing quote
        (b'a,b\n1,"2\n3,4\n', "unclosed", 2),  # never closed: polars returned 0 rows for this
        (b"a,b\n1,2\n3,4,5\n", "too_wide", 3),
    ],
    ids=["inside", "after", "unclosed", "wide"],
)
def test_faults_name_their_row(tmp_path: Path, window: int, data: bytes, kind: str, row: int) -> None:
    fault = _scan(_write(tmp_path, data), width=2).fault
    assert fault is not None and (fault.kind, fault.record + 1) == (kind, row)


def test_valid_quoting_is_not_a_fault(tmp_path: Path, window: int) -> None:
    data = b'a,b\n"x ""quoted"" y","line\nbreak"\n"",\r\n'
    layout = _scan(_write(tmp_path, data), width=2)
    assert layout.fault is None and layout.records == 3


def test_title_rows_are_not_held_to_the_header_width(tmp_path: Path, window: int) -> None:
    data = b"title\n\na,b,c\n1,2,3\n"
    assert _scan(_write(tmp_path, data), header=2, width=3).fault is None
    assert _scan(_write(tmp_path, data + b"4,5,6,7\n"), header=2, width=3).fault == csv_layout.Fault(
        "too_wide", 4, 4
    )


def test_a_record_over_the_byte_limit(tmp_path: Path, window: int) -> None:
    path = _write(tmp_path, b"a,b\n1,2\n" + b"x" * 100 + b",y\n3,4\n")
    fault = csv_layout.scan(path, start=0, max_bytes=50, header=0, width=2).fault
    assert fault is not None and (fault.kind, fault.record) == ("too_long", 2) and fault.size > 50


def test_a_line_without_end_is_stopped_at_the_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b\n" + b"x" * 5000)
    fault = csv_layout.scan(path, start=0, max_bytes=1000, header=0, width=2).fault
    assert fault is not None and (fault.kind, fault.record) == ("too_long", 1)


def test_blank_lines_count_as_polars_counts_them(tmp_path: Path, window: int) -> None:
    assert _scan(_write(tmp_path, b"a,b\n1,2\n\n3,4\n\n")).records == 5
    assert _scan(_write(tmp_path, b"a,b\n1,2")).records == 2  # no final line break


def test_bom_is_skipped_and_records_end_outside_quotes(tmp_path: Path, window: int) -> None:
    data = b'\xef\xbb\xbf"t\nitle"\n\na,b\n1,2'
    path = _write(tmp_path, data)
    head = csv_layout.head(path, start=3, records=3, max_bytes=MAX)
    assert head.fault is None and head.starts is not None
    assert data[head.starts[2] :].startswith(b"a,b")
    ends = csv_layout.record_ends(path, start=3).tolist()  # the quoted break ends no record
    assert ends == [head.starts[1], head.starts[2], data.index(b"1,2"), len(data)]
