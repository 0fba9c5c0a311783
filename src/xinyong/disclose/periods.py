"""How long one record is disclosed, by the policy rule its catalogue item names (docs/domain.md §3).

`window()` turns a record into two dates: the last day of its publicity (`public_until`) and the last day
it is provided at all (`provided_until`), after which it is kept as an archive that only the platform
sees. Every number comes from the policy file; this module only knows which number applies.

    adverse_default_5y   5 years from the end of the act; an item that records the end of the act and has
                         none yet (a debtor still listed, arrears not paid) is ongoing and has no end
    penalty_by_class     令第36号: 轻微/一般/严重 from the decision date; publication stops at the class's
                         maximum; 轻微 is not published unless the provider set a 公示截止期. Then
                         provided until the adverse period ends.
    penalty_samr         总局令第45号 for a market regulator's own penalties, from publication (first
                         collected): 警告 alone not published, 通报批评 or a small fine 3 months,
                         the rest 3 years. A penalty first received after SAMR's publication deadline
                         (policy `penalty_samr.published_within`, in working days at first receipt)
                         counts from its decision: a late upload never restarts publicity.
    licence_validity     while 有效期至 has not passed (the long-term sentinel means no end), and never when
                         the licence's status says it is invalid
    permanent_basic      no end while the subject exists

Two limits bind every rule's publicity, whatever the rule computed: for adverse information, the 5-year
period of `adverse_default_5y` (from the end of the act, else the decision); and the provider's own
公示截止期 where the item has one (the deciding body says when its publication ends; the platform never
shows a record publicly past that day, nor lengthens it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.catalog.models import Item
from xinyong.policy import Policy, add_period

# The penalty kinds 总局令第45号 第十三条 names (行政处罚法 第九条 spellings, as the 双公示 value list).
WARNING = "警告"
SHORT_PERIOD_KINDS = frozenset({"警告", "通报批评", "罚款"})
FINE = "罚款"


@dataclass(frozen=True, slots=True)
class Window:
    rule: str  # the policy rule that applied (penalty_samr can stand in for penalty_by_class)
    published: bool  # False: never shown publicly (轻微 by default, SAMR's 警告 alone, an invalid licence)
    public_until: dt.date | None  # last day of publicity; None: no end
    provided_until: dt.date | None  # last day it is provided to anyone but the platform; None: no end
    starts: dt.date | None = None
    penalty_class: str | None = None
    minimum_until: dt.date | None = None  # end of the minimum publicity (repair may be applied for after)


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the period rules read from a record row."""

    item_code: str
    decision_date: dt.date | None
    valid_until: dt.date | None
    act_end_date: dt.date | None
    first_seen: dt.date  # the platform's first collection: SAMR's "publication" day
    source_uscc: str
    source_name: str | None
    natural_person: bool
    data: dict[str, Any]
    # Working days from the decision to the first receipt (collection measures it once); None: not measured
    receipt_working_days: int | None = None


def window(facts: RecordFacts, item: Item, policy: Policy) -> Window:
    """The record's window under its item's rule, within the limits that bind every rule."""
    return _bounded(_rule_window(facts, item, policy), facts, item, policy)


def _bounded(w: Window, facts: RecordFacts, item: Item, policy: Policy) -> Window:
    """Publicity ends by the 5-year adverse limit and by the provider's 公示截止期, whichever comes first."""
    limits = [publish_until(facts, item)]
    if item.category.is_adverse:
        limits.append(adverse_end(facts, item, policy))
    public_until = w.public_until
    for limit in limits:
        if limit is not None:
            public_until = limit if public_until is None else min(public_until, limit)
    if public_until == w.public_until:
        return w
    return replace(w, public_until=public_until)


def publish_until(facts: RecordFacts, item: Item) -> dt.date | None:
    """The provider's 公示截止期, where the item has one and the record fills it."""
    field = item.date_fields.publish_until
    return _date(facts.data.get(field)) if field else None


def _rule_window(facts: RecordFacts, item: Item, policy: Policy) -> Window:
    rule = item.disclosure_period
    if rule == "penalty_by_class":
        samr = policy.disclosure.penalty_samr
        if samr.providers.matches(uscc=facts.source_uscc, name=facts.source_name):
            return _samr(facts, item, policy)
        return _by_class(facts, item, policy)
    if rule == "penalty_samr":
        return _samr(facts, item, policy)
    if rule == "licence_validity":
        return _licence(facts, policy)
    if rule == "permanent_basic":
        return Window(rule=rule, published=True, public_until=None, provided_until=None)
    if rule == "adverse_default_5y":
        end = adverse_end(facts, item, policy)
        return Window(
            rule=rule, published=True, public_until=end, provided_until=end, starts=facts.act_end_date
        )
    raise ValueError(f"no period logic for disclosure rule {rule!r}")  # the catalogue loader refuses these


