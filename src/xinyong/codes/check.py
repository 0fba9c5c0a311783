"""One entry point: normalise, work out which kind of identifier it is, check it.

Detection, when no kind is given (providers often put any identifier in one 证件号码 column):
- 18 characters: letters anywhere but a final X mean 统一社会信用代码. Otherwise both readings
  are tried: a valid identity number wins, then a valid USCC; if neither is valid, the USCC
  reading is reported only when positions 7-14 are no date while its authority/type pair and its
  embedded organisation code fit; otherwise the identity-number reading, as 18-digit strings in
  provider files mostly are identity numbers.
- 15 digits: 工商注册号 when its ISO 7064 check digit holds, else an old identity number when its
  birth date is real, else 工商注册号 (with its errors). Old numbers have no check digit, so one in
  ten passes the registration-number check: when both readings hold we say so in a warning.
- 9 characters (10 with the hyphen, removed by normalisation): 组织机构代码.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from xinyong.codes import messages
from xinyong.codes.idcard import check_idcard
from xinyong.codes.normalize import normalize_code
from xinyong.codes.orgcode import check_orgcode
from xinyong.codes.regno import check_regno
from xinyong.codes.result import KINDS, CodeCheck, Kind
from xinyong.codes.uscc import PLACEHOLDER, check_uscc
from xinyong.problems import Problem

_EXACT_FLOAT_LIMIT = 2**53  # beyond this a float no longer holds every integer


def check(text: object, kind: str | None = None, *, today: dt.date | None = None) -> CodeCheck:
    """Check an identifier; detect its kind when `kind` is None.

    `today` bounds identity-number birth dates (defaults to today in China Standard Time).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    code = normalize_code(text)
    if not code:
        return CodeCheck(kind or "unknown", code, [messages.empty()])  # type: ignore[arg-type]
    result = _check_kind(code, kind, today) if kind else _detect(code, today)
    if isinstance(text, float) and abs(text) >= _EXACT_FLOAT_LIMIT:
        result = dataclasses.replace(result, errors=[_float_problem(), *result.errors])
    return result


def _check_kind(code: str, kind: str, today: dt.date | None) -> CodeCheck:
    if kind == "uscc":
        return check_uscc(code)
    if kind == "idcard":
        return check_idcard(code, today=today)
    if kind == "regno":
        return check_regno(code)
    return check_orgcode(code)


def _detect(code: str, today: dt.date | None) -> CodeCheck:
    if len(code) == 18:
        return _detect_18(code, today)
    if len(code) == 15:
        return _detect_15(code, today)
    if len(code) == 9:
        return _explained(
            check_orgcode(code), "9位，按组织机构代码校验", "9 characters: checked as an organisation code"
        )
    nearest = _nearest_kind(code)
    if nearest is not None:
        # A character or two missing or extra: report it against the kind it most resembles, so the
        # clerk reads "应为18位，实际为17位" rather than a list of every length we know.
        return _explained(
            _check_kind(code, nearest, today),
            f"{len(code)}位，最接近{_KIND_ZH[nearest]}的长度，按{_KIND_ZH[nearest]}校验",
            f"{len(code)} characters, closest to {_KIND_EN[nearest]}: checked as one",
        )
    return CodeCheck(
        "unknown",
        code,
        [
            Problem(
                "code.length",
                f"长度为{len(code)}位，不符合任何代码：统一社会信用代码和公民身份号码为18位，"
                "工商注册号和旧身份证号码为15位，组织机构代码为9位；请检查是否漏录或多录了字符",
                f"{len(code)} characters is not the length of any supported code: unified social credit "
                "codes and identity numbers have 18, registration numbers and old identity numbers 15, "
                "organisation codes 9; check for a missing or extra character",
            )
        ],
    )


_KIND_ZH = {
    "uscc": "统一社会信用代码",
    "idcard": "公民身份号码",
    "regno": "工商注册号",
    "orgcode": "组织机构代码",
}
_KIND_EN = {
    "uscc": "a unified social credit code",
    "idcard": "an identity number",
    "regno": "a registration number",
    "orgcode": "an organisation code",
}


