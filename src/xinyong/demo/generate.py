"""Synthetic Hubei: subjects with valid codes across every county, and providers' files as they really come.

Good rows are deliberately untidy the way real exports are (full-width codes, 2021/3/5 and 2021年3月5日
dates, Excel serial numbers, stray spaces) and must all load; bad rows carry one known defect each and
must all be rejected. The generator returns which rows are bad, so the benchmark and the tests can check
that the pipeline catches every bad row and rejects no good one. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from xinyong.catalog.models import Item
from xinyong.codes.divisions import hubei_counties, hubei_prefectures, lookup_division, prefecture_of
from xinyong.codes.idcard import idcard_check_char
from xinyong.codes.orgcode import orgcode_check_char
from xinyong.codes.regno import regno_check_digit
from xinyong.codes.uscc import make_uscc
from xinyong.demo.remits import PERSONS, DemoData, load_demo_data
from xinyong.policy.periods import add_months

_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # avoid I O S V Z so bodies stay USCC-friendly
# Name parts. What a business does — its trade words, scope, licences and penalties — is data
# (data/trades.yaml, data/remits.yaml); these only make names and addresses look like Hubei's.
BRANDS = list("华信鑫源长江楚天荆楚光谷东湖汉阳江城晴川黄鹤知音汉口沌口龙腾金桥宏达恒泰瑞丰盛世中南")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌浩宇欣然晨阳思佳子轩")
_ROADS = [
    "解放大道",
    "中山路",
    "建设大道",
    "人民路",
    "发展大道",
    "长江路",
    "新华路",
    "和平大道",
    "东风路",
    "光明路",
]
_COMPANY_FORMS = {  # name suffix → 企业类型 as the registration authority writes it
    "有限公司": "有限责任公司（自然人投资或控股）",
    "有限责任公司": "有限责任公司（自然人投资或控股）",
    "股份有限公司": "股份有限公司（非上市、自然人投资或控股）",
}
_BRANCH_FORMS = {
    "有限责任公司（自然人投资或控股）": "有限责任公司分公司（自然人投资或控股）",
    "股份有限公司（非上市、自然人投资或控股）": "股份有限公司分公司（非上市、自然人投资或控股）",
}
COOPERATIVE = "农民专业合作社"
# Registrations before the unified code (2015-10-01) also carry a 15-digit 注册号.
_USCC_ERA = dt.date(2015, 10, 1)
# Every organisation exists before the earliest decision the generator makes (start 2019-01-01 by default).
_FOUNDED = (dt.date(1998, 1, 1), dt.date(2018, 6, 30))
_COOPERATIVES_FROM = dt.date(2008, 1, 1)  # 农民专业合作社法 in force 2007-07-01
_SUBJECT_SCHEMA = {
    "kind": pl.String,
    "xdr_lb": pl.String,
    "name": pl.String,
    "uscc": pl.String,
    "regno": pl.String,
    "orgcode": pl.String,
    "idcard": pl.String,
    "division": pl.String,
    "prefecture": pl.String,  # the prefecture-level unit whose departments decide about the subject
    "legal_rep": pl.String,
    "rep_id": pl.String,
    "trade": pl.String,  # a key of data/trades.yaml; natural persons: "persons"
    "company_type": pl.String,  # 企业类型 of registered organisations
    "established": pl.Date,
    "capital": pl.Float64,  # 注册资本, 万元
}


@dataclass(frozen=True)
class World:
    """The synthetic population: subjects and the departments that decide about them."""

    subjects: pl.DataFrame  # columns as _SUBJECT_SCHEMA
    departments: pl.DataFrame  # kind, uscc, name, abbr, division (the prefecture-level unit)


def make_world(subjects: int, *, seed: int = 20170701) -> World:
    rng = np.random.default_rng(seed)
    data = load_demo_data()
    counties = [c.code for c in hubei_counties()]
    maker = _SubjectMaker(rng, counties, data)
    frame = pl.DataFrame([maker.make() for _ in range(subjects)], schema=_SUBJECT_SCHEMA, orient="row")
    return World(subjects=frame, departments=_departments(rng, data))


class _Subject(NamedTuple):
    """One row of World.subjects (the columns of _SUBJECT_SCHEMA, in order)."""

    kind: str
    xdr_lb: str
    name: str
    uscc: str | None
    regno: str | None
    orgcode: str | None
    idcard: str | None
    division: str
    prefecture: str
    legal_rep: str | None
    rep_id: str | None
    trade: str
    company_type: str | None = None
    established: dt.date | None = None
    capital: float | None = None


class _SubjectMaker:
    """One subject at a time: 10 % natural persons, 15 % 个体工商户, 5 % branches (非法人组织), the rest
    companies and 农民专业合作社. A business's name, scope and what concerns it come from its trade; names
    are unique."""

    def __init__(self, rng: np.random.Generator, counties: list[str], data: DemoData) -> None:
        self.rng, self.counties, self.data = rng, counties, data
        self.firm_trades, self.shop_trades = data.firm_trades(), data.shop_trades()
        self.names: set[str] = set()
        self.companies: list[_Subject] = []

    def make(self) -> _Subject:
        rng = self.rng
        division = _pick(rng, self.counties)
        roll = rng.random()
        rep, rep_id = _person_name(rng), _idcard(rng, self.counties)
        if roll < 0.10:
            home = rep_id[:6]
            return _Subject(
                "natural_person",
                "自然人",
                rep,
                None,
                None,
                None,
                rep_id,
                home,
                _pref(home),
                None,
                None,
                PERSONS,
            )
        if roll < 0.25:
            return self._shop(division, rep, rep_id, old=roll < 0.13)
        if roll < 0.30 and self.companies:
            return self._branch(division)
        return self._company(division, rep, rep_id)

    def _shop(self, division: str, rep: str, rep_id: str, *, old: bool) -> _Subject:
        rng, trade = self.rng, _pick(self.rng, self.shop_trades)
        word = _pick(rng, self.data.trades[trade].shop_words)
        name = self._unique(lambda extra: f"{_place(division)}{rep}{extra}{word}")
        if old:  # an old 个体工商户 with only a registration number: the placeholder case
            uscc, regno = None, _regno(rng, division)
        else:
            uscc, regno = make_uscc("9", "2", division, _orgcode(rng)), None
        return _Subject(
            "individual_business",
            "个体工商户",
            name,
            uscc,
            regno,
            None,
            None,
            division,
            _pref(division),
            rep,
            rep_id,
            trade,
        )

    def _company(self, division: str, rep: str, rep_id: str) -> _Subject:
        rng, trade_name = self.rng, _pick(self.rng, self.firm_trades)
        trade = self.data.trades[trade_name]
        cooperative = bool(trade.coop_words) and rng.random() < 0.4
        place = _place(division)
        if cooperative:
            word = _pick(rng, trade.coop_words)
            name = self._unique(lambda extra: f"{place}{_brand(rng)}{extra}{word}")
            uscc_type, company_type, earliest = "3", COOPERATIVE, _COOPERATIVES_FROM
        else:
            word, suffix = _pick(rng, trade.firm_words), _pick(rng, list(_COMPANY_FORMS))
            name = self._unique(lambda extra: f"{place}{_brand(rng)}{extra}{word}{suffix}")
            uscc_type, company_type, earliest = "1", _COMPANY_FORMS[suffix], _FOUNDED[0]
        founded = _day(rng, earliest, _FOUNDED[1])
        low, high = trade.capital
        row = _Subject(
            "legal_person",
            "法人及非法人组织",
            name,
            make_uscc("9", uscc_type, division, _orgcode(rng)),
            _regno(rng, division) if founded < _USCC_ERA else None,
            None,
            None,
            division,
            _pref(division),
            rep,
            rep_id,
            trade_name,
            company_type,
            founded,
            float(round(rng.uniform(low, high))),
        )
        if not cooperative:
            self.companies.append(row)
        return row

    def _branch(self, division: str) -> _Subject:
        """A branch (分公司): a 非法人组织 registered by the market regulator, in its parent's trade."""
        rng = self.rng
        parent = self.companies[int(rng.integers(len(self.companies)))]
        county = lookup_division(division)
        local = county.name[:-1] if county and len(county.name) > 2 else county.name if county else ""
        name = self._unique(lambda extra: f"{parent.name}{local}{extra}分公司")
        founded = _day(rng, parent.established or _FOUNDED[0], _FOUNDED[1])
        return _Subject(
            "other_org",
            "法人及非法人组织",
            name,
            make_uscc("9", "1", division, _orgcode(rng)),
            _regno(rng, division) if founded < _USCC_ERA else None,
            None,
            None,
            division,
            _pref(division),
            _person_name(rng),
            _idcard(rng, self.counties),
            parent.trade,
            _BRANCH_FORMS[parent.company_type or ""],
            founded,
        )

    def _unique(self, make: Callable[[str], str]) -> str:
        """A name no other subject has (a registration authority refuses a duplicate): drawn again a few
        times, then told apart by an extra word, as 登记 practice does (武汉华信 → 武汉华信恒泰)."""
        name, attempts = make(""), 0
        while name in self.names:
            attempts += 1
            name = make("" if attempts < 20 else _brand(self.rng))
        self.names.add(name)
        return name