def adverse_end(facts: RecordFacts, item: Item, policy: Policy) -> dt.date | None:
    """The last day of the 5-year adverse period, or None while the act goes on.

    An item that records when the act ended (移除日期, 缴清日期…) counts from that date and is ongoing until
    it is filled. An item that does not (a penalty) counts from the decision date: the act ended before it.
    """
    start = facts.act_end_date
    if start is None:
        if item.date_fields.act_end is not None:
            return None
        start = facts.decision_date
    if start is None:
        return None
    return add_period(start, policy.disclosure.adverse_default_5y)


def penalty_class(facts: RecordFacts, policy: Policy) -> str:
    inference = policy.disclosure.penalty_class_inference
    fields = inference.fields
    return inference.classify(
        categories(facts.data.get(fields.categories)),
        fine_wan=_amount(facts.data.get(fields.fine)) if fields.fine else None,
        confiscation_wan=_amount(facts.data.get(fields.confiscation)) if fields.confiscation else None,
        natural_person=facts.natural_person,
    )


def categories(value: Any) -> set[str]:
    if not value:
        return set()
    text = str(value).replace("；", ";")
    return {part.strip() for part in text.split(";") if part.strip()}


def _by_class(facts: RecordFacts, item: Item, policy: Policy) -> Window:
    name = penalty_class(facts, policy)
    klass = policy.disclosure.penalty_classes[name]
    start = facts.decision_date
    if start is None:
        return Window(
            rule="penalty_by_class",
            published=False,
            public_until=None,
            provided_until=None,
            penalty_class=name,
        )
    minimum = add_period(start, klass.min_period) if klass.min_months else start
    public_until = add_period(start, klass.max_period)  # window() then applies the provider's 公示截止期
    published = klass.published_by_default or publish_until(facts, item) is not None
    return Window(
        rule="penalty_by_class",
        published=published,
        public_until=public_until,
        provided_until=_later(public_until, adverse_end(facts, item, policy)),
        starts=start,
        penalty_class=name,
        minimum_until=minimum,
    )


def _samr(facts: RecordFacts, item: Item, policy: Policy) -> Window:
    rule = policy.disclosure.penalty_samr
    kinds = categories(facts.data.get(policy.disclosure.penalty_class_inference.fields.categories))
    start = facts.first_seen if rule.runs_from == "publication" else facts.decision_date
    if rule.runs_from == "publication" and facts.decision_date is not None and _late(facts, policy):
        start = facts.decision_date
    name = penalty_class(facts, policy)
    if start is None:
        return Window(
            rule="penalty_samr", published=False, public_until=None, provided_until=None, penalty_class=name
        )
    fine = _amount(facts.data.get(policy.disclosure.penalty_class_inference.fields.fine or ""))
    small_fine = fine is not None and rule.small_fine.is_small(fine, natural_person=facts.natural_person)
    if kinds == {WARNING} and not rule.warning_only_published:
        published, until = False, start
    elif kinds and kinds <= SHORT_PERIOD_KINDS and (FINE not in kinds or small_fine):
        published, until = True, add_period(start, rule.short_period)
    else:
        published, until = True, add_period(start, rule.other_period)
    return Window(
        rule="penalty_samr",
        published=published,
        public_until=until,
        provided_until=_later(until, adverse_end(facts, item, policy)),
        starts=start,
        penalty_class=name,
    )


def _late(facts: RecordFacts, policy: Policy) -> bool:
    """First received after SAMR's publication deadline — or when that was never measured (no calendar for
    the year): then the decision is the only day known not to lengthen publicity."""
    deadline = policy.disclosure.penalty_samr.published_within
    if deadline is None:
        return False
    if facts.receipt_working_days is None:
        return True
    return facts.receipt_working_days > getattr(policy.timeliness, deadline).value


def _licence(facts: RecordFacts, policy: Policy) -> Window:
    rule = policy.disclosure.licence_validity
    invalid = rule.invalid_status
    valid = not (invalid and str(facts.data.get(invalid.field) or "") in invalid.values)
    until = facts.valid_until
    if until is not None and until >= policy.disclosure.long_term_sentinel.value:
        until = None
    public_until = add_period(until, rule.after_expiry) if until is not None else None
    if not valid:
        # 当前状态 无效: publicity has ended, whatever the end date says; the record stays on file.
        return Window(
            rule="licence_validity", published=False, public_until=public_until, provided_until=None
        )
    return Window(rule="licence_validity", published=True, public_until=public_until, provided_until=None)


def _later(a: dt.date | None, b: dt.date | None) -> dt.date | None:
    """The later of two period ends, None (no end) winning."""
    return None if a is None or b is None else max(a, b)


def _amount(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
