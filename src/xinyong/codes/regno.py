"""15-digit 工商注册号 (market-subject registration number, GS 15-2006).

1-6 the registration authority that first registered the subject (a GB/T 2260 division code, or
100000 for the national authority), 7-14 sequence, 15 check digit by ISO 7064 MOD 11,10.
"""

from __future__ import annotations

from typing import Any

from xinyong.codes import messages
from xinyong.codes.divisions import check_division
from xinyong.codes.result import CodeCheck
from xinyong.problems import ProblemError

_WHAT_ZH, _WHAT_EN = "工商注册号", "a business registration number"

# GS 15-2006 reserves the first digit of the sequence by kind of subject. Shown as a hint only [U]:
# registries did not all keep to it, so it never decides validity.
_SUBJECT_CLASS = {
    **dict.fromkeys("0123", ("内资企业", "domestic enterprise")),
    **dict.fromkeys("45", ("外商投资企业", "foreign-invested enterprise")),
    **dict.fromkeys("6789", ("个体工商户", "individual business")),
}


def check_digit_for(first14: str) -> str:
    """ISO 7064 MOD 11,10 (hybrid system) over digits already known to be digits."""
    p = 10
    for ch in first14:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    # The check digit c makes (p + c) mod 10 == 1.
    return str((11 - p) % 10)


def regno_check_digit(first14: str) -> str:
    """The 15th digit for 14 digits; raises ProblemError if they are not 14 digits."""
    if len(first14) != 14:
        raise ProblemError(messages.length(14, len(first14), "工商注册号前14位", "the first 14 digits"))
    bad = [
        messages.char(i + 1, ch, "数字0-9", "a digit 0-9", digits_only=True)
        for i, ch in enumerate(first14)
        if not (ch.isascii() and ch.isdigit())
    ]
    if bad:
        raise ProblemError(*bad)
    return check_digit_for(first14)


def check_regno(code: str) -> CodeCheck:
    """Check a normalised 15-digit registration number."""
    if len(code) != 15:
        return CodeCheck("regno", code, [messages.length(15, len(code), _WHAT_ZH, _WHAT_EN)])
    errors = [
        messages.char(i + 1, ch, "数字0-9", "a digit 0-9", digits_only=True)
        for i, ch in enumerate(code)
        if not (ch.isascii() and ch.isdigit())
    ]
    warnings = []
    parts: dict[str, Any] = {}
    authority = code[:6]
    if authority.isascii() and authority.isdigit():
        division_parts, warning = check_division(
            authority, where_zh="第1-6位登记机关码", where_en="positions 1-6", allow_national=True
        )
        parts.update(division_parts)
        if warning:
            warnings.append(warning)
    parts["sequence"] = code[6:14]
    if code[6] in _SUBJECT_CLASS:
        parts["subject_class"], parts["subject_class_en"] = _SUBJECT_CLASS[code[6]]
    parts["check_char"] = code[14]
    if not errors:
        expected = check_digit_for(code[:14])
        if expected != code[14]:
            errors.append(messages.check_char(expected, code[14]))
    return CodeCheck("regno", code, errors, warnings, parts)