def _departments(rng: np.random.Generator, data: DemoData) -> pl.DataFrame:
    """One department of every kind in every prefecture-level unit (remits.yaml says what each issues)."""
    rows = []
    for pref in hubei_prefectures():
        for kind, dept in data.departments.items():
            uscc = make_uscc("1", "1", pref.code, _orgcode(rng))
            rows.append((kind, uscc, dept.named(pref.name), f"{_short(pref.code)[:1]}{dept.abbr}", pref.code))
    return pl.DataFrame(rows, schema=["kind", "uscc", "name", "abbr", "division"], orient="row")


def _pref(county: str) -> str:
    pref = prefecture_of(county)
    return pref.code if pref else county


def _short(code: str) -> str:
    division = lookup_division(code)
    name = division.name if division else "湖北"
    for suffix in ("土家族苗族自治州", "林区", "市", "州"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _place(county: str) -> str:
    pref = prefecture_of(county)
    return _short(pref.code) if pref else "湖北"


def _pick(rng: np.random.Generator, options: list[str] | tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _brand(rng: np.random.Generator) -> str:
    return _pick(rng, BRANDS) + _pick(rng, BRANDS)


def _day(rng: np.random.Generator, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=int(rng.integers(0, max(1, (last - first).days))))


def _person_name(rng: np.random.Generator) -> str:
    given = _pick(rng, GIVEN) + (_pick(rng, GIVEN) if rng.random() < 0.7 else "")
    return _pick(rng, SURNAMES) + given


def _orgcode(rng: np.random.Generator) -> str:
    body = "".join(_ORG_CHARS[int(i)] for i in rng.integers(0, len(_ORG_CHARS), 8))
    return body + orgcode_check_char(body)


def _regno(rng: np.random.Generator, division: str) -> str:
    first14 = division + "".join(str(int(d)) for d in rng.integers(0, 10, 8))
    return first14 + regno_check_digit(first14)


def _idcard(rng: np.random.Generator, counties: list[str]) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 50)))
    first17 = (
        counties[int(rng.integers(len(counties)))]
        + birth.strftime("%Y%m%d")
        + f"{int(rng.integers(0, 1000)):03d}"
    )
    return first17 + idcard_check_char(first17)


