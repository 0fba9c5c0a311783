"""GB/T 2260 administrative division names: every province, and Hubei down to county level.

The data lives in `data/gb2260.yaml` (edition and source noted there). Lookups never fail: an
unknown code gives None, and the identifier checks turn that into a warning, because codes on
old identity numbers and out-of-province registrations are legitimately outside our table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from xinyong.problems import Problem

Level = Literal["province", "prefecture", "county"]

HUBEI = "420000"
# Code used in place of a division by national-level registration authorities (GB 32100 example).
NATIONAL = "100000"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str  # its own name, e.g. 江岸区
    full_name: str  # the path from the province, e.g. 湖北省武汉市江岸区
    level: Level
    current: bool = True  # False for a Hubei code that was valid in an older MCA revision
    short: str | None = None  # short name of a Hubei prefecture-level unit, e.g. 恩施州
    kind: str | None = None  # 地级市, 自治州, 省直辖县级市, 林区... for Hubei prefecture-level units


@dataclass(frozen=True, slots=True)
class _Table:
    edition: str
    source: str
    by_code: dict[str, Division]
    prefectures: tuple[Division, ...]
    counties: dict[str, tuple[Division, ...]]  # prefecture code -> its county-level units


def _load_yaml() -> dict[str, Any]:
    text = resources.files("xinyong.codes").joinpath("data/gb2260.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: a safe loader


@cache
def _table() -> _Table:
    raw = _load_yaml()
    by_code: dict[str, Division] = {}
    for code, name in raw["provinces"].items():
        by_code[code] = Division(code, name, name, "province")
    province = by_code[HUBEI].name

    prefectures: list[Division] = []
    counties: dict[str, tuple[Division, ...]] = {}
    for code, unit in raw["hubei"].items():
        directly_administered = code.startswith("4290")
        pref = Division(
            code,
            unit["name"],
            province + unit["name"],
            # 省直辖县级行政单位 are county-level units that stand in for a prefecture.
            "county" if directly_administered else "prefecture",
            short=unit.get("short"),
            kind=unit.get("kind"),
        )
        by_code[code] = pref
        prefectures.append(pref)
        members = [
            Division(c, n, pref.full_name + n, "county") for c, n in (unit.get("counties") or {}).items()
        ]
        for d in members:
            by_code[d.code] = d
        counties[code] = (pref,) if directly_administered else tuple(members)

    for code, entry in raw["hubei_former"].items():
        if code in by_code:  # a current code always wins over a former meaning of the same digits
            continue
        full = entry["full_name"]
        level: Level = "county" if code[4:] != "00" else "prefecture"
        by_code[code] = Division(code, full.removeprefix(province), full, level, current=False)

    return _Table(raw["edition"], raw["source"], by_code, tuple(prefectures), counties)


def edition() -> str:
    """Which MCA revision the table follows."""
    return _table().edition


def lookup_division(code: str) -> Division | None:
    """The division with exactly this code, current or (for Hubei) former; None if not in the table."""
    return _table().by_code.get(code)


def province_prefixes() -> tuple[str, ...]:
    """The first two digits of every province-level code (11 北京 ... 82 澳门)."""
    return tuple(sorted(code[:2] for code, d in _table().by_code.items() if d.level == "province"))


def province_of(code: str) -> Division | None:
    if len(code) < 2 or not code[:2].isdigit():
        return None
    return _table().by_code.get(code[:2] + "0000")


def division_name(code: str) -> str | None:
    """Full name of a division code, e.g. 420102 -> 湖北省武汉市江岸区.

    A code outside Hubei that is not a province code itself gets its province's name (we keep
    only province level for the rest of the country); an unknown code gives None.
    """
    found = lookup_division(code)
    if found is not None:
        return found.full_name
    if code[:2] != HUBEI[:2]:
        province = province_of(code)
        if province is not None:
            return province.full_name
    return None


def prefecture_of(code: str) -> Division | None:
    """The Hubei prefecture-level unit a code belongs to (itself for a prefecture or 直管市)."""
    if len(code) != 6 or not code.startswith("42") or code == HUBEI:
        return None
    if code.startswith("4290"):
        found = lookup_division(code)
        return found if found is not None and found.current else None
    return lookup_division(code[:4] + "00")


def hubei_prefectures() -> tuple[Division, ...]:
    """Hubei's 12 prefecture-level cities, 恩施州 and the 4 directly administered units (17 in all)."""
    return _table().prefectures


def hubei_counties(prefecture: str | None = None) -> tuple[Division, ...]:
    """Current county-level units of Hubei (103), or of one prefecture given by code or name.

    A directly administered unit (e.g. 429004 仙桃市) is its own single county-level unit.
    """
    table = _table()
    if prefecture is None:
        return tuple(d for members in table.counties.values() for d in members)
    for pref in table.prefectures:
        if prefecture in (pref.code, pref.name, pref.short):
            return table.counties[pref.code]
    raise KeyError(f"not a Hubei prefecture-level unit: {prefecture!r}")


def check_division(
    code: str, *, where_zh: str, where_en: str, allow_national: bool = False
) -> tuple[dict[str, Any], Problem | None]:
    """Name a division code for a check's `parts`, or say it is unknown (a warning, never an error).

    Outside Hubei only the province is verified: our table stops there, and warning on every
    out-of-province county would drown the warnings that matter.
    """
    parts: dict[str, Any] = {"division_code": code}
    if allow_national and code == NATIONAL:
        parts["division_name"] = "国家级登记管理机关"
        return parts, None
    found = lookup_division(code)
    if found is not None:
        parts["division_name"] = found.full_name
        if not found.current:
            parts["division_current"] = False
        return parts, None
    province = province_of(code)
    if province is not None and code[:2] != HUBEI[:2]:
        parts["division_name"] = province.full_name
        parts["division_precision"] = "province"
        return parts, None
    parts["division_name"] = None
    return parts, Problem(
        "division.unknown",
        f"{where_zh}的行政区划代码'{code}'不在GB/T 2260区划表中；若是已撤销的旧区划可忽略，否则请核对",
        f"division code '{code}' ({where_en}) is not in the GB/T 2260 table; ignore this for an old, "
        "abolished division, otherwise check it",
    )
