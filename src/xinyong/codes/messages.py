"""Problem builders shared by the identifier checks, so one mistake always reads the same way."""

from __future__ import annotations

from xinyong.problems import Problem

# Characters people confuse with allowed ones, and what was most likely meant. Used only to word a
# hint for the clerk; the check itself never guesses. The first map is for positions that take the
# 统一社会信用代码 character set (which leaves out I O S V Z), the second for digit-only positions.
_LOOKALIKES = {"I": "1", "O": "0", "Z": "2", "S": "5", "V": "U"}
_DIGIT_LOOKALIKES = {"I": "1", "L": "1", "O": "0", "Q": "0", "D": "0", "Z": "2", "S": "5", "B": "8", "G": "6"}


def length(expected: int, actual: int, what_zh: str, what_en: str) -> Problem:
    if actual < expected:
        hint_zh, hint_en = "请检查是否漏录了字符", "check for a missing character"
    else:
        hint_zh, hint_en = "请检查是否多录了字符", "check for an extra character"
    return Problem(
        "code.length",
        f"{what_zh}长度应为{expected}位，实际为{actual}位；{hint_zh}",
        f"{what_en} must be {expected} characters, got {actual}; {hint_en}",
    )


def empty() -> Problem:
    return Problem("code.empty", "代码为空，请填写", "the code is empty; fill it in")


def char(position: int, ch: str, allowed_zh: str, allowed_en: str, *, digits_only: bool = False) -> Problem:
    """A character not allowed at a 1-based position, with a hint for common look-alikes."""
    hint_zh = hint_en = ""
    guess = (_DIGIT_LOOKALIKES if digits_only else _LOOKALIKES).get(ch)
    if guess:
        hint_zh = f"；如果原件上是'{guess}'，请改为'{guess}'"
        hint_en = f"; if the document shows '{guess}', type '{guess}'"
    return Problem(
        "code.char",
        f"第{position}位字符'{ch}'不合法：此处只能是{allowed_zh}{hint_zh}",
        f"character '{ch}' at position {position} is not allowed: expected {allowed_en}{hint_en}",
    )


def check_char(expected: str, actual: str, code: str = "code.check_char") -> Problem:
    return Problem(
        code,
        f"校验位应为'{expected}'，实际为'{actual}'；通常是前面某一位抄错，请对照证照原件逐位核对",
        f"check character should be '{expected}', got '{actual}'; usually an earlier character was "
        "copied wrongly, so compare every character with the original document",
    )