# ---- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    frame: pl.DataFrame  # columns under the catalogue's Chinese headers, all text
    bad: pl.Series  # True where the row carries a defect and must be rejected
    defects: pl.Series  # which defect (null for good rows)


DEFECTS = (
    "bad_uscc_check",
    "missing_name",
    "bad_date",
    "future_date",
    "unknown_category",
    "fine_missing",
    "duplicate_key",
    "valid_before_decision",
    "bad_idcard",
    "bad_amount",
)


def penalties(
    world: World,
    rows: int,
    *,
    item: Item,
    seed: int = 1,
    start: dt.date = dt.date(2019, 1, 1),
    end: dt.date = dt.date(2026, 6, 30),
    bad_fraction: float = 0.0,
    untidy: bool = True,
) -> Generated:
    """行政处罚 as departments send them: each for a violation that concerns the subject's trade
    (trades.yaml), decided by the department of the subject's prefecture whose remit covers it
    (remits.yaml)."""
    data = load_demo_data()
    rng, base, chosen, decided, seq = _decisions(world, rows, seed, start, end, what="violations")
    remit = pl.DataFrame(
        [(k, v.type, v.basis, v.categories, *(v.fine or (None, None))) for k, v in data.violations.items()],
        schema=["key", "type", "basis", "categories", "fine_low", "fine_high"],
        orient="row",
    )
    v = (
        chosen.select("key", "abbr", "dept_name", "dept_uscc")
        .with_row_index("row")
        .join(remit, on="key", how="left")
        .sort("row")
        .with_columns(
            pl.Series("share", rng.random(rows)), pl.Series("seq", seq), pl.Series("decided", decided)
        )
        .with_columns(
            (pl.col("fine_low") + pl.col("share") * (pl.col("fine_high") - pl.col("fine_low")))
            .round(4)
            .alias("fine")
        )
    )
    fine, confiscated = pl.col("fine"), pl.col("categories").str.contains("没收")
    licence_taken = pl.col("categories").str.contains("吊销|暂扣")
    text = v.select(
        pl.format("{}罚〔{}〕{}号", "abbr", pl.col("decided").dt.year(), "seq").alias("cf_wsh"),
        pl.col("type").alias("cf_wfxw"),
        pl.format("经查，当事人{}，违反了{}的规定。", "type", "basis").alias("cf_sy"),
        pl.col("basis").alias("cf_yj"),
        pl.col("categories").alias("cf_cflb"),
        pl.format(
            "依据{}，决定给予{}的行政处罚。", "basis", pl.col("categories").str.replace_all(";", "、")
        ).alias("cf_nr"),
        fine.cast(pl.String).alias("cf_nr_fk"),
        pl.when(confiscated)
        .then((fine.fill_null(1.0) * pl.col("share") / 5).round(4).clip(0.0001).cast(pl.String))
        .alias("cf_nr_wfff"),
        pl.when(licence_taken)
        .then(pl.format("许可证（编号{}）", pl.col("seq").cast(pl.String).str.zfill(8)))
        .alias("cf_nr_zkdx"),
    )
    columns = {
        **base,
        **{c: text[c].to_list() for c in text.columns},
        "cf_jdrq": decided,
        "cf_yxq": [d + dt.timedelta(days=365 * 3) for d in decided],
        "cf_cfjg": v["dept_name"].to_list(),
        "cf_cfjgdm": v["dept_uscc"].to_list(),
        "cf_sjly": v["dept_name"].to_list(),
        "cf_sjlydm": v["dept_uscc"].to_list(),
    }
    return _finish(columns, item, rng, bad_fraction, untidy, decision="cf_jdrq", until="cf_yxq", key="cf_wsh")


