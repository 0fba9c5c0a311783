"""公民身份号码, GB 11643-1999, and the 15-digit numbers it replaced.

18 digits: 1-6 area (GB/T 2260, where the number was first issued), 7-14 birth date YYYYMMDD,
15-17 sequence (odd = male, even = female), 18 check (0-9 or X).
15 digits (first-generation cards): area, YYMMDD in the 1900s, 3-digit sequence, no check digit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinyong.clock import SystemClock
from xinyong.codes import messages
from xinyong.codes.divisions import check_division
from xinyong.codes.normalize import normalize_code
from xinyong.codes.result import CodeCheck
from xinyong.problems import Problem, ProblemError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # indexed by the weighted sum mod 11
# A sanity floor, not a rule of the standard: numbers were first issued in 1984, and nobody then
# alive was born before 1800, so an earlier year is a typing mistake.
MIN_BIRTH_DATE = dt.date(1800, 1, 1)

_WHAT_ZH, _WHAT_EN = "公民身份号码", "an identity number"


def check_digit_for(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def idcard_check_char(first17: str) -> str:
    """The 18th character for 17 digits; raises ProblemError if they are not 17 digits."""
    if len(first17) != 17:
        raise ProblemError(messages.length(17, len(first17), "公民身份号码前17位", "the first 17 digits"))
    bad = _digit_problems(first17, range(17))
    if bad:
        raise ProblemError(*bad)
    return check_digit_for(first17)


def upgrade_15_to_18(text: str, *, today: dt.date | None = None) -> str:
    """The 18-digit number for a 15-digit one: "19" goes before the year, the check digit is added."""
    code = normalize_code(text)
    if len(code) != 15:
        raise ProblemError(messages.length(15, len(code), "15位旧身份证号码", "an old identity number"))
    result = check_idcard(code, today=today)
    if not result.valid:
        raise ProblemError(*result.errors)
    return result.parts["upgraded"]


def check_idcard(code: str, *, today: dt.date | None = None) -> CodeCheck:
    """Check a normalised identity number (18 digits, or an old 15-digit one).

    `today` bounds the birth date; when None it is today in China Standard Time.
    """
    if len(code) == 15:
        return _check_15(code, today)
    if len(code) != 18:
        return CodeCheck("idcard", code, [messages.length(18, len(code), _WHAT_ZH, _WHAT_EN)])

    errors = _digit_problems(code, range(17))
    if not (code[17].isascii() and code[17].isdigit()) and code[17] != "X":
        errors.append(
            messages.char(
                18, code[17], "数字0-9或X（校验位）", "a digit 0-9 or X (check character)", digits_only=True
            )
        )
    parts, warnings = _area_birth_sex(code, code[6:14], code[14:17], today, errors)
    parts["format"] = "18"
    parts["check_char"] = code[17]
    if not errors:
        expected = check_digit_for(code[:17])
        if expected != code[17]:
            errors.append(messages.check_char(expected, code[17]))
    return CodeCheck("idcard", code, errors, warnings, parts)


def _check_15(code: str, today: dt.date | None) -> CodeCheck:
    errors = _digit_problems(code, range(15))
    parts, warnings = _area_birth_sex(code, "19" + code[6:12], code[12:15], today, errors)
    parts["format"] = "15"
    if not errors:
        body17 = code[:6] + "19" + code[6:]
        upgraded = body17 + check_digit_for(body17)
        parts["upgraded"] = upgraded
        warnings.append(
            Problem(
                "idcard.legacy_15",
                f"这是15位旧身份证号码（一代证已停止使用），对应的18位号码为{upgraded}；请向当事人核实后填写18位号码",
                f"this is an old 15-digit identity number; its 18-digit form is {upgraded}; confirm it "
                "with the person and record the 18-digit number",
            )
        )
    return CodeCheck("idcard", code, errors, warnings, parts)


def _digit_problems(code: str, positions: range) -> list[Problem]:
    return [
        messages.char(i + 1, code[i], "数字0-9", "a digit 0-9", digits_only=True)
        for i in positions
        if not (code[i].isascii() and code[i].isdigit())
    ]


def _area_birth_sex(
    code: str, yyyymmdd: str, sequence: str, today: dt.date | None, errors: list[Problem]
) -> tuple[dict[str, Any], list[Problem]]:
    parts: dict[str, Any] = {}
    warnings: list[Problem] = []
    area = code[:6]
    if area.isascii() and area.isdigit():
        area_parts, warning = check_division(area, where_zh="第1-6位", where_en="positions 1-6")
        parts.update(area_parts)
        if warning:
            warnings.append(warning)
    if yyyymmdd.isascii() and yyyymmdd.isdigit():
        birth, problem = _birth_date(yyyymmdd, today, len(code))
        if problem:
            errors.append(problem)
        else:
            parts["birth_date"] = birth.isoformat()
    if sequence.isascii() and sequence.isdigit():
        parts["sequence"] = sequence
        male = int(sequence[-1]) % 2 == 1
        parts["sex"] = "male" if male else "female"
        parts["sex_zh"] = "男" if male else "女"
    return parts, warnings


def _birth_date(yyyymmdd: str, today: dt.date | None, length: int) -> tuple[dt.date, Problem | None]:
    where_zh = "第7-14位" if length == 18 else "第7-12位"
    where_en = "positions 7-14" if length == 18 else "positions 7-12"
    shown = yyyymmdd if length == 18 else yyyymmdd[2:]
    try:
        birth = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return dt.date.min, Problem(
            "idcard.birth_date",
            f"{where_zh}出生日期'{shown}'不是有效日期；请核对出生年月日",
            f"birth date '{shown}' ({where_en}) is not a real date; check the year, month and day",
        )
    limit = today if today is not None else SystemClock().today()
    if birth > limit:
        return birth, Problem(
            "idcard.birth_date",
            f"{where_zh}出生日期{birth.isoformat()}晚于今天（{limit.isoformat()}）；请核对出生年份",
            f"birth date {birth.isoformat()} ({where_en}) is after today ({limit.isoformat()}); "
            "check the year",
        )
    if birth < MIN_BIRTH_DATE:
        return birth, Problem(
            "idcard.birth_date",
            f"{where_zh}出生日期{birth.isoformat()}早于{MIN_BIRTH_DATE.year}年，不可能出现在身份证号码中；请核对出生年份",
            f"birth date {birth.isoformat()} ({where_en}) is before {MIN_BIRTH_DATE.year}, which no "
            "identity number carries; check the year",
        )
    return birth, None
