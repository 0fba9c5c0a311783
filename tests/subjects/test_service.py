import pytest
import sqlalchemy as sa

from xinyong.store.tables import records
from xinyong.subjects import service
from xinyong.subjects.models import subject_evidence, subject_identifiers, subject_names, subjects
from xinyong.subjects.service import Candidate

USCC = "91350100M000100Y43"  # GB 32100's published example
ORGCODE = USCC[8:17]  # M000100Y4, the 组织机构代码 inside it
IDCARD = "11010519491231002X"


def resolve(engine, clock, protector, *candidates):
    with engine.begin() as conn:
        return service.resolve_many(conn, list(candidates), clock=clock, protector=protector)


def test_new_subject_is_created_once_and_found_by_every_identifier(engine, clock, protector):
    first = resolve(
        engine, clock, protector, Candidate({"uscc": USCC, "regno": "110108000000016"}, name="福州某某公司")
    )
    again = resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="福州某某公司"))
    assert first[0].created and not again[0].created
    assert first[0].subject_id == again[0].subject_id
    with engine.connect() as conn:
        for code in (USCC, "110108000000016", ORGCODE, "M000100Y-4"):
            assert service.find_subject_id(conn, code, protector=protector) == first[0].subject_id
        # typed the way people do: full-width, spaces, lower case
        assert (
            service.find_subject_id(conn, " ９１３５０１００m000100y43 ", protector=protector)
            == first[0].subject_id
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(subjects)).scalar_one() == 1


def test_rows_sharing_an_identifier_in_one_call_share_one_new_subject(engine, clock, protector):
    out = resolve(
        engine,
        clock,
        protector,
        Candidate({"uscc": USCC}, name="甲公司"),
        Candidate({"orgcode": ORGCODE}, name="甲公司"),
        Candidate({"uscc": USCC}, name="甲公司"),
    )
    assert len({r.subject_id for r in out}) == 1
    assert [r.created for r in out] == [True, True, True]


def test_legacy_subject_gets_its_uscc_when_a_new_record_brings_it(engine, clock, protector):
    (legacy,) = resolve(engine, clock, protector, Candidate({"orgcode": ORGCODE}, name="甲公司"))
    (now,) = resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="甲公司"))
    assert now.subject_id == legacy.subject_id and not now.created
    with engine.connect() as conn:
        assert conn.execute(sa.select(subjects.c.uscc)).scalar_one() == USCC


def test_same_uscc_other_name_is_evidence_not_an_overwrite(engine, clock, protector):
    (a,) = resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="甲公司"))
    (b,) = resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="乙公司", source="batch:2"))
    resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="乙公司", source="batch:3"))
    assert b.evidence == []  # evidence kinds on the result list identifier problems only
    with engine.connect() as conn:
        assert conn.execute(sa.select(subjects.c.name)).scalar_one() == "甲公司"
        ev = conn.execute(sa.select(subject_evidence.c.kind, subject_evidence.c.detail)).all()
        names = dict(conn.execute(sa.select(subject_names.c.name, subject_names.c.role)).all())
    assert [e.kind for e in ev] == ["name_mismatch"]  # recorded once, not on every re-send
    assert ev[0].detail == {"registered_name": "甲公司", "observed_name": "乙公司"}
    assert names == {"甲公司": "current", "乙公司": "observed"}
    assert a.subject_id == b.subject_id


def test_registration_authority_renames_and_keeps_the_former_name(engine, clock, protector):
    resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="甲公司"))
    resolve(
        engine, clock, protector, Candidate({"uscc": USCC}, name="甲集团有限公司", authoritative_name=True)
    )
    with engine.connect() as conn:
        sid = service.find_subject_id(conn, USCC, protector=protector)
        view = service.get_subject(conn, sid)
    assert view["name"] == "甲集团有限公司"
    assert {(n["name"], n["role"]) for n in view["names"]} == {
        ("甲公司", "former"),
        ("甲集团有限公司", "current"),
    }


