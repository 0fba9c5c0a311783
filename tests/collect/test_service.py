"""Ingest end to end: subjects through the registry, records by identity, versions, provenance, atomicity."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import sqlalchemy as sa

from xinyong.collect import service
from xinyong.runtime import Runtime
from xinyong.store.tables import batches, record_provenance, record_versions, records, rejected_rows
from xinyong.subjects.models import subject_evidence, subject_identifiers, subject_names, subjects
from xinyong.subjects.service import Candidate, resolve_many

from .conftest import CITY, COMPANY, DEPT, DEPT2, PLACEHOLDER, REGNO, UNREGISTERED, Ingest, penalty, reasons


def _all(engine: sa.Engine, query: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(query))


def _count(engine: sa.Engine, table: sa.Table) -> int:
    return _all(engine, sa.select(sa.func.count()).select_from(table))[0][0]


def _data(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else value


# ------------------------------------------------------------------------------------------- subjects


def test_rows_of_one_uscc_are_one_new_subject(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1), penalty(2), penalty(3, xdr_dm1="９１４２０１００ＭＡ４Ｋ０００１０Ｒ")])
    assert summary.inserted == 3
    found = _all(engine, sa.select(subjects.c.id, subjects.c.uscc, subjects.c.kind, subjects.c.name))
    assert [(s.uscc, s.kind, s.name) for s in found] == [(COMPANY, "legal_person", "武汉华信科技有限公司")]
    assert {r.subject_id for r in _all(engine, sa.select(records.c.subject_id))} == {found[0].id}


def test_existing_subject_is_found_by_uscc(send: Ingest, engine: sa.Engine, runtime: Runtime) -> None:
    with engine.begin() as conn:
        (known,) = resolve_many(
            conn,
            [Candidate({"uscc": COMPANY}, name="武汉华信科技有限公司")],
            clock=runtime.clock,
            protector=runtime.protector,
        )
    send([penalty(1)])
    assert _all(engine, sa.select(records.c.subject_id))[0].subject_id == known.subject_id
    assert _count(engine, subjects) == 1


def test_legacy_registration_number_matches(send: Ingest, engine: sa.Engine, runtime: Runtime) -> None:
    with engine.begin() as conn:
        (shop,) = resolve_many(
            conn,
            [Candidate({"regno": REGNO}, name="江岸区张记餐馆", kind="individual_business")],
            clock=runtime.clock,
            protector=runtime.protector,
        )
    send([penalty(1, xdr_lb="个体工商户", xdr_mc="江岸区张记餐馆", xdr_dm1=PLACEHOLDER, xdr_dm2=REGNO)])
    assert _all(engine, sa.select(records.c.subject_id))[0].subject_id == shop.subject_id
    assert _count(engine, subjects) == 1
    # the placeholder is not an identifier: nobody is known by 00000000000000000X
    assert not _all(engine, sa.select(subject_identifiers).where(subject_identifiers.c.value == PLACEHOLDER))


def test_organisation_code_inside_the_uscc_matches_a_legacy_subject(
    send: Ingest, engine: sa.Engine, runtime: Runtime
) -> None:
    with engine.begin() as conn:
        (legacy,) = resolve_many(
            conn,
            [Candidate({"orgcode": COMPANY[8:17]}, name="武汉华信科技有限公司")],
            clock=runtime.clock,
            protector=runtime.protector,
        )
    send([penalty(1)])
    assert _all(engine, sa.select(records.c.subject_id))[0].subject_id == legacy.subject_id
    subject = _all(engine, sa.select(subjects))
    assert len(subject) == 1 and subject[0].uscc == COMPANY  # the legacy subject now has its USCC


def test_same_code_other_name_is_evidence_not_an_overwrite(
    send: Ingest, engine: sa.Engine, runtime: Runtime
) -> None:
    send([penalty(1)])
    send([penalty(2, xdr_mc="武汉华信科技股份有限公司")])
    (subject,) = _all(engine, sa.select(subjects))
    assert subject.name == "武汉华信科技有限公司"
    names = {(n.name, n.role) for n in _all(engine, sa.select(subject_names))}
    assert names == {("武汉华信科技有限公司", "current"), ("武汉华信科技股份有限公司", "observed")}
    (evidence,) = _all(engine, sa.select(subject_evidence))
    assert evidence.kind == "name_mismatch" and evidence.subject_id == subject.id
    assert evidence.detail["observed_name"] == "武汉华信科技股份有限公司"
    assert {r.subject_id for r in _all(engine, sa.select(records.c.subject_id))} == {subject.id}


def test_person_id_number_is_never_stored_in_clear(send: Ingest, engine: sa.Engine) -> None:
    from .conftest import PERSON, person_penalty

    send([person_penalty(1), person_penalty(2, xdr_zjhm=PERSON[:-1] + "2")])  # one good, one rejected
    with engine.connect() as conn:
        for table in ("records", "subject_identifiers", "rejected_rows", "batches", "subjects"):
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                text = json.dumps([str(v) for v in row], ensure_ascii=False)
                assert PERSON not in text and PERSON[:-1] not in text, table


# -------------------------------------------------------------------------------------------- loading


def test_resending_the_same_file_changes_nothing(send: Ingest, engine: sa.Engine, runtime: Runtime) -> None:
    rows = [penalty(1), penalty(2), penalty(3)]
    first = send(rows)
    runtime.clock.advance(days=1)  # type: ignore[attr-defined]
    again = send(rows)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 0)
    found = _all(engine, sa.select(records))
    assert {(r.version, r.first_batch_id, r.last_batch_id) for r in found} == {
        (1, first.batch_id, again.batch_id)
    }
    assert {r.last_seen - r.first_seen for r in found} == {__import__("datetime").timedelta(days=1)}
    assert _count(engine, record_versions) == 0
    actions = sorted((p.batch_id, p.action) for p in _all(engine, sa.select(record_provenance)))
    assert actions == [(first.batch_id, "inserted")] * 3 + [(again.batch_id, "unchanged")] * 3


def test_a_changed_row_is_a_new_version_and_the_old_one_is_kept(send: Ingest, engine: sa.Engine) -> None:
    first = send([penalty(1), penalty(2)])
    second = send([penalty(1, cf_nr_fk="5", cf_nr="罚款五万元"), penalty(2)])
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 1)
    record = _all(engine, sa.select(records).where(records.c.source_key == "武市监罚〔2026〕1号"))[0]
    assert record.version == 2 and _data(record.data)["cf_nr_fk"] == "5"
    (old,) = _all(engine, sa.select(record_versions))
    assert (old.record_id, old.version, old.batch_id, old.reason) == (
        record.id,
        1,
        first.batch_id,
        "resubmitted",
    )
    assert _data(old.data)["cf_nr_fk"] == "3"


def test_department_then_city_collection_system_is_one_record(send: Ingest, engine: sa.Engine) -> None:
    """多头上报: the department sends its penalty, the city platform forwards the same one."""
    direct = send([penalty(1), penalty(2)], submitter=DEPT)
    forwarded = send(
        [penalty(1), penalty(3, cf_sjly="宜昌市市场监督管理局", cf_sjlydm=DEPT2)], submitter=CITY
    )
    assert (forwarded.inserted, forwarded.unchanged) == (1, 1)
    found = _all(engine, sa.select(records.c.id, records.c.source_uscc, records.c.source_key))
    assert sorted((r.source_uscc, r.source_key) for r in found) == sorted(
        [(DEPT, "武市监罚〔2026〕1号"), (DEPT, "武市监罚〔2026〕2号"), (DEPT2, "武市监罚〔2026〕3号")]
    )
    one = next(r.id for r in found if r.source_key == "武市监罚〔2026〕1号")
    provenance = _all(engine, sa.select(record_provenance).where(record_provenance.c.record_id == one))
    assert sorted(p.batch_id for p in provenance) == [direct.batch_id, forwarded.batch_id]
    submitters = dict(_all(engine, sa.select(batches.c.id, batches.c.submitter_id)))
    assert submitters[direct.batch_id] != submitters[forwarded.batch_id]


def test_a_duplicate_chunks_apart_names_the_first_row(send: Ingest, engine: sa.Engine) -> None:
    """Rows are checked a chunk at a time; a repeat far from its first row is still caught, and the same key
    from another department is not a repeat."""
    rows = [penalty(1), penalty(2), penalty(3), penalty(1, cf_sjly="宜昌市市场监督管理局", cf_sjlydm=DEPT2)]
    rows += [penalty(4), penalty(2, cf_nr_fk="9"), penalty(1, cf_nr_fk="8")]
    summary = send(rows, submitter=CITY, chunk_rows=2)
    assert (summary.inserted, summary.rejected) == (5, 2)
    assert reasons(engine, summary.batch_id) == {7: ["row.duplicate_in_file"], 8: ["row.duplicate_in_file"]}
    with engine.connect() as conn:
        found = conn.execute(sa.select(rejected_rows.c.row_number, rejected_rows.c.reasons)).all()
    said = {r.row_number: json.dumps(r.reasons, ensure_ascii=False) for r in found}
    assert "duplicates row 3 of this file" in said[7] and "duplicates row 2 of this file" in said[8]


def test_an_identity_hash_collision_is_not_a_duplicate() -> None:
    """Earlier chunks' identities are found by a 64-bit hash; two identities that share one stay distinct."""
    import polars as pl

    from xinyong.collect.prepare import KEY, ROW, SOURCE

    chunk = pl.DataFrame({ROW: [5, 6], SOURCE: [DEPT, DEPT], KEY: ["罚〔2026〕1号", "罚〔2026〕2号"]})
    hashes = chunk.select(pl.struct(SOURCE, KEY).hash())[SOURCE].to_list()
    seen = pl.DataFrame(  # row 2 had the first identity; row 3 another one whose hash equals the second's
        {
            service.IDENTITY_HASH: hashes,
            KEY: ["罚〔2026〕1号", "别的编号"],
            SOURCE: [DEPT, DEPT],
            "__first": [2, 3],
        },
        schema=service.SEEN_SCHEMA,
    )
    marked, grown = service._mark_duplicates(chunk, seen)
    assert marked["__dup"].to_list() == [True, False]
    assert marked["__first"].to_list() == [2, 6]
    assert grown.height == 3 and set(grown[KEY]) == {"罚〔2026〕1号", "罚〔2026〕2号", "别的编号"}


