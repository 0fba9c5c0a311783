"""What a check answers, built from prepared statements and cached measure lists: the part of the check
(逢办必查) that reads, shared by the single check, the name-only check and the batch check.

A check is the hot path of the chapter (every service window, every bidder of every tender), so nothing here
is rebuilt per call: the SQL statements are built once per process with bound parameters, and the measures
that apply to (list type, matter, subject kind) are turned into answer dictionaries once per catalogue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from xinyong.apply.catalogue import ApplyCatalogue, Matter, load_catalogue
from xinyong.apply.errors import Refused
from xinyong.apply.models import list_entries
from xinyong.apply.service import REMOVALS_DUE, subject_ref
from xinyong.disclose.service import is_person_name
from xinyong.policy import Policy, load_policy
from xinyong.subjects.models import subjects

# A check reads personal information when it is about a natural person, or an 个体工商户 registered under its
# operator's bare name (policy `masking.person_names`, the rule the portal masks by): such a check is audited.
# A check of an organisation answers only what the public list (名单公示) and the published memoranda already
# show, and is recorded in `checks` (who asked about whom, when, for which matter).
PERSONAL_KINDS = ("natural_person", "individual_business")


def is_personal(kind: str, name: str | None, policy: Policy | None = None) -> bool:
    if kind not in PERSONAL_KINDS:
        return False
    return kind == "natural_person" or is_person_name(name, kind, policy or load_policy())


_e, _s = list_entries, subjects
# The subject and its entries in force on :day, in one round trip (no entry: one row of NULL entry columns).
_SUBJECT_AND_ENTRIES = (
    sa.select(
        _s.c.id,
        _s.c.kind,
        _s.c.uscc,
        _s.c.name,
        _s.c.public_ref,
        _s.c.status,
        REMOVALS_DUE.label("removals_due"),
        _e.c.id.label("entry_id"),
        _e.c.list_type,
        _e.c.basis,
        _e.c.decided_on,
        _e.c.valid_until,
    )
    .select_from(
        _s.outerjoin(
            _e,
            sa.and_(
                _e.c.subject_id == _s.c.id,
                _e.c.state == "listed",
                _e.c.valid_until >= sa.bindparam("day", type_=sa.Date),
            ),
        )
    )
    .where(_s.c.id == sa.bindparam("sid"))
    .order_by(_e.c.id)
)
# The same for many subjects at once (the batch check): only subjects with entries in force come back.
_ENTRIES_OF_MANY = (
    sa.select(
        _e.c.subject_id,
        _e.c.id.label("entry_id"),
        _e.c.list_type,
        _e.c.basis,
        _e.c.decided_on,
        _e.c.valid_until,
    )
    .where(
        _e.c.subject_id.in_(sa.bindparam("sids", expanding=True)),
        _e.c.state == "listed",
        _e.c.valid_until >= sa.bindparam("day", type_=sa.Date),
    )
    .order_by(_e.c.subject_id, _e.c.id)
)
CHUNK = 5000


def matter_of(catalogue: ApplyCatalogue, matter: str) -> Matter:
    business = catalogue.matter((matter or "").strip().upper())
    if business is None:
        known = "、".join(m.code for m in catalogue.matters)
        raise Refused.one(
            "check.matter_unknown",
            f"未知的业务事项 {matter}；可选：{known}",
            f"unknown business matter {matter}; one of {known.replace('、', ', ')}",
            field="matter",
        )
    return business


def matter_dict(business: Matter) -> dict[str, str]:
    return {"code": business.code, "name_zh": business.name_zh, "name_en": business.name_en}


# Keyed by the catalogue's identity: hashing a pydantic catalogue (every field) on each call would cost more
# than the look-up saves. The catalogue is kept beside its cache so that its id cannot be reused meanwhile.
_MEASURE_CACHE: dict[int, tuple[ApplyCatalogue, dict[tuple[str, str, str], tuple[dict[str, Any], ...]]]] = {}


def _measures(
    catalogue: ApplyCatalogue, list_type: str, matter: str, kind: str
) -> tuple[dict[str, Any], ...]:
    """The measures (as answered) of the memoranda targeting `list_type` for `matter` and subject `kind`."""
    held = _MEASURE_CACHE.get(id(catalogue))
    if held is None or held[0] is not catalogue:
        if len(_MEASURE_CACHE) > 16:
            _MEASURE_CACHE.clear()
        held = _MEASURE_CACHE[id(catalogue)] = (catalogue, {})
    key = (list_type, matter, kind)
    found = held[1].get(key)
    if found is None:
        found = held[1][key] = _build_measures(catalogue, list_type, matter, kind)
    return found


def _build_measures(
    catalogue: ApplyCatalogue, list_type: str, matter: str, kind: str
) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "code": measure.code,
            "content_zh": measure.content_zh,
            "content_en": measure.content_en,
            "basis": measure.basis,
            "effect": measure.effect,
            "mandatory": measure.mandatory,
            "departments": list(measure.departments),
            "memorandum": memo.name_zh,
            "document": memo.document,
            "list_type": list_type,
        }
        for memo, measure in catalogue.measures_for(list_type, matter, kind)
    )


def lists_and_measures(
    rows: Iterable[Any], *, kind: str, matter: str, catalogue: ApplyCatalogue
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Entry rows (entry_id, list_type, basis, decided_on, valid_until) → the answer's lists and measures."""
    lists: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    for row in rows:
        found = catalogue.list_type(row.list_type)
        if found is None:
            continue
        lists.append(
            {
                "entry_id": row.entry_id,
                "list_type": found.code,
                "name_zh": found.name_zh,
                "name_en": found.name_en,
                "kind": found.kind,
                "deciding_body": found.deciding_body,
                "basis": row.basis,
                "decided_on": _iso(row.decided_on),
                "valid_until": _iso(row.valid_until),
            }
        )
        measures += [m | {"entry_id": row.entry_id} for m in _measures(catalogue, found.code, matter, kind)]
    return lists, measures


