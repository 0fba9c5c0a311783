"""Files no test author would write, made by hypothesis: whatever the bytes, the ingest records a batch
(loaded or refused), never raises, keeps its counts reconciled, and puts no ID number in clear in the summary.

Runs on SQLite and PostgreSQL like every storage test. XINYONG_FUZZ_EXAMPLES sets the examples per
strategy (default 20, enough to find the crashes of issue 8 again; a nightly run can set thousands).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.store.tables import batches

from .conftest import COMPANY, HEADERS, PERSON, Ingest, csv_bytes, penalty, person_penalty

EXAMPLES = int(os.environ.get("XINYONG_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the work tree; a failure prints its example to replay
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUFFIXES = [".csv", ".txt", ".xlsx", ".xls", ".json", ".jsonl"]
_names = itertools.count()


def _xlsx(rows: list[list[str | None]]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


_ROWS = [penalty(1), person_penalty(2), penalty(3, cf_cflb="警告；罚款")]
SEEDS = {
    ".csv": csv_bytes(_ROWS).encode("gb18030"),
    ".json": json.dumps([{k: v for k, v in r.items() if v} for r in _ROWS], ensure_ascii=False).encode(),
    ".jsonl": "\n".join(json.dumps(r, ensure_ascii=False) for r in _ROWS).encode(),
    ".xlsx": _xlsx([HEADERS, *([r[h] for h in HEADERS] for r in _ROWS)]),
}
SPECIAL = [
    b'"',
    b",",
    b"\n",
    b"\r",
    b"\x00",
    b"\xff",
    b"[",
    b"{",
    b"<",
    b"&",
    "张伟".encode(),
    PERSON.encode(),
]


def _ingest(send: Ingest, engine: sa.Engine, directory: Path, suffix: str, content: bytes) -> None:
    path = directory / f"fuzz-{next(_names)}{suffix}"
    path.write_bytes(content)
    summary = send(path)  # `send` asserts received = inserted + updated + unchanged + rejected
    assert summary.status in ("done", "refused") and summary.batch_id is not None
    for problem in summary.problems:
        assert problem.message_zh and problem.message_en
    assert PERSON not in json.dumps(summary.as_dict(), ensure_ascii=False)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(batches.c.status, batches.c.received, batches.c.rejected).where(
                batches.c.id == summary.batch_id
            )
        ).one()
    assert tuple(stored) == (summary.status, summary.received, summary.rejected)


@FUZZ
@given(content=st.binary(max_size=2048), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(send: Ingest, engine: sa.Engine, tmp_path: Path, content: bytes, suffix: str) -> None:
    _ingest(send, engine, tmp_path, suffix, content)


_cell = st.one_of(
    st.text(alphabet=st.sampled_from([*',"\r\n\x00 ;；甲', "\u3000"]), max_size=5),
    st.sampled_from(
        ["警告", "罚款", PERSON, COMPANY, "张伟", "2026-06-10", "3", "9" * 4400, "没收违法所得、没收非法财物"]
    ),
)


@FUZZ
@given(
    title=st.lists(st.lists(_cell, max_size=3), max_size=3),
    header=st.permutations(HEADERS).flatmap(
        lambda hs: st.lists(st.sampled_from(hs), min_size=1, unique=True)
    ),
    rows=st.lists(st.lists(_cell, max_size=25), max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
def test_csv_like_text(
    send: Ingest,
    engine: sa.Engine,
    tmp_path: Path,
    title: list[list[str]],
    header: list[str],
    rows: list[list[str]],
    encoding: str,
    line_end: str,
) -> None:
    lines = [",".join(r) for r in [*title, header, *rows]]  # deliberately unquoted: stray quotes and all
    _ingest(send, engine, tmp_path, ".csv", line_end.join(lines).encode(encoding))


@st.composite
def _mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["set", "insert", "delete", "truncate", "repeat"]))
        if action == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(SPECIAL) | st.binary(min_size=1, max_size=6))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 32))]
        elif action == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 50))
    return bytes(data)


@FUZZ
@given(choice=st.sampled_from(sorted(SEEDS)).flatmap(lambda s: st.tuples(st.just(s), _mutated(SEEDS[s]))))
def test_mutated_valid_files(
    send: Ingest, engine: sa.Engine, tmp_path: Path, choice: tuple[str, bytes]
) -> None:
    suffix, content = choice
    _ingest(send, engine, tmp_path, suffix, content)


def _rezipped(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)
    return buffer.getvalue()


_PARTS = {
    i.filename: zipfile.ZipFile(io.BytesIO(SEEDS[".xlsx"])).read(i)
    for i in zipfile.ZipFile(io.BytesIO(SEEDS[".xlsx"])).infolist()
}
_XML = ["xl/sharedStrings.xml", "xl/worksheets/sheet1.xml", "xl/workbook.xml"]


@FUZZ
@given(part=st.sampled_from(_XML).flatmap(lambda p: st.tuples(st.just(p), _mutated(_PARTS[p]))))
def test_mutated_workbook_xml(
    send: Ingest, engine: sa.Engine, tmp_path: Path, part: tuple[str, bytes]
) -> None:
    """Inside a sound zip: the Excel reader's own parsing of broken XML."""
    name, xml = part
    _ingest(send, engine, tmp_path, ".xlsx", _rezipped({**_PARTS, name: xml}))


@pytest.mark.parametrize("suffix", sorted(SEEDS))
def test_the_seeds_load(send: Ingest, engine: sa.Engine, tmp_path: Path, suffix: str) -> None:
    """The unmutated files are valid: what the mutations start from is a file that loads."""
    path = tmp_path / f"seed{suffix}"
    path.write_bytes(SEEDS[suffix])
    summary = send(path)
    assert (summary.status, summary.inserted, summary.rejected) == ("done", 3, 0)