def test_same_number_from_two_departments_is_two_records(send: Ingest, engine: sa.Engine) -> None:
    send([penalty(1), penalty(1, cf_sjly="宜昌市市场监督管理局", cf_sjlydm=DEPT2)], submitter=CITY)
    assert _count(engine, records) == 2


def test_duplicate_inside_a_file_keeps_the_first(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1), penalty(2), penalty(1, cf_nr_fk="9")])
    assert (summary.inserted, summary.rejected) == (2, 1)
    assert reasons(engine, summary.batch_id) == {4: ["row.duplicate_in_file"]}
    record = _all(engine, sa.select(records.c.data).where(records.c.source_key == "武市监罚〔2026〕1号"))[0]
    assert _data(record.data)["cf_nr_fk"] == "3"


def test_another_departments_row_with_the_same_number_does_not_close_a_rejected_row(
    send: Ingest, engine: sa.Engine
) -> None:
    send([penalty(2, cf_nr_fk=None)], submitter=CITY)
    send([penalty(2, cf_sjly="宜昌市市场监督管理局", cf_sjlydm=DEPT2)], submitter=CITY)
    statuses = _all(engine, sa.select(rejected_rows.c.source_uscc, rejected_rows.c.status))
    assert [tuple(r) for r in statuses] == [(DEPT, "open")]