LONG_TERM = dt.date(2099, 12, 31)  # 有效期至 of a licence without an end (the 双公示 convention)


def licences(
    world: World,
    rows: int,
    *,
    item: Item,
    seed: int = 2,
    start: dt.date = dt.date(2019, 1, 1),
    end: dt.date = dt.date(2026, 6, 30),
    bad_fraction: float = 0.0,
    untidy: bool = True,
) -> Generated:
    """行政许可 as departments send them: licences the subject's trade needs, each issued by the department of
    the subject's prefecture whose remit covers it."""
    data = load_demo_data()
    rng, base, chosen, decided, seq = _decisions(world, rows, seed, start, end, what="licences")
    kinds = [data.licences[k] for k in chosen["key"]]
    columns = {
        **base,
        "xk_xkws": [f"准予行政许可决定书（{k.name}）" for k in kinds],
        "xk_wsh": [f"{a}许准〔{d.year}〕{s}号" for a, d, s in zip(chosen["abbr"], decided, seq, strict=True)],
        "xk_xklb": [k.category for k in kinds],
        "xk_xkzs": [k.name for k in kinds],
        "xk_xkbh": [f"XK{s:010d}" for s in seq],
        "xk_nr": [f"依据{k.basis}，准予行政许可：{k.name}" for k in kinds],
        "xk_jdrq": decided,
        "xk_yxqz": decided,
        "xk_yxqzhi": [
            LONG_TERM if k.valid_years is None else d + dt.timedelta(days=365 * k.valid_years)
            for k, d in zip(kinds, decided, strict=True)
        ],
        "xk_xkjg": chosen["dept_name"].to_list(),
        "xk_xkjgdm": chosen["dept_uscc"].to_list(),
        "xk_zt": ["1"] * rows,
        "xk_sjly": chosen["dept_name"].to_list(),
        "xk_sjlydm": chosen["dept_uscc"].to_list(),
    }
    return _finish(
        columns, item, rng, bad_fraction, untidy, decision="xk_jdrq", until="xk_yxqzhi", key="xk_wsh"
    )


