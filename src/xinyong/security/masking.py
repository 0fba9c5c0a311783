"""Masking of personal data for anyone not entitled to see more (e.g. 4201**********1234, 张*).

How much to keep is policy (`masking` in policy/data/policy.yaml); these helpers apply it, so that the
portal, the API, reports and logs mask alike. Log masking must never fail: if the policy cannot be read
it hides the whole number.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from xinyong.policy.loader import load_policy
from xinyong.policy.masking import mask
from xinyong.policy.models import MaskRule
from xinyong.problems import ProblemError

# Anything shaped like an ID number: 17 digits and a digit or X, or an old 15-digit number, not part of a
# longer run of digits. Letters around it do not protect it ("id11010519491231002X" is still masked).
ID_NUMBER_SHAPE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)")


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
    """Mask every ID-number-shaped run in free text (log lines, error messages)."""
    if not ID_NUMBER_SHAPE.search(text):
        return text
    try:
        rule = _rule(0)
    except (ProblemError, OSError):
        return ID_NUMBER_SHAPE.sub(lambda m: "*" * len(m.group()), text)
    return ID_NUMBER_SHAPE.sub(lambda m: mask(m.group(), rule), text)


def mask_subject_names(subject: dict[str, Any]) -> dict[str, Any]:
    """A subject as the registry returns it, a natural person's names masked (organisations as they are)."""
    if subject.get("kind") != "natural_person":
        return subject
    return {
        **subject,
        "name": mask_person_name(subject.get("name")),
        "names": [{**n, "name": mask_person_name(n.get("name"))} for n in subject.get("names", [])],
    }
