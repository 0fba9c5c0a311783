"""Why a code a visitor typed finds no subject: a check character that does not add up is a typo to point
at ("校验位应为'M'"), not "not found".

The identifier check itself is xinyong.codes; this picks the problem to show a visitor, named by the kind of
code, without echoing a person's ID number or any part of it.
"""

from __future__ import annotations

from xinyong.codes.check import check
from xinyong.problems import Problem

KIND_NAMES = {
    "uscc": ("统一社会信用代码", "unified social credit code"),
    "orgcode": ("组织机构代码", "organisation code"),
    "idcard": ("公民身份号码", "identity number"),
    "regno": ("工商注册号", "registration number"),
}
# The problems a visitor is shown: they describe the typed code's shape, never quote its digits.
SHOWN = ("code.check_char", "code.length", "code.char")


def typo(text: str, *, check_char_only: bool = False) -> Problem | None:
    """The problem with a code that looks like an identifier but does not check, or None when it checks
    (or is no identifier at all). `check_char_only`: only a wrong check character (a search box, where
    anything else may be a name)."""
    result = check(text)
    if result.valid:
        return None
    wanted = ("code.check_char",) if check_char_only else SHOWN
    problem = next((p for p in result.errors if p.code in wanted), None)
    if problem is None:
        return None
    zh, en = KIND_NAMES.get(result.kind, ("代码", "code"))
    return Problem(
        "subject.invalid_code",
        f"{zh}有误：{problem.message_zh}",
        f"The {en} is not valid: {problem.message_en}",
    )