def test_identifiers_pointing_at_two_subjects_are_recorded(engine, clock, protector):
    resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="甲公司"))
    resolve(engine, clock, protector, Candidate({"regno": "110108000000016"}, name="乙公司"))
    (r,) = resolve(
        engine, clock, protector, Candidate({"uscc": USCC, "regno": "110108000000016"}, name="甲公司")
    )
    assert r.evidence == ["identifier_split"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(subject_evidence.c.kind)).scalars().all() == ["identifier_split"]


def test_person_id_number_is_never_stored_in_clear(engine, clock, protector):
    (r,) = resolve(
        engine, clock, protector, Candidate({"idcard": IDCARD}, name="张三", kind="natural_person")
    )
    with engine.connect() as conn:
        row = conn.execute(sa.select(subject_identifiers)).mappings().one()
        assert service.find_subject_id(conn, IDCARD.lower(), protector=protector) == r.subject_id
        view = service.get_subject(conn, r.subject_id)
        dump = " ".join(
            str(v)
            for t in (subjects, subject_identifiers, subject_names)
            for v in conn.execute(sa.select(t)).all()
        )
    assert IDCARD not in dump and row["value"] != IDCARD
    assert protector.decrypt(row["value_cipher"]) == IDCARD
    assert view["identifiers"] == [{"scheme": "idcard", "value": "1101**********002X", "origin": "declared"}]
    assert view["kind"] == "natural_person" and view["division_code"] == "110105"


def _add_record(engine, clock, subject_id: int, key: str) -> None:
    from xinyong.store.tables import batches, organisations

    now = clock.now()
    with engine.begin() as conn:
        org = conn.execute(sa.select(organisations.c.id)).scalar()
        if org is None:
            org = conn.execute(
                organisations.insert()
                .values(uscc=USCC, name="来源", kind="provider", created_at=now)
                .returning(organisations.c.id)
            ).scalar_one()
        batch = conn.execute(
            batches.insert()
            .values(item_code="XZCF", submitter_id=org, status="done", created_at=now)
            .returning(batches.c.id)
        ).scalar_one()
        conn.execute(
            records.insert().values(
                item_code="XZCF",
                source_uscc=USCC,
                source_key=key,
                subject_id=subject_id,
                data={},
                content_hash="x",
                first_batch_id=batch,
                last_batch_id=batch,
                first_seen=now,
                last_seen=now,
                updated_at=now,
            )
        )


def test_merge_moves_everything_and_undo_puts_exactly_it_back(engine, clock, protector):
    (a,) = resolve(engine, clock, protector, Candidate({"uscc": USCC}, name="甲公司"))
    (b,) = resolve(engine, clock, protector, Candidate({"regno": "110108000000016"}, name="甲公司（旧）"))
    _add_record(engine, clock, b.subject_id, "鄂罚〔2020〕1号")
    with engine.begin() as conn:
        merge_id = service.merge_subjects(
            conn,
            keep_id=a.subject_id,
            merge_id=b.subject_id,
            reason="同一企业",
            decided_by="operator",
            clock=clock,
        )
    with engine.connect() as conn:
        assert service.find_subject_id(conn, "110108000000016", protector=protector) == a.subject_id
        assert conn.execute(sa.select(records.c.subject_id)).scalar_one() == a.subject_id
        assert service.get_subject(conn, b.subject_id)["merged_into_id"] == a.subject_id
    with engine.begin() as conn:
        service.undo_merge(conn, merge_id=merge_id, undone_by="operator", clock=clock)
    with engine.connect() as conn:
        assert service.find_subject_id(conn, "110108000000016", protector=protector) == b.subject_id
        assert service.find_subject_id(conn, USCC, protector=protector) == a.subject_id
        assert conn.execute(sa.select(records.c.subject_id)).scalar_one() == b.subject_id
        assert service.get_subject(conn, b.subject_id)["status"] == "active"
    with pytest.raises(ValueError, match="already undone"), engine.begin() as conn:
        service.undo_merge(conn, merge_id=merge_id, undone_by="operator", clock=clock)