def registrations(world: World, *, item: Item, end: dt.date = dt.date(2026, 6, 30)) -> Generated:
    """企业登记基础信息 (QYJC) of every registered organisation — companies, 农民专业合作社, branches — as the
    market regulator's registration system exports them: clean, one row per organisation."""
    data = load_demo_data()
    rng = np.random.default_rng(len(world.subjects))
    orgs = world.subjects.filter(pl.col("company_type").is_not_null())
    market = world.departments.filter(pl.col("kind") == "market").select(
        pl.col("division").alias("prefecture"), pl.col("name").alias("authority")
    )
    orgs = orgs.join(market, on="prefecture", how="left", maintain_order="left")
    founded = orgs["established"].to_list()
    long_term = rng.random(orgs.height) < 0.6
    approved = [
        f + dt.timedelta(days=int(u * max(1, (end - f).days)))
        for f, u in zip(founded, rng.random(orgs.height), strict=True)
    ]
    columns = {
        "qy_tyshxydm": orgs["uscc"].to_list(),
        "qy_mc": orgs["name"].to_list(),
        "qy_zch": orgs["regno"].to_list(),
        "qy_lx": orgs["company_type"].to_list(),
        "qy_fr": orgs["legal_rep"].to_list(),
        "qy_zczb": [None if c is None else f"{c:.0f}" for c in orgs["capital"].to_list()],
        "qy_zczbbz": [None if c is None else "人民币" for c in orgs["capital"].to_list()],
        "qy_clrq": founded,
        "qy_yyqxz": founded,
        "qy_yyqxzhi": [
            # 30 years on; one founded on 29 February ends on the 28th (a plain replace() fails then).
            None if lt else add_months(f, 12 * 30)
            for f, lt in zip(founded, long_term, strict=True)
        ],
        "qy_djjg": orgs["authority"].to_list(),
        "qy_hzrq": approved,
        "qy_zs": [_address(rng, d) for d in orgs["division"].to_list()],
        "qy_jyfw": [data.trades[t].scope for t in orgs["trade"].to_list()],
        "qy_djzt": ["存续"] * orgs.height,
    }
    return _finish(columns, item, rng, 0.0, False, decision="qy_clrq", until="qy_yyqxzhi", key="qy_tyshxydm")


def _address(rng: np.random.Generator, division: str) -> str:
    place = lookup_division(division)
    return f"{place.full_name if place else '湖北省'}{_pick(rng, _ROADS)}{int(rng.integers(1, 999))}号"