def test_rejected_rows_are_kept_until_a_later_batch_corrects_them(send: Ingest, engine: sa.Engine) -> None:
    first = send([penalty(1), penalty(2, cf_nr_fk=None), penalty(3, cf_jdrq="2021-13-45")])
    assert (first.inserted, first.rejected) == (1, 2)
    fixed = send([penalty(2)])  # only the fixed row goes back
    assert (fixed.inserted, fixed.rejected) == (1, 0)
    state = {
        r.source_key: (r.status, r.corrected_by_batch_id)
        for r in _all(
            engine,
            sa.select(
                rejected_rows.c.source_key, rejected_rows.c.status, rejected_rows.c.corrected_by_batch_id
            ),
        )
    }
    assert state == {
        "武市监罚〔2026〕2号": ("corrected", fixed.batch_id),
        "武市监罚〔2026〕3号": ("open", None),
    }


def test_a_row_rejected_again_stays_open(send: Ingest, engine: sa.Engine) -> None:
    send([penalty(1, cf_nr_fk=None)])
    send([penalty(1, cf_nr_fk="约三万元")])
    assert [r.status for r in _all(engine, sa.select(rejected_rows.c.status))] == ["open", "open"]


def test_unknown_submitter_is_told_how_to_register(send: Ingest, engine: sa.Engine) -> None:
    from xinyong.problems import ProblemError

    with pytest.raises(ProblemError) as refused:
        send([penalty(1)], submitter=UNREGISTERED)
    problem = refused.value.problems[0]
    assert problem.code == "batch.unknown_submitter"
    assert "xinyong org add" in problem.message_zh and UNREGISTERED in problem.message_en
    assert _count(engine, batches) == 0


