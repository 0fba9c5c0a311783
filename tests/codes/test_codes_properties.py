"""Generated codes: every valid one validates; what a single wrong character does, per standard.

What each check digit guarantees (and so what is asserted):
- 统一社会信用代码: 31 is prime and no weight is a multiple of 31, so changing any one character
  to any other changes the weighted sum mod 31: every single substitution is caught.
- 公民身份号码 (18 digits): likewise mod 11 with digits 0-9 (differences of at most 9): all caught.
- 工商注册号: ISO 7064 MOD 11,10 is designed to catch every single substitution: all caught.
- 组织机构代码: the mod-11 sum cannot tell apart two characters whose values differ by 11, 22 or
  33 (e.g. 1 and C = 12): such a substitution in the body gives another valid code. Digit-for-digit
  substitutions are all caught. The test asserts exactly this.
- 15-digit old identity numbers have no check digit: only a broken date is caught.
"""

from __future__ import annotations

from hypothesis import given

from xinyong.codes import check
from xinyong.codes.orgcode import VALUES as ORG_VALUES
from xinyong.codes.uscc import CHARS as USCC_CHARS

from .strategies import DIGITS, ORG_CHARS, SETTINGS, TODAY, idcards, old_idcards, orgcodes, regnos, usccs


def _substitutions(code: str, alphabet: str):
    for i, original in enumerate(code):
        for ch in alphabet:
            if ch != original:
                yield i, ch, code[:i] + ch + code[i + 1 :]


@SETTINGS
@given(usccs())
def test_generated_usccs_validate(code):
    r = check(code)
    assert (r.kind, r.valid) == ("uscc", True), r.errors


@SETTINGS
@given(usccs())
def test_every_single_substitution_of_a_uscc_is_caught(code):
    for i, ch, bad in _substitutions(code, USCC_CHARS + "IOSVZ"):
        r = check(bad, "uscc")
        assert not r.valid, (code, i, ch)
        if ch in "IOSVZ":
            assert any(p.code == "code.char" and f"第{i + 1}位" in p.message_zh for p in r.errors)


@SETTINGS
@given(orgcodes())
def test_generated_orgcodes_validate(code):
    assert check(code).valid
    assert check(code[:8] + "-" + code[8]).valid


@SETTINGS
@given(orgcodes())
def test_orgcode_substitutions_are_caught_unless_values_differ_by_a_multiple_of_11(code):
    for i, ch, bad in _substitutions(code, ORG_CHARS):
        r = check(bad, "orgcode")
        if i == 8:
            assert not r.valid  # the check character is determined by the body
            continue
        same_sum_mod_11 = (ORG_VALUES[ch] - ORG_VALUES[code[i]]) % 11 == 0
        assert r.valid == same_sum_mod_11, (code, i, ch)
        if ch in DIGITS and code[i] in DIGITS:
            assert not r.valid


def test_orgcode_blind_spot_is_real():
    # 1 (value 1) and C (value 12) weigh the same mod 11: both are valid organisation codes.
    assert check("M000100Y4", "orgcode").valid
    assert check("M000C00Y4", "orgcode").valid


@SETTINGS
@given(idcards())
def test_generated_idcards_validate(code):
    r = check(code, today=TODAY)
    assert (r.kind, r.valid) == ("idcard", True), r.errors


@SETTINGS
@given(idcards())
def test_every_single_substitution_of_an_idcard_is_caught(code):
    for i, ch, bad in _substitutions(code, DIGITS + "X"):
        if ch == "X" and i < 17:
            continue  # X is allowed only as the check character; a char error is shown elsewhere
        assert not check(bad, "idcard", today=TODAY).valid, (code, i, ch)


@SETTINGS
@given(old_idcards())
def test_generated_old_idcards_validate_and_upgrade(code):
    r = check(code, "idcard", today=TODAY)
    assert r.valid, r.errors
    assert check(r.parts["upgraded"], today=TODAY).valid


def test_old_idcards_have_no_check_digit():
    # Changing the sequence gives another valid old number: nothing can catch it.
    assert check("110105491231002", "idcard", today=TODAY).valid
    assert check("110105491231003", "idcard", today=TODAY).valid


@SETTINGS
@given(regnos())
def test_generated_regnos_validate(code):
    r = check(code, "regno")
    assert r.valid, r.errors


@SETTINGS
@given(regnos())
def test_every_single_substitution_of_a_regno_is_caught(code):
    for i, ch, bad in _substitutions(code, DIGITS):
        assert not check(bad, "regno").valid, (code, i, ch)