def _decisions(
    world: World, rows: int, seed: int, start: dt.date, end: dt.date, *, what: str
) -> tuple[np.random.Generator, dict[str, list[str | None]], pl.DataFrame, list[dt.date], np.ndarray]:
    """What every decision file has: the parties, what was decided and by which department, the date, a
    unique number. `what` is "licences" or "violations": a subject gets only what concerns its trade, from
    the department of its prefecture whose remit covers it, on a day after it was established."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, world.subjects.height, rows)
    subjects = world.subjects[idx]
    base = _parties(subjects, rng)
    chosen = _choose(subjects, world.departments, rng, what=what)
    decided = _dates(rng, rows, start, end)
    founded = subjects["established"].to_list()
    decided = [
        d if f is None or d > f else min(end, f + dt.timedelta(days=30))
        for d, f in zip(decided, founded, strict=True)
    ]
    return rng, base, chosen, decided, rng.permutation(rows) + 1


def _choose(
    subjects: pl.DataFrame, departments: pl.DataFrame, rng: np.random.Generator, *, what: str
) -> pl.DataFrame:
    """Per subject row, one of the licences or violations (`what`) that concern its trade — the common ones
    (every business's) for the share trades.yaml gives them — and the department that issues it in the
    subject's prefecture: columns key, dept_name, dept_uscc, abbr, in row order."""
    data = load_demo_data()
    owner = data.kind_of_licence if what == "licences" else data.kind_of_violation
    common = getattr(data.common, what)
    options = pl.DataFrame(
        [
            (trade, group, i, key, owner[key])
            for trade in subjects["trade"].unique().to_list()
            for group, keys in (("own", getattr(data.offer(trade), what)), ("common", common))
            if group == "own" or trade != PERSONS
            for i, key in enumerate(keys)
        ],
        schema={
            "trade": pl.String,
            "group": pl.String,
            "pick": pl.Int64,
            "key": pl.String,
            "kind": pl.String,
        },
        orient="row",
    )
    counts = options.group_by("trade", "group").agg(pl.len().cast(pl.Int64).alias("n"))
    own = counts.filter(pl.col("group") == "own").select("trade", pl.col("n").alias("own"))
    n = subjects.height
    rows = (
        subjects.select("trade", "prefecture")
        .with_row_index("row")
        .with_columns(pl.Series("which", rng.random(n)), pl.Series("share", rng.random(n)))
        .join(own, on="trade", how="left")
        .with_columns(
            pl.when(
                pl.col("own").is_null()
                | ((pl.col("which") < data.common.share) & (pl.col("trade") != PERSONS))
            )
            .then(pl.lit("common"))
            .otherwise(pl.lit("own"))
            .alias("group")
        )
        .join(counts, on=["trade", "group"], how="left")
        .with_columns((pl.col("share") * pl.col("n")).floor().cast(pl.Int64).alias("pick"))
        .join(options, on=["trade", "group", "pick"], how="left")
        .join(
            departments.select(
                "kind",
                pl.col("division").alias("prefecture"),
                pl.col("name").alias("dept_name"),
                pl.col("uscc").alias("dept_uscc"),
                "abbr",
            ),
            on=["kind", "prefecture"],
            how="left",
        )
        .sort("row")
    )
    missing = rows.filter(pl.col("dept_uscc").is_null())
    if missing.height:
        raise ValueError(f"no department issues {what} for trades {missing['trade'].unique().to_list()}")
    return rows.select("key", "dept_name", "dept_uscc", "abbr")


def _parties(s: pl.DataFrame, rng: np.random.Generator) -> dict[str, list[str | None]]:
    """The 行政相对人 columns. Providers often leave out an old 注册号 when there is a USCC."""
    person = s["kind"] == "natural_person"
    placeholder = s["uscc"].is_null() & (s["kind"] == "individual_business")
    regno_sent = pl.Series(rng.random(s.height) < 0.3) | placeholder
    return {
        "xdr_mc": s["name"].to_list(),
        "xdr_lb": s["xdr_lb"].to_list(),
        "xdr_dm1": pl.select(pl.when(placeholder).then(pl.lit("00000000000000000X")).otherwise(s["uscc"]))
        .to_series()
        .to_list(),
        "xdr_dm2": pl.select(pl.when(regno_sent).then(s["regno"])).to_series().to_list(),
        "fr": pl.select(pl.when(person).then(None).otherwise(s["legal_rep"])).to_series().to_list(),
        "xdr_zjlx": pl.select(pl.when(person).then(pl.lit("身份证"))).to_series().to_list(),
        "xdr_zjhm": s["idcard"].to_list(),
    }


def _dates(rng: np.random.Generator, rows: int, start: dt.date, end: dt.date) -> list[dt.date]:
    span = (end - start).days
    return [start + dt.timedelta(days=int(d)) for d in rng.integers(0, span + 1, rows)]


def _finish(
    columns: dict[str, list],
    item: Item,
    rng: np.random.Generator,
    bad_fraction: float,
    untidy: bool,
    *,
    decision: str,
    until: str,
    key: str,
) -> Generated:
    rows = len(columns[key])
    frame = pl.DataFrame(
        {
            k: pl.Series(k, v, dtype=pl.Date if isinstance(_first(v), dt.date) else pl.String)
            for k, v in columns.items()
        }
    )
    frame = frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"))
    if untidy:
        frame = _untidy(frame, rng, decision)
    defects: list[str | None] = [None] * rows
    n_bad = int(rows * bad_fraction)
    if n_bad:
        frame, defects = _corrupt(frame, rng, n_bad, decision=decision, until=until, key=key)
    headers = {f.code: f.name_zh for f in item.fields}
    frame = frame.rename({c: headers[c] for c in frame.columns})
    defect_series = pl.Series("defect", defects, dtype=pl.String)
    return Generated(frame=frame, bad=defect_series.is_not_null().alias("bad"), defects=defect_series)


def _first(values: list[Any]) -> Any:
    return next((x for x in values if x is not None), None)


def _untidy(frame: pl.DataFrame, rng: np.random.Generator, decision: str) -> pl.DataFrame:
    """Real exports: some dates as 2021/3/5, 2021年3月5日 or Excel serials; some codes full-width; spaces."""
    n = frame.height
    style = pl.Series(rng.integers(0, 10, n))
    day = pl.col(decision).str.to_date("%Y-%m-%d")
    serial = (day - pl.lit(dt.date(1899, 12, 30))).dt.total_days().cast(pl.String)
    frame = frame.with_columns(
        pl.when(style == 1)
        .then(day.dt.strftime("%Y/%-m/%-d"))
        .when(style == 2)
        .then(day.dt.strftime("%Y年%-m月%-d日"))
        .when(style == 3)
        .then(serial)
        .when(style == 4)
        .then(day.dt.strftime("%Y%m%d"))
        .otherwise(pl.col(decision))
        .alias(decision),
        pl.when(style == 5)
        .then(
            pl.col("xdr_dm1")
            .str.replace_all(r"(\d)", "${1}")
            .map_elements(_fullwidth, return_dtype=pl.String, skip_nulls=True)
        )
        .otherwise(pl.col("xdr_dm1"))
        .alias("xdr_dm1"),
        pl.when(style == 6)
        .then(pl.lit(" ") + pl.col("xdr_mc") + pl.lit("  "))
        .otherwise(pl.col("xdr_mc"))
        .alias("xdr_mc"),
    )
    return frame


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _corrupt(
    frame: pl.DataFrame, rng: np.random.Generator, n_bad: int, *, decision: str, until: str, key: str
) -> tuple[pl.DataFrame, list[str | None]]:
    rows = frame.height
    chosen = rng.choice(np.arange(1, rows), size=min(n_bad, rows - 1), replace=False)
    kinds = rng.integers(0, len(DEFECTS), len(chosen))
    data = {c: frame[c].to_list() for c in frame.columns}
    defects: list[str | None] = [None] * rows
    bad_rows = set(int(i) for i in chosen)
    for i, k in zip(chosen, kinds, strict=True):
        i = int(i)
        defect = DEFECTS[k]
        if defect == "bad_uscc_check" and not (data["xdr_dm1"][i] or "").startswith(("9", "5")):
            defect = "missing_name"
        if defect == "bad_idcard" and not data["xdr_zjhm"][i]:
            defect = "bad_date"
        if defect == "fine_missing" and ("cf_nr_fk" not in data or not data["cf_nr_fk"][i]):
            defect = "bad_date"
        if defect == "bad_amount" and ("cf_nr_fk" not in data or not data["cf_nr_fk"][i]):
            defect = "future_date"
        if defect == "unknown_category" and "cf_cflb" not in data:
            defect = "valid_before_decision"
        if defect == "duplicate_key":
            j = int(rng.integers(0, rows))
            while j == i or j in bad_rows:
                j = int(rng.integers(0, rows))
            if (
                j > i
            ):  # the later row is the duplicate; keep the defect on row i by copying from an earlier row
                j = int(rng.integers(0, i)) if i > 0 else j
                while j in bad_rows:
                    j = int(rng.integers(0, i))
            data[key][i] = data[key][j]
            src = "cf_sjlydm" if "cf_sjlydm" in data else "xk_sjlydm"
            data[src][i] = data[src][j]
        elif defect == "bad_uscc_check":
            code = data["xdr_dm1"][i]
            wrong = "0" if code[-1] != "0" else "1"
            data["xdr_dm1"][i] = code[:-1] + wrong
        elif defect == "missing_name":
            data["xdr_mc"][i] = None
        elif defect == "bad_date":
            data[decision][i] = "2021-13-45"
        elif defect == "future_date":
            data[decision][i] = "2099-01-01"
        elif defect == "unknown_category":
            data["cf_cflb"][i] = "罚钱"
        elif defect == "fine_missing":
            data["cf_nr_fk"][i] = None
        elif defect == "valid_before_decision":
            data[decision][i] = "2024-06-01"
            data[until][i] = "2020-01-01"
        elif defect == "bad_idcard":
            number = data["xdr_zjhm"][i]
            data["xdr_zjhm"][i] = number[:-1] + ("0" if number[-1] != "0" else "1")
        elif defect == "bad_amount":
            data["cf_nr_fk"][i] = "约三万元"
        defects[i] = defect
    return pl.DataFrame(data, schema={c: pl.String for c in data}), defects