def test_unknown_item(send: Ingest) -> None:
    from xinyong.problems import ProblemError

    with pytest.raises(ProblemError) as refused:
        send([penalty(1)], item="NOPE")
    assert refused.value.problems[0].code == "catalog.unknown_item"


def test_a_failure_while_checking_ahead_surfaces_and_leaves_nothing(
    send: Ingest, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next chunk is checked in a worker thread while this one is written: an error there reaches the
    batch in chunk order, and the batch is rolled back like any other failure."""
    before = send([penalty(1)])
    real = service.prepare.prepare
    calls = []

    def fails_on_the_second_chunk(frame: Any, ctx: Any) -> Any:
        calls.append(threading.current_thread().name)
        if len(calls) == 2:
            raise OSError("checking failed")
        return real(frame, ctx)

    monkeypatch.setattr(service.prepare, "prepare", fails_on_the_second_chunk)
    rows = [penalty(2), penalty(3, xdr_dm1="91420106MA4K000378", xdr_mc="新公司"), penalty(4, cf_nr_fk=None)]
    with pytest.raises(OSError, match="checking failed"):
        send(rows, chunk_rows=1)
    assert all(name.startswith("ingest-check") for name in calls)  # not on the writing thread
    assert [b.id for b in _all(engine, sa.select(batches.c.id))] == [before.batch_id]
    assert (
        _count(engine, records) == 1 and _count(engine, subjects) == 1 and _count(engine, rejected_rows) == 0
    )
    monkeypatch.undo()
    again = send(rows, chunk_rows=1)
    assert (again.inserted, again.rejected, again.reconciles) == (2, 1, True)


def test_a_crash_part_way_leaves_nothing(
    send: Ingest, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = send([penalty(1)])

    def crash(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk gone")

    # Everything is written (three chunks of one row), then the process dies before the commit.
    monkeypatch.setattr(service, "_finish_batch", crash)
    rows = [penalty(2), penalty(3, xdr_dm1="91420106MA4K000378", xdr_mc="新公司"), penalty(4, cf_nr_fk=None)]
    with pytest.raises(OSError):
        send(rows, chunk_rows=1)
    assert [b.id for b in _all(engine, sa.select(batches.c.id))] == [before.batch_id]
    assert (
        _count(engine, records) == 1 and _count(engine, subjects) == 1 and _count(engine, rejected_rows) == 0
    )
    monkeypatch.undo()
    again = send(rows, chunk_rows=1)
    assert (again.inserted, again.rejected) == (2, 1)


def test_a_crash_in_a_first_large_load_leaves_nothing_and_every_index(
    send: Ingest, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first load into an empty table drops its secondary indexes to build them at the end: a crash
    before the commit rolls the drop back with the rows."""
    with engine.connect() as conn:
        indexes = sa.inspect(conn).get_indexes("records")

    def crash(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(service, "_finish_batch", crash)
    rows = [penalty(2), penalty(3, xdr_dm1="91420106MA4K000378", xdr_mc="新公司"), penalty(4, cf_nr_fk=None)]
    with pytest.raises(OSError):
        send(rows, chunk_rows=1, index_after_rows=1)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_indexes("records") == indexes
    assert _count(engine, batches) == 0 and _count(engine, records) == 0
    monkeypatch.undo()
    again = send(rows, chunk_rows=1, index_after_rows=1)
    assert (again.inserted, again.rejected) == (2, 1)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_indexes("records") == indexes
