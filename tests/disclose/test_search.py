"""Name, pinyin-initials and identifier search, with and without the index, and its rebuild."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from xinyong.codes import make_uscc
from xinyong.disclose.limits import QueryRefused
from xinyong.disclose.models import search_gram_stats, search_grams
from xinyong.disclose.search import (
    PINYIN_VARIANTS,
    active_build,
    initials,
    initials_variants,
    name_key,
    rebuild,
    refresh,
    search,
)
from xinyong.runtime import Runtime
from xinyong.subjects.models import subjects
from xinyong.subjects.service import Candidate, resolve_many

NAMES = {
    "HX1": "武汉华信科技有限公司",
    "HX2": "武汉华信科技股份有限公司",
    "HXW": "武汉华夏物流有限公司",
    "BANK": "中国银行股份有限公司武汉分行",
    "CJ": "襄阳长江建筑工程有限公司",
    "OLD": "荆州楚天商贸有限公司",
}
PERSON_ID = "11010519491231002X"


def codes() -> dict[str, str]:
    return {label: make_uscc("9", "1", "420100", f"MA4K{i:04d}") for i, label in enumerate(NAMES, start=1)}


@pytest.fixture
def registry(runtime: Runtime) -> dict[str, int]:
    uscc = codes()
    with runtime.engine.begin() as conn:
        found = resolve_many(
            conn,
            [Candidate({"uscc": uscc[k]}, name=n) for k, n in NAMES.items()]
            + [Candidate({"idcard": PERSON_ID}, name="张三丰", kind="natural_person")],
            clock=runtime.clock,
            protector=runtime.protector,
        )
        # 荆州楚天商贸 renamed by the registration authority: its old name becomes a 曾用名.
        resolve_many(
            conn,
            [Candidate({"uscc": uscc["OLD"]}, name="荆州楚天供应链管理有限公司", authoritative_name=True)],
            clock=runtime.clock,
            protector=runtime.protector,
        )
    ids = {label: r.subject_id for label, r in zip([*NAMES, "PERSON"], found, strict=True)}
    return ids


def find(runtime: Runtime, q: str) -> list[str]:
    with runtime.engine.connect() as conn:
        return [h.name for h in search(conn, q, protector=runtime.protector).hits]


def test_keys_and_initials() -> None:
    assert name_key(" （武汉）华信 Ｋｅｊｉ ") == "武汉华信keji"
    assert initials("武汉华信科技有限公司") == "whhxkjyxgs"
    assert initials("中国银行武汉分行") == "zgyhwhfh"  # 行 read hang in 银行, by pypinyin's phrases
    assert initials("重庆长江ABC") == "cqcjabc"


def test_search_works_before_any_index_is_built(runtime: Runtime, registry: dict[str, int]) -> None:
    assert find(runtime, "华信") == ["武汉华信科技有限公司", "武汉华信科技股份有限公司"]


def test_index_answers_substrings_pinyin_identifiers(runtime: Runtime, registry: dict[str, int]) -> None:
    summary = rebuild(runtime.engine, clock=runtime.clock)
    assert summary.subjects == len(NAMES) and summary.slot == "a"
    assert find(runtime, "华信") == ["武汉华信科技有限公司", "武汉华信科技股份有限公司"]
    assert find(runtime, "武汉华信科技有限公司")[0] == "武汉华信科技有限公司"  # the exact name ranks first
    # 华信 and 华夏 share their initials: both are found, as on any portal with pinyin search.
    assert set(find(runtime, "whhx")) == {
        "武汉华信科技有限公司",
        "武汉华信科技股份有限公司",
        "武汉华夏物流有限公司",
    }
    assert find(runtime, "whhxkj") == ["武汉华信科技有限公司", "武汉华信科技股份有限公司"]
    assert find(runtime, "WHHX") == find(runtime, "whhx")
    assert find(runtime, "hxkj") == ["武汉华信科技有限公司", "武汉华信科技股份有限公司"]  # initials, inside
    assert find(runtime, "yhgf") == ["中国银行股份有限公司武汉分行"]
    assert find(runtime, "长江建筑") == ["襄阳长江建筑工程有限公司"]
    assert find(runtime, "没有这家") == []
    uscc = codes()
    with runtime.engine.connect() as conn:
        hit = search(conn, uscc["HXW"], protector=runtime.protector).hits[0]
        assert (hit.name, hit.match) == ("武汉华夏物流有限公司", "identifier")
        by_orgcode = search(conn, uscc["HXW"][8:17], protector=runtime.protector).hits[0]
        assert by_orgcode.name == "武汉华夏物流有限公司"
        pinyin = dict(conn.execute(sa.select(subjects.c.name, subjects.c.name_pinyin)).all())
    assert pinyin["武汉华信科技有限公司"] == "whhxkjyxgs"
    assert pinyin["张三丰"] is None  # persons are not in the name index at all


def test_persons_only_by_their_whole_id_number(runtime: Runtime, registry: dict[str, int]) -> None:
    rebuild(runtime.engine, clock=runtime.clock)
    assert find(runtime, "张三丰") == []
    with runtime.engine.connect() as conn:
        (hit,) = search(conn, PERSON_ID, protector=runtime.protector).hits
    assert hit.name == "张**" and hit.match == "identifier"
    # An opaque address, drawn by the database for the subject: not xy-<id>, which anyone could count through.
    with runtime.engine.connect() as conn:
        ref = conn.execute(
            sa.select(subjects.c.public_ref).where(subjects.c.id == registry["PERSON"])
        ).scalar_one()
    assert hit.code == f"xy-{ref}" and re.fullmatch(r"[0-9a-f]{24}", ref)


def test_former_names_are_found_and_said(runtime: Runtime, registry: dict[str, int]) -> None:
    rebuild(runtime.engine, clock=runtime.clock)
    with runtime.engine.connect() as conn:
        (hit,) = search(conn, "楚天商贸", protector=runtime.protector).hits
    assert (hit.name, hit.match, hit.matched_name) == (
        "荆州楚天供应链管理有限公司",
        "former_name",
        "荆州楚天商贸有限公司",
    )


def test_too_short_is_refused_with_a_message(runtime: Runtime, registry: dict[str, int]) -> None:
    with runtime.engine.connect() as conn, pytest.raises(QueryRefused) as refused:
        search(conn, "华", protector=runtime.protector)
    assert refused.value.status == 422 and "两个字" in refused.value.problem.message_zh
    with runtime.engine.connect() as conn:  # two characters, the shortest query accepted, find the subject
        found = search(conn, "华信", protector=runtime.protector)
    assert "武汉华信科技有限公司" in [h.name for h in found.hits]


def test_new_subjects_are_found_before_a_refresh_and_rebuild_swaps_slots(
    runtime: Runtime, registry: dict[str, int]
) -> None:
    first = rebuild(runtime.engine, clock=runtime.clock)
    with runtime.engine.begin() as conn:
        resolve_many(
            conn,
            [Candidate({"uscc": make_uscc("9", "1", "420100", "MA4K0099")}, name="武汉华信电子有限公司")],
            clock=runtime.clock,
            protector=runtime.protector,
        )
    assert "武汉华信电子有限公司" in find(runtime, "华信")  # past the high-water mark: scanned directly
    assert refresh(runtime.engine, clock=runtime.clock) == 1
    assert "武汉华信电子有限公司" in find(runtime, "whhxdz")
    second = rebuild(runtime.engine, clock=runtime.clock)
    assert (first.slot, second.slot) == ("a", "b")
    with runtime.engine.connect() as conn:
        assert active_build(conn)["id"] == second.build_id  # type: ignore[index]
        empty = conn.execute(sa.select(sa.func.count()).select_from(search_grams["a"])).scalar_one()
        stats = conn.execute(sa.select(sa.func.count()).select_from(search_gram_stats["b"])).scalar_one()
    assert empty == 0 and stats > 0
    assert find(runtime, "华信") == [
        "武汉华信科技有限公司",
        "武汉华信电子有限公司",
        "武汉华信科技股份有限公司",
    ]


def test_pinyin_initials_cover_polyphones(runtime: Runtime, registry: dict[str, int]) -> None:
    assert initials_variants("恒长") == ("hz", "hc")  # 长 is zhang or chang; 恒长 is read either way
    assert len(initials_variants("重庆长江行银行长乐分行都会")) <= PINYIN_VARIANTS  # bounded
    with runtime.engine.begin() as conn:
        resolve_many(
            conn,
            [Candidate({"uscc": make_uscc("9", "1", "420100", "MA4K0077")}, name="武汉恒长科技有限公司")],
            clock=runtime.clock,
            protector=runtime.protector,
        )
    for built in (False, True):  # scanned directly before a build, from the index after it
        if built:
            rebuild(runtime.engine, clock=runtime.clock)
        for q in ("whhc", "whhz", "hckj", "hzkj"):
            assert find(runtime, q) == ["武汉恒长科技有限公司"], (q, built)
