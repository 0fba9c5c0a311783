"""Synthetic Hubei: subjects with valid codes across every county, and providers' files as they really come.

Good rows are deliberately untidy the way real exports are (full-width codes, 2021/3/5 and 2021年3月5日
dates, Excel serial numbers, stray spaces) and must all load; bad rows carry one known defect each and
must all be rejected. The generator returns which rows are bad, so the benchmark and the tests can check
that the pipeline catches every bad row and rejects no good one. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from xinyong.catalog.models import Item
from xinyong.codes.divisions import hubei_counties, prefecture_of
from xinyong.codes.idcard import idcard_check_char
from xinyong.codes.orgcode import orgcode_check_char
from xinyong.codes.regno import regno_check_digit
from xinyong.codes.uscc import make_uscc

_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # avoid I O S V Z so bodies stay USCC-friendly
_BRANDS = list("华信鑫源长江楚天荆楚光谷东湖汉阳江城晴川黄鹤知音汉口沌口龙腾金桥宏达恒泰瑞丰盛世中南")
_TRADES = [
    "科技",
    "建筑工程",
    "商贸",
    "物流",
    "餐饮管理",
    "医药",
    "食品",
    "机械制造",
    "环保科技",
    "房地产开发",
    "汽车销售",
    "电子",
    "农业开发",
    "建材",
    "物业服务",
    "信息技术",
    "劳务",
    "装饰工程",
    "运输",
    "化工",
]
_SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]
_SHOPS = ["便利店", "餐馆", "五金店", "服装店", "理发店", "药店", "水果店", "汽车修理部", "超市", "烟酒店"]
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌浩宇欣然晨阳思佳子轩")
_VIOLATIONS = [
    ("未按规定公示年度报告", "《企业信息公示暂行条例》第八条", "警告", False),
    ("销售不符合食品安全标准的食品", "《中华人民共和国食品安全法》第一百二十四条", "罚款;没收违法所得", True),
    ("未依法取得排污许可证排放污染物", "《中华人民共和国环境保护法》第六十三条", "罚款;责令停产停业", True),
    ("发布虚假广告", "《中华人民共和国广告法》第五十五条", "罚款", True),
    ("未按规定办理税务登记", "《中华人民共和国税收征收管理法》第六十条", "罚款", True),
    ("超限运输", "《公路安全保护条例》第六十四条", "罚款", True),
    ("无证经营", "《无证无照经营查处办法》第十三条", "没收违法所得;罚款", True),
    ("违反消防安全规定", "《中华人民共和国消防法》第六十条", "警告;罚款", True),
    ("建设工程未经验收擅自交付使用", "《建设工程质量管理条例》第五十八条", "罚款;降低资质等级", True),
    ("未取得许可从事经营活动", "《中华人民共和国行政许可法》第八十一条", "吊销许可证件", False),
]
_LICENCES = [
    ("食品经营许可证", "核准"),
    ("建筑业企业资质证书", "核准"),
    ("排污许可证", "普通"),
    ("道路运输经营许可证", "普通"),
    ("药品经营许可证", "核准"),
    ("营业执照", "登记"),
    ("烟草专卖零售许可证", "特许"),
    ("卫生许可证", "普通"),
]
_DEPARTMENTS = [
    ("市场监督管理局", "市监"),
    ("生态环境局", "环"),
    ("住房和城乡建设局", "建"),
    ("交通运输局", "交"),
    ("税务局", "税"),
    ("消防救援支队", "消"),
    ("卫生健康委员会", "卫"),
    ("应急管理局", "应急"),
]


@dataclass(frozen=True)
class World:
    """The synthetic population: subjects and the departments that decide about them."""

    subjects: pl.DataFrame  # kind, xdr_lb, name, uscc, regno, orgcode, idcard, division, legal_rep, rep_id
    departments: pl.DataFrame  # uscc, name, abbr, division


def make_world(subjects: int, *, seed: int = 20170701) -> World:
    rng = np.random.default_rng(seed)
    counties = [c.code for c in hubei_counties()]
    rows = [_subject(rng, counties, i) for i in range(subjects)]
    frame = pl.DataFrame(
        rows,
        schema={
            "kind": pl.String,
            "xdr_lb": pl.String,
            "name": pl.String,
            "uscc": pl.String,
            "regno": pl.String,
            "orgcode": pl.String,
            "idcard": pl.String,
            "division": pl.String,
            "legal_rep": pl.String,
            "rep_id": pl.String,
        },
        orient="row",
    )
    return World(subjects=frame, departments=_departments(rng))


def _subject(rng: np.random.Generator, counties: list[str], i: int) -> tuple[str | None, ...]:
    division = counties[int(rng.integers(len(counties)))]
    place = _place(division)
    roll = rng.random()
    rep, rep_id = _person_name(rng), _idcard(rng, counties)
    if roll < 0.10:
        return ("natural_person", "自然人", rep, None, None, None, rep_id, rep_id[:6], None, None)
    orgcode = _orgcode(rng)
    if roll < 0.25:
        name = f"{place}{_pick(rng, _SURNAMES)}{_pick(rng, _GIVEN)}{_pick(rng, _SHOPS)}"
        if roll < 0.13:  # an old 个体工商户 with only a registration number: the placeholder case
            return (
                "individual_business",
                "个体工商户",
                name,
                None,
                _regno(rng, division),
                None,
                None,
                division,
                rep,
                rep_id,
            )
        uscc = make_uscc("9", "2", division, orgcode)
        return ("individual_business", "个体工商户", name, uscc, None, None, None, division, rep, rep_id)
    if roll < 0.30:
        uscc = make_uscc("5", "2", division, orgcode)
        name = f"{place}{_pick(rng, _BRANDS)}{_pick(rng, _BRANDS)}培训学校"
        return ("other_org", "法人及非法人组织", name, uscc, None, None, None, division, rep, rep_id)
    uscc = make_uscc("9", "1", division, orgcode)
    name = f"{place}{_pick(rng, _BRANDS)}{_pick(rng, _BRANDS)}{_pick(rng, _TRADES)}{_pick(rng, _SUFFIXES)}"
    regno = _regno(rng, division) if rng.random() < 0.3 else None
    return (
        "legal_person",
        "法人及非法人组织",
        f"{name}".replace("  ", ""),
        uscc,
        regno,
        None,
        None,
        division,
        rep,
        rep_id,
    )


def _departments(rng: np.random.Generator) -> pl.DataFrame:
    rows = []
    for pref in [p for p in _hubei_prefecture_codes()]:
        short = _short(pref)
        for name, abbr in _DEPARTMENTS:
            rows.append(
                (make_uscc("1", "1", pref, _orgcode(rng)), f"{short}{name}", f"{short[:1]}{abbr}", pref)
            )
    return pl.DataFrame(rows, schema=["uscc", "name", "abbr", "division"], orient="row")


def _hubei_prefecture_codes() -> list[str]:
    from xinyong.codes.divisions import hubei_prefectures

    return [p.code for p in hubei_prefectures()]


def _short(code: str) -> str:
    from xinyong.codes.divisions import lookup_division

    division = lookup_division(code)
    name = division.name if division else "湖北"
    for suffix in ("土家族苗族自治州", "林区", "市", "州"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _place(county: str) -> str:
    pref = prefecture_of(county)
    return _short(pref.code) if pref else "湖北"


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _person_name(rng: np.random.Generator) -> str:
    given = _pick(rng, _GIVEN) + (_pick(rng, _GIVEN) if rng.random() < 0.7 else "")
    return _pick(rng, _SURNAMES) + given


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
    rng, base, dept, decided, seq = _decisions(world, rows, seed, start, end)
    violation = [_VIOLATIONS[k] for k in rng.integers(0, len(_VIOLATIONS), rows)]
    fines = np.round(rng.uniform(0.05, 50, rows), 4)
    years = [d.year for d in decided]
    columns = {
        **base,
        "cf_wsh": [f"{a}罚〔{y}〕{s}号" for a, y, s in zip(dept["abbr"], years, seq, strict=True)],
        "cf_wfxw": [v[0] for v in violation],
        "cf_sy": [f"经查，当事人{v[0]}，违反了{v[1]}的规定。" for v in violation],
        "cf_yj": [v[1] for v in violation],
        "cf_cflb": [v[2] for v in violation],
        "cf_nr": [f"依据{v[1]}，决定给予{v[2].replace(';', '、')}的行政处罚。" for v in violation],
        "cf_nr_fk": [f"{f:.4f}" if "罚款" in v[2] else None for f, v in zip(fines, violation, strict=True)],
        "cf_nr_wfff": [
            f"{f / 10:.4f}" if "没收" in v[2] else None for f, v in zip(fines, violation, strict=True)
        ],
        "cf_nr_zkdx": [
            f"许可证（编号{s:08d}）" if ("吊销" in v[2] or "暂扣" in v[2]) else None
            for s, v in zip(seq, violation, strict=True)
        ],
        "cf_jdrq": decided,
        "cf_yxq": [d + dt.timedelta(days=365 * 3) for d in decided],
        "cf_cfjg": dept["name"].to_list(),
        "cf_cfjgdm": dept["uscc"].to_list(),
        "cf_sjly": dept["name"].to_list(),
        "cf_sjlydm": dept["uscc"].to_list(),
    }
    return _finish(columns, item, rng, bad_fraction, untidy, decision="cf_jdrq", until="cf_yxq", key="cf_wsh")


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
    rng, base, dept, decided, seq = _decisions(world, rows, seed, start, end)
    kinds = [_LICENCES[k] for k in rng.integers(0, len(_LICENCES), rows)]
    columns = {
        **base,
        "xk_xkws": [f"准予行政许可决定书（{k[0]}）" for k in kinds],
        "xk_wsh": [f"{a}许准〔{d.year}〕{s}号" for a, d, s in zip(dept["abbr"], decided, seq, strict=True)],
        "xk_xklb": [k[1] for k in kinds],
        "xk_xkzs": [k[0] for k in kinds],
        "xk_xkbh": [f"XK{s:010d}" for s in seq],
        "xk_nr": [f"准予核发{k[0]}" for k in kinds],
        "xk_jdrq": decided,
        "xk_yxqz": decided,
        "xk_yxqzhi": [d + dt.timedelta(days=365 * 5) for d in decided],
        "xk_xkjg": dept["name"].to_list(),
        "xk_xkjgdm": dept["uscc"].to_list(),
        "xk_zt": ["1"] * rows,
        "xk_sjly": dept["name"].to_list(),
        "xk_sjlydm": dept["uscc"].to_list(),
    }
    return _finish(
        columns, item, rng, bad_fraction, untidy, decision="xk_jdrq", until="xk_yxqzhi", key="xk_wsh"
    )


def _decisions(
    world: World, rows: int, seed: int, start: dt.date, end: dt.date
) -> tuple[np.random.Generator, dict[str, list[str | None]], pl.DataFrame, list[dt.date], np.ndarray]:
    """What every decision file has: the parties, the deciding department, the date, a unique number."""
    rng = np.random.default_rng(seed)
    base = _parties(world, rows, rng)
    dept = world.departments[rng.integers(0, world.departments.height, rows)]
    decided = _dates(rng, rows, start, end)
    return rng, base, dept, decided, rng.permutation(rows) + 1


def _parties(world: World, rows: int, rng: np.random.Generator) -> dict[str, list[str | None]]:
    s = world.subjects[rng.integers(0, world.subjects.height, rows)]
    person = s["kind"] == "natural_person"
    placeholder = s["uscc"].is_null() & (s["kind"] == "individual_business")
    return {
        "xdr_mc": s["name"].to_list(),
        "xdr_lb": s["xdr_lb"].to_list(),
        "xdr_dm1": pl.select(pl.when(placeholder).then(pl.lit("00000000000000000X")).otherwise(s["uscc"]))
        .to_series()
        .to_list(),
        "xdr_dm2": s["regno"].to_list(),
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
            k: pl.Series(k, v, dtype=pl.Date if isinstance(v[0], dt.date) else pl.String)
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
