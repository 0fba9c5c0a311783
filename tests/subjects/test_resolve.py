"""The vectorised resolution with a ResolutionMemo: a batch resolves its file chunk by chunk, and a candidate
met again in a later chunk must come out as the first time, without writing anything twice."""

import datetime as dt
import shutil

import polars as pl
import sqlalchemy as sa

from xinyong.store.engine import make_engine
from xinyong.subjects.models import subject_evidence, subject_identifiers, subject_names, subjects
from xinyong.subjects.resolve import ResolutionMemo, resolve_frame

USCC = "91350100M000100Y43"
OTHER_USCC = "91420100MA4K00001X"
REGNO = "110108000000016"
NOW = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)


def _frame(*rows: dict[str, str | None]) -> pl.DataFrame:
    columns = ("uscc", "regno", "name")
    return pl.DataFrame(
        [{c: row.get(c) for c in columns} for row in rows], schema=dict.fromkeys(columns, pl.String)
    )


def _resolve_in_chunks(engine, protector, chunks, memo):
    with engine.begin() as conn:
        return [
            resolve_frame(conn, chunk, now=NOW, protector=protector, source="batch:1", memo=memo)
            for chunk in chunks
        ]


def _table_rows(engine) -> dict[str, list[tuple]]:
    def rows(*columns: sa.ColumnElement) -> list[tuple]:
        return sorted(tuple(r) for r in conn.execute(sa.select(*columns)))

    with engine.connect() as conn:
        return {
            "subjects": rows(subjects.c.id, subjects.c.uscc, subjects.c.name),
            "names": rows(subject_names.c.subject_id, subject_names.c.name, subject_names.c.role),
            "identifiers": rows(
                subject_identifiers.c.subject_id, subject_identifiers.c.scheme, subject_identifiers.c.value
            ),
            "evidence": rows(subject_evidence.c.subject_id, subject_evidence.c.kind),
        }


def test_a_candidate_met_again_takes_its_first_subject_and_writes_nothing_more(engine, protector):
    # Two subjects exist; one candidate's identifiers point at both (a split) and one names a subject
    # otherwise than its registered name (an observed name): each is said once, however often it recurs.
    with engine.begin() as conn:
        resolve_frame(
            conn,
            _frame({"uscc": USCC, "name": "甲公司"}, {"regno": REGNO, "name": "乙公司"}),
            now=NOW,
            protector=protector,
            source="registry",
        )
    split = {"uscc": USCC, "regno": REGNO, "name": "甲公司"}
    renamed = {"uscc": USCC, "name": "甲公司（武汉）"}
    new = {"uscc": OTHER_USCC, "name": "丙公司"}
    chunks = [
        _frame(split, renamed, new),
        _frame(new, split),
        _frame(renamed, new, split, {"uscc": OTHER_USCC}),
    ]
    memo = ResolutionMemo()
    first, second, third = _resolve_in_chunks(engine, protector, chunks, memo)

    created_id = first["subject_id"][2]
    assert first["created"].to_list() == [False, False, True]
    assert first["split"].to_list() == [True, False, False]
    assert second["subject_id"].to_list() == [created_id, first["subject_id"][0]]
    assert third["subject_id"].to_list() == [
        first["subject_id"][1],
        created_id,
        first["subject_id"][0],
        created_id,
    ]
    assert not second["created"].any() and not third["created"].any()
    rows = _table_rows(engine)
    assert sorted(kind for _, kind in rows["evidence"]) == ["identifier_split", "name_mismatch"]
    assert [name for _, name, role in rows["names"] if role == "observed"] == ["甲公司（武汉）"]
    assert len(rows["subjects"]) == 3


def test_with_or_without_a_memo_the_registry_comes_out_the_same(engine, protector, tmp_path, sqlite_template):
    """The same chunks resolved with a memo, and one chunk at a time without one, into two databases."""
    rows = [
        {"uscc": USCC, "name": "甲公司"},
        {"regno": REGNO, "name": "乙公司"},
        {"uscc": OTHER_USCC, "regno": REGNO, "name": "乙公司"},
        {"uscc": USCC, "name": "甲公司（武汉）"},
        {"regno": REGNO, "name": "乙公司"},
    ]
    chunks = [_frame(*rows[i : i + 2]) for i in range(0, len(rows), 2)] * 2
    _resolve_in_chunks(engine, protector, chunks, ResolutionMemo())
    shutil.copyfile(sqlite_template, tmp_path / "without.db")
    other = make_engine(f"sqlite:///{tmp_path / 'without.db'}")
    for chunk in chunks:
        _resolve_in_chunks(other, protector, [chunk], None)
    with_memo, without = _table_rows(engine), _table_rows(other)
    assert with_memo["subjects"] == without["subjects"]
    assert with_memo["names"] == without["names"]
    assert with_memo["identifiers"] == without["identifiers"]
    # Without a memo a split is recorded again by each chunk that meets it; with one, once.
    assert set(with_memo["evidence"]) == set(without["evidence"])
    assert len(with_memo["evidence"]) <= len(without["evidence"])


def test_a_full_memo_resolves_the_rest_as_if_it_were_not_there(engine, protector):
    memo = ResolutionMemo(capacity=1)
    first, second = _resolve_in_chunks(
        engine,
        protector,
        [_frame({"uscc": USCC, "name": "甲公司"}, {"uscc": OTHER_USCC, "name": "丙公司"})] * 2,
        memo,
    )
    assert memo.known.height == 1
    assert second["subject_id"].to_list() == first["subject_id"].to_list()
    assert len(_table_rows(engine)["subjects"]) == 2
