"""Who may write which record: the source itself or a system forwarding for it; never another department.

Issue #8 item 1: a provider uploaded a row naming another department as 数据来源单位, with that department's
文号, and changed its penalty, amount and company (`updated: 1`). Every refusal here has its sibling showing
the owner, or a collection system the tree places above it, doing the same thing successfully.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from xinyong.codes import make_uscc
from xinyong.collect.feedback import build_feedback
from xinyong.runtime import Runtime
from xinyong.security.organisations import add_organisation
from xinyong.store.tables import record_provenance, record_versions, records, rejected_rows
from xinyong.subjects.models import subject_identifiers, subjects

from .conftest import (
    CITY,
    COMPANY,
    COMPANY2,
    DEPT,
    DEPT2,
    OF_DEPT2,
    OTHER_COMPANY,
    PERSON,
    REWRITE,
    UNREGISTERED,
    Ingest,
    penalty,
    person_penalty,
    reasons,
    record_of,
)

# Another city's collection system: registered, but the tree does not place DEPT2 below it.
OTHER_SYSTEM = make_uscc("1", "1", "420500", "Q0500009")


@pytest.fixture(autouse=True)
def other_system(runtime: Runtime, orgs: dict[str, str]) -> str:
    with runtime.engine.begin() as conn:
        add_organisation(
            conn, name="宜昌市信用信息汇集系统", uscc=OTHER_SYSTEM, kind="credit_office", clock=runtime.clock
        )
    return OTHER_SYSTEM


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def _messages(engine: sa.Engine, batch_id: int | None) -> list[dict[str, str]]:
    with engine.connect() as conn:
        found = conn.execute(sa.select(rejected_rows.c.reasons).where(rejected_rows.c.batch_id == batch_id))
        return [p for (problems,) in found for p in problems]


KEY = "武市监罚〔2026〕1号"


def test_a_provider_cannot_change_another_departments_record(send: Ingest, engine: sa.Engine) -> None:
    created = send([penalty(1, **OF_DEPT2)], submitter=CITY)  # the city system forwards for DEPT2
    assert (created.inserted, created.rejected) == (1, 0)
    before = record_of(engine, DEPT2, KEY)
    assert before is not None

    attack = send([penalty(1, **OF_DEPT2, **REWRITE, **OTHER_COMPANY)], submitter=DEPT)
    assert (attack.inserted, attack.updated, attack.unchanged, attack.rejected) == (0, 0, 0, 1)
    assert reasons(engine, attack.batch_id) == {2: ["row.source_not_permitted"]}
    after = record_of(engine, DEPT2, KEY)
    assert after == before  # value, amount, subject, version, last batch: all as they were
    assert _count(engine, record_versions) == 0
    with engine.connect() as conn:  # the attacker's batch left no provenance on the record either
        batches_seen = conn.execute(sa.select(record_provenance.c.batch_id)).scalars().all()
        named = conn.execute(sa.select(subject_identifiers.c.value)).scalars().all()
    assert attack.batch_id not in batches_seen
    assert COMPANY2 not in named  # nor a subject for the company the row named

    # The sibling: the same change sent by the system that forwards for DEPT2 is an update.
    fixed = send([penalty(1, **OF_DEPT2, **REWRITE)], submitter=CITY)
    assert (fixed.updated, fixed.rejected) == (1, 0)
    assert record_of(engine, DEPT2, KEY)["data"]["cf_nr_fk"] == "0.01"  # type: ignore[index]


def test_a_provider_cannot_create_records_in_another_departments_name(
    send: Ingest, engine: sa.Engine
) -> None:
    refused = send([penalty(1, **OF_DEPT2, **OTHER_COMPANY), penalty(2)], submitter=DEPT)
    assert (refused.inserted, refused.rejected) == (1, 1)  # its own row loads; the other is refused
    assert reasons(engine, refused.batch_id) == {2: ["row.source_not_permitted"]}
    assert (
        record_of(engine, DEPT2, KEY) is None and record_of(engine, DEPT, "武市监罚〔2026〕2号") is not None
    )
    with engine.connect() as conn:
        assert conn.execute(sa.select(subjects.c.uscc)).scalars().all() == [COMPANY]


def test_the_message_names_both_organisations_and_no_row_content(
    send: Ingest, engine: sa.Engine, runtime: Runtime
) -> None:
    summary = send([person_penalty(1, **OF_DEPT2)], submitter=DEPT)
    (problem,) = _messages(engine, summary.batch_id)
    assert problem["code"] == "row.source_not_permitted" and problem["field"] == "cf_sjlydm"
    for text in (problem["message_zh"], problem["message_en"]):
        assert "武汉市市场监督管理局" in text and DEPT in text  # the submitter
        assert "宜昌市市场监督管理局" in text and DEPT2 in text  # the source
        assert PERSON not in text and PERSON[:6] not in text and "张伟" not in text
    with engine.begin() as conn:  # the provider's feedback file carries the reason to its clerk
        feedback = build_feedback(conn, summary.batch_id, runtime)  # type: ignore[arg-type]
    assert "无权新增或更改该单位的记录" in feedback.rows[0][-1]


def test_a_system_forwards_only_for_what_the_tree_places_below_it(send: Ingest, engine: sa.Engine) -> None:
    below = send([penalty(1, **OF_DEPT2), penalty(2)], submitter=CITY)
    assert (below.inserted, below.rejected) == (2, 0)
    elsewhere = send([penalty(3, **OF_DEPT2)], submitter=OTHER_SYSTEM)
    assert reasons(engine, elsewhere.batch_id) == {2: ["row.source_not_permitted"]}
    upwards = send([penalty(4, cf_sjly="武汉市公共信用信息共享平台", cf_sjlydm=CITY)], submitter=DEPT)
    assert reasons(engine, upwards.batch_id) == {2: ["row.source_not_permitted"]}  # never up the tree
    assert _count(engine, records) == 2


def test_an_unregistered_source_is_refused_with_how_to_register_it(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_sjly="襄阳市市场监督管理局", cf_sjlydm=UNREGISTERED)], submitter=CITY)
    (problem,) = _messages(engine, summary.batch_id)
    assert problem["code"] == "row.source_unregistered"
    assert f"--uscc {UNREGISTERED}" in problem["message_zh"] and f"--parent {CITY}" in problem["message_en"]
    assert _count(engine, records) == 0


def test_an_invalid_source_code_is_one_cell_problem_not_two(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_sjlydm=DEPT[:-1] + "0")], submitter=DEPT)
    assert reasons(engine, summary.batch_id) == {2: ["row.identifier"]}


# --------------------------------------------------------------------- which subject a record names


def test_a_resubmission_naming_another_subject_is_refused(send: Ingest, engine: sa.Engine) -> None:
    send([penalty(1), penalty(2)])
    before = record_of(engine, DEPT, KEY)
    again = send([penalty(1, cf_nr_fk="5", **OTHER_COMPANY), penalty(2, cf_nr_fk="7")])
    assert (again.updated, again.rejected) == (1, 1)  # the sibling row, same subject, is an update
    assert reasons(engine, again.batch_id) == {2: ["row.subject_changed"]}
    assert record_of(engine, DEPT, KEY) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(subjects.c.uscc)).scalars().all() == [COMPANY]  # nothing created
    (problem,) = _messages(engine, again.batch_id)
    assert "行政处罚决定书文号" in problem["message_zh"] and "武汉某某" not in problem["message_zh"]


def test_a_person_record_cannot_be_moved_to_another_person(send: Ingest, engine: sa.Engine) -> None:
    send([person_penalty(1)])
    other = "11010519491231002X"
    summary = send([person_penalty(1, xdr_zjhm=other, cf_nr="警告（更正）")])
    assert reasons(engine, summary.batch_id) == {2: ["row.subject_changed"]}
    (problem,) = _messages(engine, summary.batch_id)
    assert other not in json.dumps(problem, ensure_ascii=False)
    same = send([person_penalty(1, cf_nr="警告（更正）")])
    assert (same.updated, same.rejected) == (1, 0)


def test_the_same_subject_by_another_of_its_codes_is_an_update(send: Ingest, engine: sa.Engine) -> None:
    """The subject is the one resolution finds, not the same cell text: an added legacy code is fine."""
    send([penalty(1)])
    summary = send([penalty(1, xdr_dm1="９１４２０１００ＭＡ４Ｋ０００１０Ｒ", cf_nr_fk="4")])
    assert (summary.updated, summary.rejected) == (1, 0)
