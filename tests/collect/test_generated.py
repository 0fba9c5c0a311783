"""The generator's bad rows are exactly the rejected rows, for the right reasons, on both databases.

The files are as providers really send them: GB18030, full-width codes, mixed date styles, Excel serial
dates, stray spaces, in-file duplicates and every kind of defect the generator knows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from xinyong.catalog.loader import load_catalog
from xinyong.collect import service
from xinyong.demo.generate import DEFECTS, Generated, licences, make_world, penalties
from xinyong.demo.seed import register_departments
from xinyong.runtime import Runtime
from xinyong.store.bulk import drop_secondary_indexes

from .conftest import CITY, Ingest, reasons

# The code each defect must produce (a row may carry a second, consequential one: see below).
EXPECTED = {
    "bad_uscc_check": "row.identifier",
    "missing_name": "row.required",
    "bad_date": "row.date",
    "future_date": "row.future_date",
    "unknown_category": "row.enum",
    "fine_missing": "row.required_if",
    "duplicate_key": "row.duplicate_in_file",
    "valid_before_decision": "row.valid_before_decision",
    "bad_idcard": "row.identifier",
    "bad_amount": "row.decimal",
}
# A decision moved to 2099 also lies after the (unchanged) end of validity: both are reported.
ALSO = {"future_date": {"row.valid_before_decision"}}
END = dt.date(2026, 6, 10)  # before the fixed clock's day, so that only the planted future dates are future


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return make_world(400, seed=7)


@pytest.fixture(autouse=True)
def departments(world, runtime: Runtime, orgs: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """The generated departments, below the city collection system that sends their files."""
    with runtime.engine.begin() as conn:
        register_departments(conn, world.departments, parent_uscc=CITY, clock=runtime.clock)


def _check(generated: Generated, summary_batch: int | None, engine: sa.Engine) -> None:
    got = reasons(engine, summary_batch)
    defects = generated.defects.to_list()
    planted = {i + 2: d for i, d in enumerate(defects) if d is not None}  # CSV row numbers
    missed, wrongly = sorted(set(planted) - set(got)), sorted(set(got) - set(planted))
    assert not missed and not wrongly, f"missed: {missed[:10]}, wrongly rejected: {wrongly[:10]}"
    wrong = {
        row: (planted[row], codes)
        for row, codes in got.items()
        if set(codes) - ALSO.get(planted[row], set()) != {EXPECTED[planted[row]]}
    }
    assert not wrong, list(wrong.items())[:10]


def test_penalties_in_gb18030(world, send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    item = load_catalog().item("XZCF")
    generated = penalties(world, 3000, item=item, seed=11, end=END, bad_fraction=0.05)
    assert set(generated.defects.drop_nulls()) == set(DEFECTS)  # every kind is in the file
    path = tmp_path / "penalties.csv"
    path.write_bytes(generated.frame.write_csv().encode("gb18030"))
    summary = send(path, submitter=CITY)
    assert summary.encoding == "gb18030" and summary.format == "csv"
    assert summary.rejected == int(generated.bad.sum())
    assert summary.inserted == 3000 - summary.rejected
    _check(generated, summary.batch_id, engine)


def test_licences(world, send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    item = load_catalog().item("XZXK")
    generated = licences(world, 1500, item=item, seed=12, end=END, bad_fraction=0.05)
    path = tmp_path / "licences.csv"
    generated.frame.write_csv(path)
    summary = send(path, submitter=CITY, item="XZXK")
    assert summary.rejected == int(generated.bad.sum()) and summary.rejected > 0
    _check(generated, summary.batch_id, engine)


def test_resending_the_generated_file_is_all_unchanged(
    world,
    send: Ingest,
    runtime: Runtime,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    item = load_catalog().item("XZCF")
    generated = penalties(world, 1000, item=item, seed=13, end=END, bad_fraction=0.02)
    path = tmp_path / "p.csv"
    generated.frame.write_csv(path)
    first = send(path, submitter=CITY)
    again = send(path, submitter=CITY)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (
        0,
        0,
        first.inserted,
        first.rejected,
    )
    assert pl.Series(generated.bad).sum() == first.rejected


def _indexes(engine: sa.Engine, table: str = "records") -> dict[str, tuple[tuple[str, ...], bool]]:
    with engine.connect() as conn:
        found = sa.inspect(conn).get_indexes(table)
    return {ix["name"]: (tuple(ix["column_names"]), bool(ix["unique"])) for ix in found}


def test_a_first_large_load_builds_the_indexes_after_and_finds_the_same(  # type: ignore[no-untyped-def]
    world, send: Ingest, engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load into an empty records table drops the secondary indexes and builds them after the
    rows are in (provenance's too): the verdict is the same row for row, the indexes are all back, and a
    second send of the same file (the ordinary path, indexes in place) finds every record unchanged."""
    indexes, provenance = _indexes(engine), _indexes(engine, "record_provenance")
    dropped: dict[str, list[str]] = {}

    def drop(conn: sa.Connection, table: str) -> list[str]:
        dropped[table] = drop_secondary_indexes(conn, table)
        return dropped[table]

    monkeypatch.setattr(service, "drop_secondary_indexes", drop)
    item = load_catalog().item("XZCF")
    generated = penalties(world, 1500, item=item, seed=12, end=END, bad_fraction=0.05)
    path = tmp_path / "penalties.csv"
    path.write_bytes(generated.frame.write_csv().encode("gb18030"))
    first = send(path, submitter=CITY, chunk_rows=400, index_after_rows=1)
    secondary = [name for name, (_, unique) in indexes.items() if not unique]
    assert len(dropped["records"]) == len(secondary) >= 4  # the first-load path was taken
    assert [ix.split(" ON ")[0] for ix in dropped["record_provenance"]] == [
        "CREATE INDEX ix_record_provenance_batch_id"
    ]
    assert _indexes(engine) == indexes and _indexes(engine, "record_provenance") == provenance
    assert first.inserted == 1500 - first.rejected and first.rejected == int(generated.bad.sum())
    _check(generated, first.batch_id, engine)
    again = send(path, submitter=CITY, chunk_rows=400, index_after_rows=1)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.inserted)
    assert list(dropped) == ["records", "record_provenance"]  # a table with records keeps its indexes