def answer_for(
    conn: sa.Connection,
    subject_id: int,
    *,
    business: Matter,
    day: dt.date,
    catalogue: ApplyCatalogue | None = None,
    catch_up: Callable[[], None] | None = None,
) -> tuple[dict[str, Any], bool] | None:
    """(the answer, whether it is about a person: is_personal) for one subject: its entries in force on
    `day` and their measures. None when no active subject has that id (merged: resolve the code again).
    `catch_up` runs when a record event came after the chapter's cursor (the same query asks), and then the
    entries are read again."""
    catalogue = catalogue or load_catalogue()
    rows = conn.execute(_SUBJECT_AND_ENTRIES, {"sid": subject_id, "day": day}).all()
    if rows and rows[0].removals_due and catch_up is not None:
        catch_up()
        rows = conn.execute(_SUBJECT_AND_ENTRIES, {"sid": subject_id, "day": day}).all()
    if not rows or rows[0].status != "active":
        return None
    first = rows[0]
    entries = [r for r in rows if r.entry_id is not None]
    lists, measures = lists_and_measures(entries, kind=first.kind, matter=business.code, catalogue=catalogue)
    answer = {
        "subject": subject_ref(first),
        "matter": matter_dict(business),
        "checked_on": day.isoformat(),
        "lists": lists,
        "measures": measures,
    }
    return answer, is_personal(first.kind, first.name)


def entries_of_many(conn: sa.Connection, subject_ids: Sequence[int], *, day: dt.date) -> dict[int, list[Any]]:
    """The entries in force on `day` of many subjects, in chunks of one query each: {subject_id: [rows]}."""
    found: dict[int, list[Any]] = {}
    unique = sorted(set(subject_ids))
    for start in range(0, len(unique), CHUNK):
        for row in conn.execute(_ENTRIES_OF_MANY, {"sids": unique[start : start + CHUNK], "day": day}):
            found.setdefault(row.subject_id, []).append(row)
    return found


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None
