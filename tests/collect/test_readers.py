"""Reading providers' files: every encoding and format, every cell as the text the clerk typed."""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.collect.readers import detect_encoding, read_file
from xinyong.problems import ProblemError
from xinyong.store.tables import batches

from .conftest import DEPT, HEADERS, H, Ingest, csv_bytes, penalty

DATA = Path(__file__).parent / "data"
# 䶮 (CJK Extension A) is in GB18030 but not in GBK: the file must be decoded as GB18030, not GBK.
NAME = "武汉市江岸区䶮记餐馆"


def _rows() -> list[dict[str, str | None]]:
    return [
        {"行政相对人名称": NAME, "处罚类别": "警告；罚款"},
        {"行政相对人名称": "张伟", "处罚类别": "警告"},
    ]


def test_utf8(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(_rows()).encode("utf-8"))
    read = read_file(path)
    assert (read.format, read.encoding) == ("csv", "utf-8")
    assert read.headers == ["行政相对人名称", "处罚类别"]
    assert read.frame.row(0) == (NAME, "警告；罚款")


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(_rows()).encode("utf-8-sig"))
    read = read_file(path)
    assert read.encoding == "utf-8-sig"
    assert read.headers[0] == "行政相对人名称"  # no BOM glued to the first header
    assert read.frame["行政相对人名称"].to_list() == [NAME, "张伟"]


def test_gb18030_headers_and_values(tmp_path: Path) -> None:
    raw = csv_bytes(_rows()).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GB18030 bytes
    path = tmp_path / "a.csv"
    path.write_bytes(raw)
    assert detect_encoding(path) == "gb18030"
    read = read_file(path)
    assert read.encoding == "gb18030"
    assert read.headers == ["行政相对人名称", "处罚类别"]
    assert read.frame["行政相对人名称"].to_list() == [NAME, "张伟"]


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_gb18030_copy_has_no_name_on_disk_and_goes_with_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The UTF-8 copy polars reads is made while the file's encoding is checked. It holds the provider's
    cells (ID numbers among them), so it never has a name on disk — a killed ingest leaves no copy behind —
    and it is closed when the read goes, or when the file is refused after it was made."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(_rows()).encode("gb18030"))
    before = _open_files()
    read = read_file(good)
    assert read.encoding == "gb18030" and _open_files() == before + 1
    assert [b.height for b in read.batches(1)] == [1, 1] and list(scratch.iterdir()) == []
    del read
    gc.collect()
    assert _open_files() == before
    for name, content in {
        "no_rows.csv": "行政相对人名称,处罚类别\n",
        "malformed.csv": '行政相对人名称,处罚类别\n华信,"警告\n',
    }.items():
        path = tmp_path / name
        path.write_bytes(content.encode("gb18030"))
        with pytest.raises(ProblemError):
            read_file(path)
        gc.collect()
        assert list(scratch.iterdir()) == [] and _open_files() == before, name


def test_gbk_file_is_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes([{"行政相对人名称": "武汉华信科技有限公司"}]).encode("gbk"))
    read = read_file(path)
    assert read.encoding == "gb18030" and read.frame.item(0, 0) == "武汉华信科技有限公司"


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("行政相对人名称\n".encode() + b"\xff\xfe\x80\n")
    with pytest.raises(ProblemError) as refused:
        read_file(path)
    problem = refused.value.problems[0]
    assert (
        problem.code == "file.encoding" and "UTF-8" in problem.message_zh and "GB18030" in problem.message_en
    )


def test_undecodable_file_is_a_refused_batch(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([penalty()]).encode("utf-8") + b"\xff\xff\xff\n")
    summary = send(path)
    assert summary.status == "refused" and [p.code for p in summary.problems] == ["file.encoding"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(batches.c.status)).scalar_one() == "refused"


def test_gb18030_batch_records_its_encoding(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, xdr_mc=NAME)], encoding="gb18030")
    assert (summary.status, summary.encoding, summary.inserted) == ("done", "gb18030", 1)
    with engine.connect() as conn:
        row = conn.execute(sa.select(batches.c.encoding, batches.c.format)).one()
        data = conn.execute(sa.text("SELECT data FROM records")).scalar_one()
    assert tuple(row) == ("gb18030", "csv")
    assert NAME in (data if isinstance(data, str) else json.dumps(data, ensure_ascii=False))


def _workbook(path: Path) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    first = book.add_worksheet("行政处罚")
    second = book.add_worksheet("第二批")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    headers = [H["xdr_mc"], H["cf_wsh"], H["cf_jdrq"], H["cf_yxq"], H["cf_nr_fk"], H["xdr_zjhm"]]
    for col, header in enumerate(headers):
        first.write_string(0, col, header)
        second.write_string(0, col, header)
    first.write_string(1, 0, "武汉华信科技有限公司")
    first.write_string(1, 1, "武市监罚〔2021〕1号")
    first.write_datetime(1, 2, dt.datetime(2021, 3, 5), date)  # a real date cell
    first.write_number(1, 3, 47547)  # an Excel serial typed as a number (2030-03-05)
    first.write_number(1, 4, 1.5)
    first.write_string(1, 5, "420106198001011237")
    first.write_blank(2, 0, None)  # an empty row between: skipped
    first.write_string(3, 0, "武汉某某商贸有限公司")
    second.write_string(1, 0, "宜昌某某商贸有限公司")
    second.write_string(1, 2, "2021年3月6日")
    book.close()
    return path


