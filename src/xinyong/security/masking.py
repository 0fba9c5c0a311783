"""Masking of personal data for anyone not entitled to see more (e.g. 4201**********1234, 张*).

How much to keep is policy (`masking` in policy/data/policy.yaml); these helpers apply it, so that the
portal, the API, reports and logs mask alike. Log masking must never fail: if the policy cannot be read
it hides the whole number.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from xinyong.codes.idcard import check_digit_for
from xinyong.policy.loader import load_policy
from xinyong.policy.masking import mask
from xinyong.policy.models import MaskRule
from xinyong.problems import ProblemError

# Anything shaped like an ID number: 17 digits and a digit or X, or an old 15-digit number, not part of a
# longer run of digits. Letters around it do not protect it ("id11010519491231002X" is still masked).
ID_NUMBER_SHAPE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")

# People also type ID numbers in groups ("4201 0619 9001 0112 34", "420106-19900101-1234"), with full-width
# digits (４２０１…) or with invisible characters pasted from web pages. A run is digits (ASCII or
# full-width) joined by at most two such separators, maybe ending in X; its groups are the digits between
# separators. A single group of 15 or 18 is masked by shape, as above; groups joined by separators are
# masked when consecutive groups spell a valid number (check digit, or a real date for 15 digits), so
# that counts and dates written with spaces stay readable.
_DIGIT = "0-9\uff10-\uff19"
_X = "Xx\uff38\uff58"
_SEPARATOR = "[ \t\u00a0\u2000-\u200d\u2060\u3000\ufeff\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]"
_RUN = re.compile(rf"[{_DIGIT}](?:{_SEPARATOR}{{0,2}}[{_DIGIT}])*(?:{_SEPARATOR}{{0,2}}[{_X}])?")
_GROUP = re.compile(rf"[{_DIGIT}]+[{_X}]?|[{_X}]")
_ASCII = str.maketrans("０１２３４５６７８９ｘＸx", "0123456789XXX")


@dataclass(frozen=True, slots=True)
class IdSpan:
    """Where an ID number stands in a text, and the number itself (ASCII digits, upper-case X)."""

    start: int
    end: int
    number: str


def id_number_spans(text: str) -> list[IdSpan]:
    """Every run of `text` that is, or is typed like, a personal ID number."""
    spans: list[IdSpan] = []
    for run in _RUN.finditer(text):
        if run.end() - run.start() < 15:
            continue
        groups = [
            (run.start() + g.start(), run.start() + g.end(), g.group().translate(_ASCII))
            for g in _GROUP.finditer(run.group())
        ]
        if len(groups) == 1:
            if _shaped(groups[0][2]):
                spans.append(IdSpan(*groups[0]))
            continue
        spans += _spelled_across(groups)
    return spans


def _spelled_across(groups: list[tuple[int, int, str]]) -> list[IdSpan]:
    found, i = [], 0
    while i < len(groups):
        number = ""
        for j in range(i, len(groups)):
            number += groups[j][2]
            if len(number) > 18:
                break
            if (j == i and _shaped(number)) or (len(number) in (15, 18) and _plausible(number)):
                found.append(IdSpan(groups[i][0], groups[j][1], number))
                i = j
                break
        i += 1
    return found


def _shaped(number: str) -> bool:
    return (len(number) == 18 and number[:17].isdigit()) or (len(number) == 15 and number.isdigit())


def _plausible(number: str) -> bool:
    if not _shaped(number):
        return False
    if len(number) == 18:
        return check_digit_for(number[:17]) == number[17]
    month, day = int(number[8:10]), int(number[10:12])
    return 1 <= month <= 12 and 1 <= day <= 31


def contains_id_number(text: str) -> bool:
    return bool(id_number_spans(text))


@lru_cache(maxsize=4)
def _rules(override: str) -> tuple[MaskRule, MaskRule]:
    # Keyed by the operator's policy override, not the file's mtime: masking runs per row in bulk loads,
    # and a changed masking rule takes effect at the next start, like every other setting read at start-up.
    masking = load_policy(override or None).masking
    return masking.id_number, masking.name


def _rule(which: int) -> MaskRule:
    return _rules(os.environ.get("XINYONG_POLICY", ""))[which]


def mask_id_number(value: str | None, *, rule: MaskRule | None = None) -> str | None:
    if not value:
        return value
    return mask(value, rule or _rule(0))


def mask_person_name(value: str | None, *, rule: MaskRule | None = None) -> str | None:
    """Keep the family name only, by default: compound surnames are rare enough for one character."""
    if not value:
        return value
    return mask(value, rule or _rule(1))


def mask_ids_in_text(text: str) -> str:
    """Mask every ID number in free text (log lines, error messages), however it was typed."""
    spans = id_number_spans(text)
    if not spans:
        return text
    try:
        rule: MaskRule | None = _rule(0)
    except (ProblemError, OSError):
        rule = None
    out, at = [], 0
    for span in spans:
        out += [text[at : span.start], mask(span.number, rule) if rule else "*" * len(span.number)]
        at = span.end
    return "".join(out) + text[at:]


def mask_subject_names(subject: dict[str, Any]) -> dict[str, Any]:
    """A subject as the registry returns it, a natural person's names masked (organisations as they are)."""
    if subject.get("kind") != "natural_person":
        return subject
    return {
        **subject,
        "name": mask_person_name(subject.get("name")),
        "names": [{**n, "name": mask_person_name(n.get("name"))} for n in subject.get("names", [])],
    }
