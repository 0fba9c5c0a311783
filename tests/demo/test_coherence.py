"""The demo's data makes sense to someone who knows how Hubei's departments work.

Each department issues only what is in its remit (demo/data/remits.yaml): a 消防救援支队 never fines for
超限运输, a 应急管理局 never issues a 药品经营许可证. Each subject is given only what concerns its trade
(demo/data/trades.yaml), by the departments of its own prefecture, after it was established; company names
fit their trade; every registered organisation has its 企业登记基础信息 (QYJC), sent by the market regulator,
and its subject page shows it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from xinyong.catalog.loader import load_catalog
from xinyong.codes.divisions import hubei_prefectures, prefecture_of
from xinyong.demo.generate import World, licences, make_world, penalties, registrations
from xinyong.demo.remits import PERSONS, DemoData, Remits, Trades, load_demo_data
from xinyong.demo.seed import ACCOUNTS_FILE, MARKET_REGULATOR, seed_demo
from xinyong.runtime import Runtime
from xinyong.security.accounts import authenticate, principal_for_user
from xinyong.security.settings import SecuritySettings
from xinyong.store.tables import organisations, records
from xinyong.subjects.models import subjects
from xinyong.web.app import create_app

CATALOG = load_catalog()
DATA = load_demo_data()
CITIES = {p.name for p in hubei_prefectures()}


def kind_of_department(name: str) -> tuple[str, str]:
    """(department kind, city) read from a department's name as a user sees it, by remits.yaml's templates."""
    for kind, dept in DATA.departments.items():
        pattern = re.escape(dept.name).replace(re.escape("{city}"), "(?P<city>.+)")
        found = re.fullmatch(pattern, name)
        if found and found["city"] in CITIES:
            return kind, found["city"]
    raise AssertionError(f"{name} is not a department of any kind in remits.yaml")


def remit(kind: str, what: str) -> set[str]:
    dept = DATA.departments[kind]
    if what == "violations":
        return {v.type for v in dept.violations.values()}
    return {lic.name for lic in dept.licences.values()}


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(800, seed=5)


# ------------------------------------------------------------------------------ the generator's files


def test_every_penalty_is_decided_by_a_department_whose_remit_covers_it(world: World) -> None:
    frame = penalties(world, 4000, item=CATALOG.item("XZCF"), seed=3, untidy=False).frame
    pairs = frame.select("处罚机关", "违法行为类型", "数据来源单位").unique().rows()
    wrong = [
        (dept, what)
        for dept, what, _ in pairs
        if what not in remit(kind_of_department(dept)[0], "violations")
    ]
    assert not wrong, f"penalties outside the department's remit: {wrong[:5]}"
    assert all(dept == source for dept, _, source in pairs)  # the deciding department sends its own
    # The issue's own examples, independent of the data file: only 交通运输局 fine for 超限运输.
    overload = frame.filter(pl.col("违法行为类型") == "超限运输")
    assert overload.height and overload["处罚机关"].str.ends_with("交通运输局").all()
    assert not frame.filter(
        pl.col("处罚机关").str.contains("消防") & (pl.col("违法行为类型") == "超限运输")
    ).height
    assert len({kind_of_department(d)[0] for d, _, _ in pairs}) == len(DATA.departments)  # every kind decides


def test_every_licence_is_issued_by_a_department_whose_remit_covers_it(world: World) -> None:
    frame = licences(world, 4000, item=CATALOG.item("XZXK"), seed=4, untidy=False).frame
    pairs = frame.select("许可机关", "许可证书名称").unique().rows()
    wrong = [
        (dept, what) for dept, what in pairs if what not in remit(kind_of_department(dept)[0], "licences")
    ]
    assert not wrong, f"licences outside the department's remit: {wrong[:5]}"
    pharmacies = frame.filter(pl.col("许可证书名称").str.starts_with("药品经营许可证"))
    assert pharmacies.height and pharmacies["许可机关"].str.ends_with("市场监督管理局").all()
    assert not frame.filter(
        pl.col("许可机关").str.ends_with("应急管理局") & pl.col("许可证书名称").str.contains("药品")
    ).height


@pytest.mark.parametrize("make", [penalties, licences], ids=["penalties", "licences"])
def test_a_subject_is_given_only_what_concerns_its_trade_by_its_own_prefecture(
    world: World, make: Callable[..., object]
) -> None:
    item, what, subject_of = (
        ("XZCF", "violations", "违法行为类型") if make is penalties else ("XZXK", "licences", "许可证书名称")
    )
    generated = make(world, 3000, item=CATALOG.item(item), seed=6, untidy=False)
    frame = generated.frame  # type: ignore[attr-defined]
    by_name = {s["name"]: s for s in world.subjects.iter_rows(named=True)}
    names_of = {
        k: (DATA.violations[k].type if what == "violations" else DATA.licences[k].name)
        for k in (DATA.violations if what == "violations" else DATA.licences)
    }
    decided = "处罚决定日期" if item == "XZCF" else "许可决定日期"
    dept_column = "处罚机关" if item == "XZCF" else "许可机关"
    for row in frame.iter_rows(named=True):
        subject = by_name[row["行政相对人名称"]]
        allowed = {names_of[k] for k in getattr(DATA.everything_for(subject["trade"]), what)}
        assert row[subject_of] in allowed, (subject["name"], subject["trade"], row[subject_of])
        home = prefecture_of(subject["division"])
        assert home is not None and kind_of_department(row[dept_column])[1] == home.name
        if subject["established"] is not None:
            assert dt.date.fromisoformat(row[decided]) > subject["established"]


def test_names_fit_the_trade_and_are_unique(world: World) -> None:
    s = world.subjects
    assert s["name"].n_unique() == s.height
    for row in s.iter_rows(named=True):
        if row["trade"] == PERSONS:
            assert row["kind"] == "natural_person"
            continue
        trade = DATA.trades[row["trade"]]
        words = (
            trade.shop_words if row["kind"] == "individual_business" else trade.firm_words + trade.coop_words
        )
        assert any(w in row["name"] for w in words), (row["name"], row["trade"])
    assert set(s["kind"].unique()) == {"legal_person", "other_org", "individual_business", "natural_person"}
    branches = s.filter(pl.col("kind") == "other_org")
    assert branches["name"].str.ends_with("分公司").all()
    assert (s.filter(pl.col("company_type") == "农民专业合作社")["name"].str.contains("专业合作社")).all()


def test_every_registered_organisation_has_its_registration(world: World) -> None:
    frame = registrations(world, item=CATALOG.item("QYJC"), end=dt.date(2026, 6, 15)).frame
    organisations_ = world.subjects.filter(pl.col("kind").is_in(["legal_person", "other_org"]))
    assert sorted(frame["统一社会信用代码"].to_list()) == sorted(organisations_["uscc"].to_list())
    scope = {s["uscc"]: DATA.trades[s["trade"]].scope for s in organisations_.iter_rows(named=True)}
    for row in frame.iter_rows(named=True):
        assert row["经营范围"] == scope[row["统一社会信用代码"]]
        assert row["登记机关"].endswith("市场监督管理局") and row["登记状态"] == "存续"
        assert row["成立日期"] <= row["核准日期"] <= "2026-06-15"
        assert row["住所"].startswith("湖北省")


def test_categories_and_classes_are_the_catalogues() -> None:
    categories = set(CATALOG.item("XZCF").field("cf_cflb").enum or ())
    classes = set(CATALOG.item("XZXK").field("xk_xklb").enum or ())
    for v in DATA.violations.values():
        assert set(v.categories.split(";")) <= categories, v.type
    assert {lic.category for lic in DATA.licences.values()} <= classes


def test_the_data_files_are_checked_when_loaded() -> None:
    exit_blocked = {
        "type": "占用疏散通道",
        "basis": "《消防法》第六十条",
        "categories": "罚款",
        "fine": [0.5, 5],
    }
    fire = {"name": "{city}消防救援支队", "abbr": "消", "violations": {"fire_exit": exit_blocked}}
    remits = Remits.model_validate({"source": "t", "departments": {"fire": fire}})
    retail = {"firm_words": ["商贸"], "scope": "零售", "capital": [1, 2], "violations": ["fire_exit"]}
    trades = {"source": "t", "common": {"share": 0.2}, "persons": {}, "trades": {"retail": retail}}
    assert DemoData(remits, Trades.model_validate(trades)).kind_of_violation == {"fire_exit": "fire"}

    trades["trades"] = {"retail": {**retail, "violations": ["overload"]}}  # no department issues it
    with pytest.raises(ValueError, match="overload"):
        DemoData(remits, Trades.model_validate(trades))
    unpriced = {**exit_blocked, "fine": None}  # 罚款 without a fine range
    with pytest.raises(ValueError, match="罚款"):
        Remits.model_validate(
            {"source": "t", "departments": {"fire": {**fire, "violations": {"x": unpriced}}}}
        )


# ----------------------------------------------------------------- the seeded platform, on both databases


@pytest.fixture
def seeded(runtime: Runtime, cheap_password_hashing: None) -> Runtime:
    seed_demo(runtime, subjects=150, seed=11)
    return runtime


def test_the_seeded_records_are_coherent_and_every_organisation_is_registered(seeded: Runtime) -> None:
    with seeded.engine.connect() as conn:
        rows = conn.execute(sa.select(records.c.item_code, records.c.data, records.c.subject_id)).all()
        market = conn.execute(
            sa.select(organisations.c.uscc).where(organisations.c.name == MARKET_REGULATOR)
        ).scalar_one()
        qyjc_sources = {
            r.source_uscc
            for r in conn.execute(sa.select(records.c.source_uscc).where(records.c.item_code == "QYJC"))
        }
        orgs = (
            conn.execute(sa.select(subjects.c.id).where(subjects.c.kind.in_(["legal_person", "other_org"])))
            .scalars()
            .all()
        )
    by_item: dict[str, list[tuple[dict[str, str], int]]] = {}
    for item, data, subject_id in rows:
        by_item.setdefault(item, []).append((data, subject_id))
    for data, _ in by_item["XZCF"]:
        assert data["cf_wfxw"] in remit(kind_of_department(data["cf_cfjg"])[0], "violations"), data
    for data, _ in by_item["XZXK"]:
        assert data["xk_xkzs"] in remit(kind_of_department(data["xk_xkjg"])[0], "licences"), data
    registered = {subject_id for _, subject_id in by_item["QYJC"]}
    assert orgs and set(orgs) <= registered, f"{len(set(orgs) - registered)} organisations without QYJC"
    assert qyjc_sources == {market}  # sent by the registration authority, not the credit office


def test_a_subject_page_shows_its_registration(seeded: Runtime) -> None:
    with seeded.engine.connect() as conn:
        uscc, data = conn.execute(
            sa.select(subjects.c.uscc, records.c.data)
            .join(records, records.c.subject_id == subjects.c.id)
            .where(records.c.item_code == "QYJC")
            .order_by(subjects.c.id)
            .limit(1)
        ).one()
    page = TestClient(create_app(seeded)).get(f"/subjects/{uscc}")
    assert page.status_code == 200
    assert 'data-item="QYJC"' in page.text and "企业登记基础信息" in page.text
    for field in ("登记机关", "经营范围", "住所", "成立日期"):
        assert field in page.text
    assert data["qy_jyfw"] in page.text and data["qy_djjg"] in page.text


def test_the_accounts_file_names_each_username_with_its_role(seeded: Runtime, home: Path) -> None:
    text = (home / ACCOUNTS_FILE).read_text(encoding="utf-8")
    password = re.search(r"^password: (\S+)$", text, re.M)
    accounts = re.findall(r"^username: (\S+)\s+role: (\w+)（.+）\s+organisation: (\S+)$", text, re.M)
    assert password and [(u, r) for u, r, _ in accounts] == [
        ("admin", "platform_admin"),
        ("operator", "credit_office"),
        ("provider", "provider"),
        ("government", "government"),
    ]
    assert dict((u, o) for u, _, o in accounts)["provider"] == MARKET_REGULATOR
    with seeded.engine.begin() as conn:
        for username, role, _ in accounts:
            signed = authenticate(
                conn,
                login=username,
                password=password[1],
                clock=seeded.clock,
                protector=seeded.protector,
                settings=SecuritySettings.load(seeded.settings),
            )
            assert signed.error is None and signed.user_id is not None, username
            principal = principal_for_user(conn, signed.user_id, session_id=None)
            assert principal is not None and principal.role == role