def test_xlsx_first_sheet_date_cell_and_serial(tmp_path: Path) -> None:
    read = read_file(_workbook(tmp_path / "a.xlsx"))
    assert (read.format, read.encoding) == ("xlsx", None)
    rows = read.frame.to_dicts()
    assert len(rows) == 2
    assert rows[0][H["cf_jdrq"]] == "2021-03-05"  # the date cell as a date
    assert rows[0][H["cf_yxq"]] == "47547"  # the serial as the number typed, parsed as a date later
    assert rows[0][H["cf_nr_fk"]] == "1.5"
    assert rows[0][H["xdr_zjhm"]] == "420106198001011237"  # text stays text, never 4.2E+17
    assert rows[1][H["xdr_mc"]] == "武汉某某商贸有限公司"


def test_xlsx_named_sheet(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "a.xlsx")
    read = read_file(path, sheet="第二批")
    assert read.frame.to_dicts()[0][H["cf_jdrq"]] == "2021年3月6日"
    with pytest.raises(ProblemError) as missing:
        read_file(path, sheet="第三批")
    assert missing.value.problems[0].code == "file.sheet" and "第二批" in missing.value.problems[0].message_zh


def test_xls_legacy_workbook() -> None:
    # Written by xlwt (tests/collect/data/make_xls.py); python-calamine reads BIFF8 itself.
    read = read_file(DATA / "penalties.xls")
    assert read.format == "xls"
    row = read.frame.to_dicts()[0]
    assert row[H["cf_wsh"]] == "武市监罚〔2021〕1号"
    assert (row[H["cf_jdrq"]], row[H["cf_yxq"]], row[H["cf_nr_fk"]]) == ("2021-03-05", "47547", "1.5")
    second = read_file(DATA / "penalties.xls", sheet="第二批").frame.to_dicts()[0]
    assert second[H["cf_jdrq"]] == "2021年3月6日"


def test_xlsx_serial_and_date_cell_load_as_dates(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "p.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    date = book.add_format({"num_format": "yyyy/m/d"})
    row = penalty(1)
    for col, header in enumerate(HEADERS):
        sheet.write_string(0, col, header)
        value = row[header]
        if header == H["cf_jdrq"]:
            sheet.write_datetime(1, col, dt.datetime(2026, 6, 1), date)
        elif header == H["cf_yxq"]:
            sheet.write_number(1, col, 47547)
        elif value is not None:
            sheet.write_string(1, col, value)
    book.close()
    summary = send(path)
    assert (summary.format, summary.inserted, summary.rejected) == ("xlsx", 1, 0)
    with engine.connect() as conn:
        decided, until = conn.execute(sa.text("SELECT decision_date, valid_until FROM records")).one()
    assert str(decided)[:10] == "2026-06-01" and str(until)[:10] == "2030-03-05"


@pytest.mark.parametrize(
    ("suffix", "content"),
    [
        (
            ".json",
            json.dumps([{"名称": "甲", "金额": 1.0, "类别": ["警告", "罚款"]}, {"名称": "乙", "金额": 2.5}]),
        ),
        (
            ".json",
            json.dumps(
                {"records": [{"名称": "甲", "金额": 1, "类别": "警告;罚款"}, {"名称": "乙", "金额": 2.5}]}
            ),
        ),
        (".jsonl", '{"名称": "甲", "金额": 1, "类别": "警告;罚款"}\n\n{"名称": "乙", "金额": 2.5}\n'),
    ],
    ids=["array", "records", "lines"],
)
def test_json_shapes(tmp_path: Path, suffix: str, content: str) -> None:
    path = tmp_path / f"a{suffix}"
    path.write_text(content, encoding="utf-8")
    read = read_file(path)
    assert read.format == suffix[1:]
    assert read.headers == ["名称", "金额", "类别"]
    assert read.frame.to_dicts() == [
        {"名称": "甲", "金额": "1", "类别": "警告;罚款"},
        {"名称": "乙", "金额": "2.5", "类别": None},
    ]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("a.json", '[{"a": 1}', "file.json"),
        ("a.json", '{"rows": 3}', "file.json_shape"),
        ("a.json", "[1, 2]", "file.json_shape"),
        ("a.pdf", "%PDF", "file.format"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: str, code: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProblemError) as refused:
        read_file(path)
    assert refused.value.problems[0].code == code


def test_declared_format_wins_over_the_suffix(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    path.write_text('[{"a": "1"}]', encoding="utf-8")
    assert read_file(path, fmt="json").frame.to_dicts() == [{"a": "1"}]


def test_submitted_json_lines_load(send: Ingest, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n".join(json.dumps({k: v for k, v in penalty(n).items() if v}, ensure_ascii=False) for n in (1, 2)),
        encoding="utf-8",
    )
    summary = send(path, submitter=DEPT)
    assert (summary.format, summary.inserted, summary.rejected) == ("jsonl", 2, 0)


_CELL = st.text(alphabet=st.sampled_from(list('ab 甲乙,"\n\r')), max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(_CELL, min_size=0, max_size=3), min_size=1, max_size=12),
    encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]),
    size=st.integers(1, 5),
)
def test_a_csv_read_in_chunks_of_any_size_is_the_whole_file(
    rows: list[list[str]], encoding: str, size: int
) -> None:
    """Chunks are cut at the record ends the layout scan found (quoted line breaks, blank and short rows
    included) and parsed one by one: together they are exactly the file, row for row."""
    lines = ["x,y,z"] + [",".join('"' + c.replace('"', '""') + '"' if c else "" for c in r) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
        read = read_file(path, header_row=1)
        whole = read.frame
        chunks = list(read.batches(size))
        assert whole.height == read.height == len(rows)
        assert [len(c) for c in chunks] == [min(size, len(rows) - i) for i in range(0, len(rows), size)]
        assert [r for c in chunks for r in c.rows()] == whole.rows()
        expected = [tuple((r + [""] * 3)[i] or None for i in range(3)) for r in rows]
        assert whole.rows() == expected
