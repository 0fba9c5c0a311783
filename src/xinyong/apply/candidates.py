"""A check by name (no identifier): the subjects it may mean, each with why it matched, and no measures.

A name alone never decides whom a measure falls on: two firms share a name across divisions, a firm renamed
keeps its old name on a tender. So a name-only check answers candidates — found by the platform's one
subject search (disclose.search: current and former names, pinyin initials) — each with how it matched and
how its registered division relates to the division given; the caller then checks the one it means by its
identifier, and that check is the one recorded.

    how it matched     exact_name (the whole name) | similar (the name contains the query) |
                       former_name (a 曾用名 contains it) | pinyin (its initials do) | identifier
    division_match     same | within (a county of the prefecture or province given) | outside | unknown
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.apply.answers import matter_dict, matter_of
from xinyong.apply.errors import Refused
from xinyong.apply.proposals import active_catalogue
from xinyong.codes.divisions import lookup_division
from xinyong.disclose.search import Hit, name_key, search
from xinyong.runtime import Runtime

LIMIT = 20
_ORDER = {"same": 0, "within": 1, "unknown": 2, "outside": 3}
_HOW = {"exact_name": 0, "identifier": 0, "similar": 1, "former_name": 2, "pinyin": 3}


def division_scope(code: str) -> str:
    """The prefix every division inside `code` starts with: 42 (a province), 4201 (a prefecture), or the
    whole code (a county)."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def division_match(asked: str, registered: str | None) -> str:
    if not registered:
        return "unknown"
    if registered == asked:
        return "same"
    return "within" if registered.startswith(division_scope(asked)) else "outside"


def how_matched(hit: Hit, query: str) -> str:
    if hit.match == "name":
        return "exact_name" if name_key(hit.name) == name_key(query) else "similar"
    return hit.match


def valid_division(division: str | None) -> str:
    code = (division or "").strip()
    if not (len(code) == 6 and code.isdigit() and lookup_division(code) is not None):
        raise Refused.one(
            "check.division",
            "按名称核查须同时给出六位行政区划代码（GB/T 2260），如 420100",
            "a check by name needs a six-digit division code (GB/T 2260), such as 420100",
            field="division",
        )
    return code


def candidates(
    conn: sa.Connection, runtime: Runtime, *, name: str, division: str | None, matter: str
) -> dict[str, Any]:
    """The subjects `name` may mean, nearest first (same division, then exact name), without measures."""
    business = matter_of(active_catalogue(conn), matter)
    asked = valid_division(division)
    found = search(conn, name, protector=runtime.protector, limit=LIMIT)
    shown = []
    for hit in found.hits:
        how = how_matched(hit, found.query)
        shown.append(
            {
                "code": hit.code,
                "name": hit.name,
                "kind": hit.kind,
                "division_code": hit.division_code,
                "division_name": hit.division_name,
                "match": how,
                "matched_name": hit.matched_name,
                "division_match": division_match(asked, hit.division_code),
            }
        )
    shown.sort(key=lambda c: (_ORDER[c["division_match"]], _HOW.get(c["match"], 9)))
    return {
        "resolved": False,
        "query": {"name": found.query, "division": asked},
        "matter": matter_dict(business),
        "candidates": shown,
        "more": found.more,
        "partial": found.partial,
        "next": "按候选主体的代码再次核查，才返回名单与措施 / "
        "check again with the chosen candidate's code to get its lists and measures",
    }
