"""组织机构代码, GB 11714-1997: 8 characters 0-9/A-Z plus one check character.

Written XXXXXXXX-C on certificates; the hyphen carries no meaning and is dropped by normalisation.
The same 9 characters are positions 9-17 of a 统一社会信用代码.
"""

from __future__ import annotations

from xinyong.codes import messages
from xinyong.codes.result import CodeCheck
from xinyong.problems import Problem, ProblemError

CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # value = index, 0..35
VALUES = {ch: i for i, ch in enumerate(CHARS)}
WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "0123456789X"

_WHAT_ZH, _WHAT_EN = "组织机构代码", "an organisation code"
_BODY_ZH, _BODY_EN = "数字0-9或大写字母A-Z", "a digit 0-9 or a capital letter A-Z"


def check_char_for(body8: str) -> str:
    """GB 11714 check character of an 8-character body already known to be well formed."""
    total = sum(VALUES[ch] * w for ch, w in zip(body8, WEIGHTS, strict=True))
    c = 11 - total % 11
    # 10 is written X and 11 is written 0, so the check is always one character.
    return "X" if c == 10 else "0" if c == 11 else str(c)


def orgcode_check_char(body8: str) -> str:
    """Check character for the 8-character body of an organisation code; raises ProblemError."""
    problems = _body_problems(body8)
    if problems:
        raise ProblemError(*problems)
    return check_char_for(body8)


def _body_problems(body8: str) -> list[Problem]:
    if len(body8) != 8:
        return [messages.length(8, len(body8), "组织机构代码本体", "an organisation code body")]
    return [messages.char(i + 1, ch, _BODY_ZH, _BODY_EN) for i, ch in enumerate(body8) if ch not in VALUES]


def check_orgcode(code: str) -> CodeCheck:
    """Check a normalised organisation code (9 characters, hyphen already removed)."""
    if len(code) != 9:
        return CodeCheck("orgcode", code, [messages.length(9, len(code), _WHAT_ZH, _WHAT_EN)])
    body, given = code[:8], code[8]
    errors = _body_problems(body)
    if given not in CHECK_CHARS:
        errors.append(
            messages.char(
                9, given, "数字0-9或X（校验位）", "a digit 0-9 or X (check character)", digits_only=True
            )
        )
    parts = {"body": body, "check_char": given, "formatted": f"{body}-{given}"}
    if not errors:
        expected = check_char_for(body)
        if expected != given:
            errors.append(messages.check_char(expected, given))
    return CodeCheck("orgcode", code, errors, [], parts)
