"""统一社会信用代码, GB 32100-2015.

Layout (1-based): 1 registration authority, 2 organisation type, 3-8 division (GB/T 2260),
9-17 the subject's 组织机构代码 (GB 11714, with its own check character), 18 check character
over the first 17 (ISO 7064 MOD 31-3 style, weights below).

个体工商户 (authority 9, type 2): their positions 9-17 were assigned when individual businesses
received codes in 2016; individual businesses never held a GB 11714 organisation code before, and
we cannot confirm that every issuing system gave them a GB 11714-checkable identifier. So for "92"
codes a failing embedded check is a warning (uscc.embedded_orgcode_unverified), not an error. The
18th character still catches every single-character copying mistake in such codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from xinyong.codes import messages, orgcode
from xinyong.codes.divisions import check_division
from xinyong.codes.result import CodeCheck
from xinyong.problems import Problem, ProblemError

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I O S V Z; value = index, 0..30
VALUES = {ch: i for i, ch in enumerate(CHARS)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# What 双公示 files carry for a 个体工商户 without a code (then 工商注册号 is required instead).
PLACEHOLDER = "00000000000000000X"
INDIVIDUAL_BUSINESS = "92"

_WHAT_ZH, _WHAT_EN = "统一社会信用代码", "a unified social credit code"
_CHAR_ZH = "数字或大写字母（不含I、O、S、V、Z）"
_CHAR_EN = "a digit or a capital letter other than I, O, S, V, Z"


@dataclass(frozen=True, slots=True)
class OrgType:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True, slots=True)
class Authority:
    code: str
    name_zh: str
    name_en: str
    types: dict[str, OrgType]


@cache
def authorities() -> dict[str, Authority]:
    """Registration authorities and their organisation types, from data/uscc_registry.yaml."""
    text = resources.files("xinyong.codes").joinpath("data/uscc_registry.yaml").read_text(encoding="utf-8")
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["authorities"]  # safe
    return {
        code: Authority(
            code,
            a["name_zh"],
            a["name_en"],
            {t: OrgType(t, v["name_zh"], v["name_en"]) for t, v in a["types"].items()},
        )
        for code, a in raw.items()
    }


def valid_prefixes() -> frozenset[str]:
    """Every allowed authority+type pair, e.g. {"11", "12", ..., "91", "92", "93", ..., "Y1"}."""
    return frozenset(a + t for a, auth in authorities().items() for t in auth.types)


def check_char_for(first17: str) -> str:
    """Check character of 17 characters already known to be in CHARS."""
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARS[(31 - total % 31) % 31]


def uscc_check_char(first17: str) -> str:
    """The 18th character for the first 17 of a code; raises ProblemError if they are malformed."""
    if len(first17) != 17:
        raise ProblemError(
            messages.length(17, len(first17), "统一社会信用代码前17位", "the first 17 characters")
        )
    bad = _char_problems(first17)
    if bad:
        raise ProblemError(*bad)
    return check_char_for(first17)


def make_uscc(authority: str, org_type: str, division: str, orgcode9: str) -> str:
    """Assemble a valid code from its parts (an 8-character organisation code gets its check added)."""
    problems: list[Problem] = []
    auth = authorities().get(authority)
    if auth is None:
        problems.append(_authority_problem(authority))
    elif org_type not in auth.types:
        problems.append(_org_type_problem(auth, org_type))
    if len(division) != 6 or not division.isascii() or not division.isdigit():
        problems.append(
            Problem(
                "uscc.division",
                f"行政区划码应为6位数字，实际为'{division}'",
                f"division must be 6 digits, got '{division}'",
            )
        )
    if len(orgcode9) == 8 and all(ch in VALUES for ch in orgcode9):
        orgcode9 += orgcode.check_char_for(orgcode9)
    if len(orgcode9) != 9 or any(ch not in VALUES for ch in orgcode9):
        problems.append(
            Problem(
                "uscc.embedded_orgcode",
                f"组织机构代码应为8或9位，且只含{_CHAR_ZH}，实际为'{orgcode9}'",
                f"organisation code must be 8 or 9 characters, each {_CHAR_EN}; got '{orgcode9}'",
            )
        )
    elif authority + org_type != INDIVIDUAL_BUSINESS and orgcode.check_char_for(orgcode9[:8]) != orgcode9[8]:
        problems.append(_embedded_problem(orgcode9, orgcode.check_char_for(orgcode9[:8])))
    if problems:
        raise ProblemError(*problems)
    first17 = authority + org_type + division + orgcode9
    return first17 + check_char_for(first17)


def check_uscc(code: str) -> CodeCheck:
    """Check a normalised 统一社会信用代码."""
    if code == PLACEHOLDER:
        return CodeCheck("uscc", code, [_placeholder_problem()], [], {"placeholder": True})
    if len(code) != 18:
        return CodeCheck("uscc", code, [messages.length(18, len(code), _WHAT_ZH, _WHAT_EN)])

    char_errors = _char_problems(code)
    errors = list(char_errors)
    warnings: list[Problem] = []
    parts: dict[str, Any] = {}

    auth = authorities().get(code[0])
    if code[0] in VALUES:
        parts["authority_code"] = code[0]
        if auth is None:
            errors.append(_authority_problem(code[0]))
        else:
            parts["authority_name"], parts["authority_name_en"] = auth.name_zh, auth.name_en
            org_type = auth.types.get(code[1])
            if code[1] in VALUES:
                parts["org_type_code"] = code[1]
            if org_type is None:
                if code[1] in VALUES:
                    errors.append(_org_type_problem(auth, code[1]))
            else:
                parts["org_type_name"], parts["org_type_name_en"] = org_type.name_zh, org_type.name_en

    division = code[2:8]
    if division.isascii() and division.isdigit():
        division_parts, warning = check_division(
            division, where_zh="第3-8位", where_en="positions 3-8", allow_national=True
        )
        parts.update(division_parts)
        if warning:
            warnings.append(warning)

    embedded = code[8:17]
    embedded_ok = False
    if all(ch in VALUES for ch in embedded):
        parts["embedded_orgcode"] = embedded
        expected = orgcode.check_char_for(embedded[:8])
        embedded_ok = expected == embedded[8]
        parts["embedded_orgcode_valid"] = embedded_ok
        if not embedded_ok:
            if code[:2] == INDIVIDUAL_BUSINESS:
                warnings.append(_embedded_unverified(embedded, expected))
            else:
                errors.append(_embedded_problem(embedded, expected))

    parts["check_char"] = code[17]
    if not char_errors:
        expected = check_char_for(code[:17])
        if expected != code[17]:
            errors.append(messages.check_char(expected, code[17]))
            if _looks_like_fujian_pilot(code, embedded_ok):
                warnings.append(_pilot_warning())
    return CodeCheck("uscc", code, errors, warnings, parts)


def _char_problems(code: str) -> list[Problem]:
    problems = []
    for i, ch in enumerate(code):
        if 2 <= i <= 7:  # positions 3-8: the standard says Arabic digits (GB/T 2260 division)
            if not (ch.isascii() and ch.isdigit()):
                problems.append(
                    messages.char(
                        i + 1,
                        ch,
                        "数字（第3-8位是行政区划码）",
                        "a digit (positions 3-8 are the division code)",
                        digits_only=True,
                    )
                )
        elif ch not in VALUES:
            problems.append(messages.char(i + 1, ch, _CHAR_ZH, _CHAR_EN))
    return problems


def _authority_problem(ch: str) -> Problem:
    known = "、".join(authorities())
    return Problem(
        "uscc.authority",
        f"第1位登记管理部门代码'{ch}'不存在（有效代码：{known}）；请核对营业执照或登记证书",
        f"registration authority '{ch}' (position 1) does not exist (valid: {', '.join(authorities())}); "
        "check the licence or registration certificate",
    )


def _org_type_problem(auth: Authority, ch: str) -> Problem:
    known = "、".join(f"{t}（{o.name_zh}）" for t, o in auth.types.items())
    return Problem(
        "uscc.org_type",
        f"登记管理部门'{auth.name_zh}'（{auth.code}）下没有机构类别'{ch}'（第2位），有效类别为：{known}",
        f"registration authority {auth.code} ({auth.name_en}) has no organisation type '{ch}' (position 2); "
        f"valid types: {', '.join(auth.types)}",
    )


def _embedded_problem(embedded: str, expected: str) -> Problem:
    return Problem(
        "uscc.embedded_orgcode",
        f"第9-17位组织机构代码'{embedded}'的校验位应为'{expected}'，实际为'{embedded[8]}'；"
        "请对照证照核对第9-17位",
        f"the organisation code in positions 9-17 ('{embedded}') should end in '{expected}', "
        f"got '{embedded[8]}'; compare positions 9-17 with the certificate",
    )


def _embedded_unverified(embedded: str, expected: str) -> Problem:
    return Problem(
        "uscc.embedded_orgcode_unverified",
        f"个体工商户代码第9-17位'{embedded}'不符合组织机构代码校验规则（按规则校验位应为'{expected}'）；"
        "个体工商户的主体标识码不一定按GB 11714编制，代码本身校验通过即可接受，但不能据此匹配组织机构代码",
        f"positions 9-17 of this individual-business code ('{embedded}') do not pass the GB 11714 check "
        f"(expected '{expected}'); such identifiers need not follow GB 11714, so the code is accepted, "
        "but it cannot be matched to an organisation code",
    )


def _placeholder_problem() -> Problem:
    return Problem(
        "uscc.placeholder",
        f"'{PLACEHOLDER}'是无统一社会信用代码的个体工商户的占位值，不是有效代码；此时必须填写工商注册号（代码_2）",
        f"'{PLACEHOLDER}' is the placeholder for an individual business without a code, not a code; "
        "the business registration number (代码_2) must be given instead",
    )


def _looks_like_fujian_pilot(code: str, embedded_ok: bool) -> bool:
    # Fujian issued codes in a 2014-2015 pilot before GB 32100 took effect; several such codes, still
    # in use, carry an 18th character that the published algorithm does not produce (their
    # embedded organisation code is fine and positions 9-12 read M000).
    return code[2:4] == "35" and code[8:12] == "M000" and embedded_ok


def _pilot_warning() -> Problem:
    return Problem(
        "uscc.pilot_check_char",
        "该代码形如福建省2014-2015年试点期间赋予的代码，"
        "其中部分代码的第18位不符合GB 32100校验规则但仍在使用；请在国家企业信用信息公示系统核实后按原样登记",
        "this looks like a code from Fujian's 2014-2015 pilot, some of which carry an 18th character "
        "that GB 32100 would not produce and are still in use; verify it in the national enterprise "
        "credit publicity system",
    )