def _nearest_kind(code: str) -> str | None:
    """The kind whose length is within two characters, preferring 18-character kinds on a tie."""
    body = code[:-1] if code.endswith("X") else code
    digits = body.isascii() and body.isdigit()
    lengths = {18: "idcard", 15: "regno", 9: "orgcode"} if digits else {18: "uscc", 9: "orgcode"}
    best = min(lengths, key=lambda n: (abs(n - len(code)), -n))
    return lengths[best] if abs(best - len(code)) <= 2 else None


def _detect_18(code: str, today: dt.date | None) -> CodeCheck:
    digits = code[:17].isascii() and code[:17].isdigit() and (code[17].isdigit() or code[17] == "X")
    if not digits or code == PLACEHOLDER:
        return _explained(
            check_uscc(code),
            "含字母，按统一社会信用代码校验",
            "contains letters: checked as a unified social credit code",
        )
    as_id = check_idcard(code, today=today)
    as_uscc = check_uscc(code)
    if as_id.valid:
        result = _explained(
            as_id, "18位数字，符合公民身份号码规则", "18 digits forming a valid identity number"
        )
        if as_uscc.valid:
            result = _also_valid(result, "统一社会信用代码", "a unified social credit code", "uscc")
        return result
    if as_uscc.valid:
        return _explained(
            as_uscc,
            "18位数字，符合统一社会信用代码规则",
            "18 digits forming a valid unified social credit code",
        )
    # Neither reading is valid. A valid authority/type pair alone is weak evidence (11, 12, 13, 21,
    # 31-35, 51-53 are also province codes), so the USCC reading needs one of its checks to hold too.
    id_fits = "birth_date" in as_id.parts
    uscc_codes = {p.code for p in as_uscc.errors}
    uscc_fits = not uscc_codes & {"uscc.authority", "uscc.org_type"} and (
        as_uscc.parts.get("embedded_orgcode_valid") is True or "code.check_char" not in uscc_codes
    )
    if uscc_fits and not id_fits:
        return _explained(
            as_uscc,
            "18位数字，第7-14位不是有效出生日期，而登记管理部门、机构类别和第9-17位组织机构代码都符合规则，"
            "按统一社会信用代码校验",
            "18 digits without a valid birth date, but whose authority, type and embedded organisation "
            "code fit: checked as a unified social credit code",
        )
    return _explained(as_id, "18位数字，按公民身份号码校验", "18 digits: checked as an identity number")


def _detect_15(code: str, today: dt.date | None) -> CodeCheck:
    as_regno = check_regno(code)
    as_id = check_idcard(code, today=today)
    if as_regno.valid:
        result = _explained(
            as_regno,
            "15位数字，注册号校验位正确，按工商注册号校验",
            "15 digits with a valid check digit: checked as a registration number",
        )
        if as_id.valid:
            result = _also_valid(result, "15位旧身份证号码", "an old 15-digit identity number", "idcard")
        return result
    if as_id.valid:
        return _explained(
            as_id,
            "15位数字，注册号校验位不符而第7-12位是有效出生日期，按15位旧身份证号码校验",
            "15 digits failing the registration-number check but with a valid birth date: "
            "checked as an old identity number",
        )
    return _explained(as_regno, "15位，按工商注册号校验", "15 characters: checked as a registration number")


def _explained(result: CodeCheck, zh: str, en: str) -> CodeCheck:
    parts: dict[str, Any] = {**result.parts, "detection_zh": zh, "detection_en": en}
    return dataclasses.replace(result, parts=parts)


def _also_valid(result: CodeCheck, other_zh: str, other_en: str, other_kind: Kind) -> CodeCheck:
    warning = Problem(
        "code.ambiguous",
        f"该号码同时也是有效的{other_zh}；如果实际是{other_zh}，请按kind={other_kind}重新校验",
        f"this number is also valid as {other_en}; if that is what it is, "
        f"check it again with kind={other_kind}",
    )
    return dataclasses.replace(result, warnings=[*result.warnings, warning])


def _float_problem() -> Problem:
    return Problem(
        "code.float_precision",
        "该号码以数字格式存储，超过15位的数字已被Excel改动；请把该列设为文本格式后重新录入原始号码",
        "the number was stored as a numeric cell and digits beyond the 15th were changed by the "
        "spreadsheet; format the column as text and enter the original number again",
    )
