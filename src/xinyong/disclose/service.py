"""The one answer to "what may this audience see about this subject today?" (披露).

`disclose()` is the only function that decides: the portal's subject page, the JSON API, the CSV export, and
later the credit reports and the checks at service windows all call it (or `assess()`, its per-record core,
for lists across subjects), so no two channels can disagree about one subject — the complaint of the
2018 inspection report (docs/domain.md).

For each record it applies, in order:

1. the catalogue item's disclosure level (公开 / 授权查询 / 政务共享) against what the audience may see
   (security/data/roles.yaml `audiences`) and the level the caller asked for;
2. the record's state (policy `disclosure.states`: disputed items carry 异议处理中; suspended, withdrawn and
   repaired ones leave public view; expired ones are the platform's archive);
3. the period of the item's policy rule (periods.py), on the clock's day: in publicity, after publicity
   (policy `disclosure.after_publicity`: the subject itself and government bodies), archived;
4. masking of personal data: every `sensitive` field for everyone (only masked copies are stored), and for
   the public every natural person's name — the subject's own where policy `masking.person_names` says it
   is a person's name, and every `names_person` field (法定代表人, 负责人, 经营者) on a person's or an
   个体工商户's records. The subject page, the lists, the notices, the exports and the search results all
   mask through `shown_subject_name` and `shown_data`.

It reads and never writes: recording who looked (audit trail, query log) is the caller's flow (flows.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
import yaml

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.models import DisclosureLevel, FieldType, Item
from xinyong.clock import CHINA, Clock
from xinyong.codes.divisions import lookup_division
from xinyong.disclose.lookups import record_rows, subject_row
from xinyong.disclose.models import Audience, Disclosure, Label, LevelName, ShownRecord, Verdict
from xinyong.disclose.periods import RecordFacts, window
from xinyong.policy import Policy, load_policy
from xinyong.security.masking import mask_id_number, mask_ids_in_text, mask_person_name
from xinyong.security.roles import LEVELS, load_roles
from xinyong.store.tables import organisations
from xinyong.subjects.service import SUBJECT_REF_PREFIX, SubjectNotFound

LEVEL_OF: dict[str, LevelName] = {
    DisclosureLevel.PUBLIC: "public",
    DisclosureLevel.AUTHORISED: "authorised",
    DisclosureLevel.GOVERNMENT: "government",
}
# Who may learn how many records are hidden from them, and why: the subject about itself, government bodies
# and the platform. The public and an authorised querier see what they may see and nothing about the rest:
# that a person has records at a level they cannot reach is itself not public.
HIDDEN_COUNTS_FOR: frozenset[str] = frozenset({"self", "government", "platform"})
# Only the public sees a natural person's name masked; an authorised querier holds the person's consent.
MASKED_NAMES_FOR: frozenset[str] = frozenset({"public"})
FREE_TEXT = (FieldType.STRING, FieldType.TEXT)

REASONS: dict[str, Label] = {
    label.code: label
    for label in (
        # why a record is visible
        Label("in_publicity", "公示期内", "within its publicity period"),
        Label("no_end", "持续公示", "shown without an end date"),
        Label("authorised", "经信用主体授权查询", "shown under the subject's authorisation"),
        Label("own_information", "本人信息查询", "the subject's own information"),
        Label("government_sharing", "政务共享（履行职责）", "shared with government bodies for their duties"),
        Label("platform", "平台保存的全部信息", "everything the platform holds"),
        # why a record is hidden
        Label("level", "不属于可查询的披露方式", "at a disclosure level this audience may not see"),
        Label("level_not_requested", "高于本次查询的披露方式", "above the disclosure level asked for"),
        Label("not_published", "依规不予公示", "not published under the rules"),
        Label("before_decision", "决定日期尚未到来", "its decision date has not come yet"),
        Label("publicity_ended", "公示期已满", "its publicity period has ended"),
        Label("licence_invalid", "许可已无效", "the licence is no longer valid"),
        Label("licence_expired", "许可已过有效期", "the licence has expired"),
        Label("archived", "已过信息提供期限，转为档案保存", "its information period has ended; archived"),
        Label("state_disputed", "异议处理中", "objection in progress"),
        Label("state_corrected", "已更正", "corrected"),
        Label("state_suspended", "异议处理中，暂停披露", "disclosure suspended during an objection"),
        Label("state_withdrawn", "处罚（许可）决定已撤销", "the decision was revoked"),
        Label("state_repaired", "已信用修复", "credit repaired"),
        Label("state_expired", "已过披露期限，转为档案保存", "disclosure period over; archived"),
        Label("state_active", "有效", "active"),
    )
}
MARK_PUBLICITY_ENDED = Label("publicity_ended", "公示期满", "publicity ended")
MARK_NOT_PUBLISHED = Label("not_published", "未公示", "not published")
MARK_LICENCE_EXPIRED = Label("licence_expired", "已过有效期", "expired")
MARK_LICENCE_INVALID = Label("licence_invalid", "已无效", "invalid")
MARK_ARCHIVED = Label("archived", "已归档", "archived")


def level_of(item: Item) -> LevelName:
    return LEVEL_OF[item.disclosure_level]


def audience_levels(audience: Audience) -> tuple[LevelName, ...]:
    """The disclosure levels an audience may see (roles.yaml `audiences`)."""
    return tuple(load_roles().audiences[audience].sees)


def highest_level(audience: Audience) -> LevelName:
    return max(audience_levels(audience), key=LEVELS.index)


# ------------------------------------------------------------------------------------------ one record


def assess(
    facts: RecordFacts,
    item: Item,
    state: str,
    *,
    audience: Audience,
    up_to: LevelName,
    today: dt.date,
    policy: Policy,
) -> Verdict:
    """Whether this record is shown to `audience` on `today`, asked at levels up to `up_to`, and why."""
    level = level_of(item)
    if level not in audience_levels(audience):
        return _hidden("level")
    if LEVELS.index(level) > LEVELS.index(up_to):
        return _hidden("level_not_requested")
    states = policy.disclosure.states
    if audience not in states.shown_to.get(state, ()):  # type: ignore[call-overload]
        return _hidden(f"state_{state}")
    mark = states.marks.get(state)  # type: ignore[call-overload]
    marks = [Label(state, mark.zh, mark.en)] if mark else []

    if facts.decision_date is not None and today < facts.decision_date and audience != "platform":
        # A day before the decision (a clock set back, a report as of an earlier date) nothing is disclosed.
        return _hidden("before_decision")
    w = window(facts, item, policy)
    licence = w.rule == "licence_validity"
    in_public = w.published and (w.public_until is None or today <= w.public_until)
    provided = w.provided_until is None or today <= w.provided_until
    ended = _ended_mark(w.published, licence)
    common = {"rule": w.rule, "penalty_class": w.penalty_class}

    if audience == "platform":
        if not provided and state != "expired":
            marks.append(MARK_ARCHIVED)
        elif provided and not in_public:
            marks.append(ended)
        return Verdict(True, REASONS["platform"], tuple(marks), until=None, **common)
    if not provided:
        return _hidden("archived", **common)
    if in_public:
        return Verdict(
            True, _visible_reason(level, audience, w.public_until), tuple(marks), w.public_until, **common
        )
    if audience in policy.disclosure.after_publicity.shown_to:
        marks.append(ended)
        reason = REASONS["own_information" if audience == "self" else "government_sharing"]
        return Verdict(True, reason, tuple(marks), until=w.provided_until, **common)
    if licence:
        return _hidden("licence_expired" if w.published else "licence_invalid", **common)
    return _hidden("publicity_ended" if w.published else "not_published", **common)


def _visible_reason(level: LevelName, audience: Audience, until: dt.date | None) -> Label:
    if level == "public":
        return REASONS["in_publicity" if until is not None else "no_end"]
    if audience == "self":
        return REASONS["own_information"]
    if audience == "authorised":
        return REASONS["authorised"]
    return REASONS["government_sharing"]


def _ended_mark(published: bool, licence: bool) -> Label:
    if licence:
        return MARK_LICENCE_EXPIRED if published else MARK_LICENCE_INVALID
    return MARK_PUBLICITY_ENDED if published else MARK_NOT_PUBLISHED


def _hidden(code: str, **common: Any) -> Verdict:
    return Verdict(False, REASONS.get(code) or Label(code, code, code), **common)


# ------------------------------------------------------------------------------------------ one subject


def disclose(
    conn: sa.Connection,
    *,
    subject_id: int,
    audience: Audience,
    clock: Clock,
    catalog: Catalog | None = None,
    policy: Policy | None = None,
    level: LevelName | None = None,
    text_limit: int | None = None,
) -> Disclosure:
    """What `audience` may see about the subject today, at disclosure levels up to `level` (default: every
    level the audience may see), each text field cut at `text_limit` characters when one is given (a list
    view). Raises SubjectNotFound for an unknown id."""
    catalog = catalog or load_catalog()
    policy = policy or load_policy()
    up_to = level or highest_level(audience)
    today = clock.today()
    subject = subject_row(conn, subject_id)
    if subject is None:
        raise SubjectNotFound(subject_id)
    natural_person = subject["kind"] == "natural_person"
    rows = record_rows(conn, subject_id)
    names = source_names(conn, rows, catalog)

    shown: list[ShownRecord] = []
    hidden: dict[str, int] = {}
    for row in rows:
        item = _item(catalog, row.item_code)
        if item is None:  # an item the current catalogue edition dropped: only the platform keeps it
            if audience == "platform":
                continue
            hidden["level"] = hidden.get("level", 0) + 1
            continue
        facts = record_facts(row, item, natural_person=natural_person, source_name=names.get(row.source_uscc))
        verdict = assess(facts, item, row.state, audience=audience, up_to=up_to, today=today, policy=policy)
        if verdict.visible:
            shown.append(
                shown_record(
                    row,
                    item,
                    facts,
                    verdict,
                    audience=audience,
                    subject_kind=subject["kind"],
                    policy=policy,
                    text_limit=text_limit,
                )
            )
        else:
            hidden[verdict.reason.code] = hidden.get(verdict.reason.code, 0) + 1

    order = {item.code: i for i, item in enumerate(catalog.items)}
    shown.sort(key=lambda r: (order.get(r.item_code, len(order)), _desc_date(r.decision_date), -r.id))
    counts = hidden if audience in HIDDEN_COUNTS_FOR else None
    return Disclosure(
        subject=subject_view(subject, audience, policy),
        audience=audience,
        level=up_to,
        as_of=today,
        records=tuple(shown),
        hidden=counts,
        hidden_labels={code: REASONS.get(code) or Label(code, code, code) for code in (counts or {})},
    )


def record_facts(row: Any, item: Item, *, natural_person: bool, source_name: str | None) -> RecordFacts:
    return RecordFacts(
        item_code=row.item_code,
        decision_date=row.decision_date,
        valid_until=row.valid_until,
        act_end_date=row.act_end_date,
        first_seen=row.first_seen.astimezone(CHINA).date(),
        source_uscc=row.source_uscc,
        source_name=source_name,
        natural_person=natural_person,
        data=row.data or {},
        receipt_working_days=row.receipt_working_days,
    )


def shown_record(
    row: Any,
    item: Item,
    facts: RecordFacts,
    verdict: Verdict,
    *,
    audience: Audience,
    subject_kind: str,
    policy: Policy,
    text_limit: int | None = None,
) -> ShownRecord:
    """One visible record as `audience` sees it; in a list view (`text_limit`), text longer than the limit is
    cut and the field named in `truncated`."""
    data = shown_data(row.data or {}, item, audience=audience, subject_kind=subject_kind, policy=policy)
    truncated = truncate_texts(data, text_limit) if text_limit is not None else ()
    return ShownRecord(
        id=row.id,
        item_code=item.code,
        item_name_zh=item.name_zh,
        item_name_en=item.name_en,
        category=str(item.category),
        level=level_of(item),
        state=row.state,
        source_key=row.source_key,
        source_uscc=row.source_uscc,
        source_name=facts.source_name,
        decision_date=row.decision_date,
        valid_until=row.valid_until,
        first_collected=row.first_seen,
        last_updated=row.updated_at,
        reason=verdict.reason,
        marks=verdict.marks,
        visible_until=verdict.until,
        rule=verdict.rule,
        penalty_class=verdict.penalty_class,
        title=record_title(item, data),
        data=data,
        truncated=truncated,
    )


ELLIPSIS = "…"


def truncate_texts(data: dict[str, Any], limit: int) -> tuple[str, ...]:
    """Cut every text value of `data` longer than `limit` characters (in place), ending it with an ellipsis;
    returns the fields cut. A list never carries a whole huge cell: the notice does."""
    cut = []
    for code, value in data.items():
        if isinstance(value, str) and len(value) > limit:
            data[code] = value[: max(limit - 1, 0)] + ELLIPSIS
            cut.append(code)
    return tuple(cut)


def shown_data(
    data: Mapping[str, Any], item: Item, *, audience: Audience, subject_kind: str, policy: Policy
) -> dict[str, Any]:
    """The record's fields as this audience may see them: sensitive fields and ID numbers in free text masked
    for everyone (only masked copies of ID fields are stored anyway); for the public, the subject's name where
    it is a person's name and, on a person's or an 个体工商户's record, every field that names a person
    (catalogue `names_person`)."""
    out = dict(data)
    for spec in item.fields:
        value = out.get(spec.code)
        if spec.sensitive and isinstance(value, str):
            out[spec.code] = mask_id_number(value)
        elif spec.type in FREE_TEXT and isinstance(value, str):
            # A provider may write an ID number into the facts of a case: it is never shown in clear either.
            out[spec.code] = mask_ids_in_text(value)
    if audience not in MASKED_NAMES_FOR:
        return out
    name_field = item.subject_fields.name
    if name_field in out:
        out[name_field] = shown_subject_name(out[name_field], subject_kind, audience, policy)
    if subject_kind in policy.masking.person_names.named_person_fields:
        for spec in item.fields:
            value = out.get(spec.code)
            if spec.names_person and isinstance(value, str) and value:
                out[spec.code] = mask_person_name(value, rule=policy.masking.name)
    return out


def is_person_name(name: str | None, subject_kind: str, policy: Policy) -> bool:
    """Whether a subject's name is a natural person's name (policy `masking.person_names`): a natural
    person's always; an 个体工商户's when it is no longer than a personal name (registered under its
    operator's bare name)."""
    return policy.masking.person_names.names_a_person(name, subject_kind)


def shown_subject_name(name: Any, subject_kind: str, audience: str, policy: Policy) -> Any:
    """A subject's name as `audience` may see it: masked for the public when it is a person's name."""
    if audience in MASKED_NAMES_FOR and isinstance(name, str) and is_person_name(name, subject_kind, policy):
        return mask_person_name(name, rule=policy.masking.name)
    return name


def subject_view(subject: dict[str, Any], audience: Audience, policy: Policy) -> dict[str, Any]:
    """The subject's identity as the audience may see it (a person's names masked for the public)."""
    kind = subject["kind"]
    shown = {
        **subject,
        "name": shown_subject_name(subject["name"], kind, audience, policy),
        "names": [
            {**n, "name": shown_subject_name(n["name"], kind, audience, policy)} for n in subject["names"]
        ],
    }
    names = shown["names"]
    if audience not in ("government", "platform"):
        # Names a provider used that differ from the registered one are evidence for the platform's staff.
        names = [n for n in names if n["role"] in ("current", "former")]
    division = lookup_division(shown["division_code"]) if shown.get("division_code") else None
    return {
        "code": public_code(shown),
        "kind": shown["kind"],
        "name": shown["name"],
        "uscc": shown["uscc"],
        "division_code": shown["division_code"],
        "division_name": division.full_name if division else None,
        "status": shown["status"],
        "identifiers": [dict(i) for i in shown["identifiers"]],
        "names": [
            {
                "name": n["name"],
                "role": n["role"],
                "first_seen": _iso(n["first_seen"]),
                "last_seen": _iso(n["last_seen"]),
            }
            for n in names
        ],
    }


def public_code(subject: Mapping[str, Any]) -> str:
    """The code a page or API link names the subject by: its USCC, else an organisation identifier, else its
    opaque platform reference, xy- and 24 random hex characters (subjects.public_ref). A person's ID number
    never goes into a URL, and references cannot be counted through (the old xy-<id> could)."""
    if subject.get("uscc"):
        return str(subject["uscc"])
    for ident in subject.get("identifiers", ()):
        if ident["scheme"] not in ("idcard", "iddoc"):
            return str(ident["value"])
    return f"{SUBJECT_REF_PREFIX}{subject['public_ref']}"


# ---------------------------------------------------------------------------------------------- helpers


@cache
def display_config() -> dict[str, dict[str, Any]]:
    text = resources.files("xinyong.disclose").joinpath("data/display.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["items"]


def record_title(item: Item, data: Mapping[str, Any]) -> str:
    for code in display_config().get(item.code, {}).get("title", ()):
        if data.get(code):
            return str(data[code])
    return item.name_zh


def source_names(conn: sa.Connection, rows: Iterable[Any], catalog: Catalog) -> dict[str, str]:
    """The providing department's name for each source USCC: the record's own 数据来源单位 field where the
    item has one, else the organisation register."""
    names: dict[str, str] = {}
    missing: set[str] = set()
    for row in rows:
        item = _item(catalog, row.item_code)
        field = item.data_source.name if item is not None and item.data_source else None
        value = (row.data or {}).get(field) if field else None
        if value:
            names.setdefault(row.source_uscc, str(value))
        elif row.source_uscc not in names:
            missing.add(row.source_uscc)
    missing -= set(names)
    if missing:
        found = conn.execute(
            sa.select(organisations.c.uscc, organisations.c.name).where(
                organisations.c.uscc.in_(sorted(missing))
            )
        )
        names.update({uscc: name for uscc, name in found})
    return names


def _item(catalog: Catalog, code: str) -> Item | None:
    try:
        return catalog.item(code)
    except KeyError:
        return None


def _desc_date(value: dt.date | None) -> int:
    return -(value.toordinal() if value else 0)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
