"""Official examples, each kind of mistake with its error code, normalisation and detection."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyong.codes import (
    USCC_PLACEHOLDER,
    check,
    idcard_check_char,
    make_uscc,
    normalize_code,
    orgcode_check_char,
    regno_check_digit,
    upgrade_15_to_18,
    uscc_check_char,
)
from xinyong.codes.uscc import check_char_for
from xinyong.problems import ProblemError

TODAY = dt.date(2025, 6, 1)


def codes(problems):
    return [p.code for p in problems]


# --- official examples --------------------------------------------------------------------------


def test_uscc_example_is_valid_and_explained():
    r = check("91350100M000100Y43")
    assert (r.kind, r.valid, r.errors, r.warnings) == ("uscc", True, [], [])
    assert r.parts["authority_code"] == "9" and r.parts["authority_name"] == "工商"
    assert r.parts["org_type_code"] == "1" and r.parts["org_type_name"] == "企业"
    assert r.parts["division_code"] == "350100" and r.parts["division_name"] == "福建省"
    assert r.parts["embedded_orgcode"] == "M000100Y4"
    assert r.parts["embedded_orgcode_valid"] is True


def test_embedded_orgcode_of_the_example_is_itself_a_valid_orgcode():
    r = check("M000100Y-4")
    assert (r.kind, r.valid) == ("orgcode", True)
    assert r.parts["formatted"] == "M000100Y-4"
    assert orgcode_check_char("M000100Y") == "4"


def test_idcard_example_is_valid_with_parts():
    r = check("11010519491231002X", today=TODAY)
    assert (r.kind, r.valid) == ("idcard", True)
    assert r.parts["birth_date"] == "1949-12-31"
    assert r.parts["sex"] == "female"  # sequence 002 is even
    assert r.parts["division_code"] == "110105"
    assert r.parts["division_name"] == "北京市"


def test_regno_example_is_valid():
    r = check("110108000000016")
    assert (r.kind, r.valid) == ("regno", True)
    assert regno_check_digit("11010800000001") == "6"


def test_check_character_helpers():
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert idcard_check_char("11010519491231002") == "X"
    with pytest.raises(ProblemError) as err:
        uscc_check_char("91350100M000100I4")
    assert codes(err.value.problems) == ["code.char"]
    with pytest.raises(ProblemError):
        orgcode_check_char("M000100")
    with pytest.raises(ProblemError):
        regno_check_digit("1101080000000A")
    with pytest.raises(ProblemError):
        idcard_check_char("1101051949123100")


def test_hubei_idcard_names_its_county():
    first17 = "42010219900307123"
    r = check(first17 + idcard_check_char(first17), today=TODAY)
    assert r.valid
    assert r.parts["division_name"] == "湖北省武汉市江岸区"
    assert r.parts["sex"] == "male"


# --- each kind of mistake -------------------------------------------------------------------------


def test_wrong_length_names_expected_and_actual():
    r = check("91350100M000100Y4", "uscc")
    assert codes(r.errors) == ["code.length"]
    assert "长度应为18位，实际为17位" in r.errors[0].message_zh
    assert "must be 18 characters, got 17" in r.errors[0].message_en


def test_bad_character_names_its_position():
    r = check("91350100M00I100Y43", "uscc")
    assert codes(r.errors) == ["code.char"]
    assert "第12位字符'I'不合法" in r.errors[0].message_zh
    assert "'1'" in r.errors[0].message_zh  # the look-alike hint
    assert "character 'I' at position 12 is not allowed" in r.errors[0].message_en


def test_letters_are_not_allowed_in_the_division_positions():
    r = check("9135A100M000100Y43", "uscc")
    assert codes(r.errors) == ["code.char"]
    assert "第5位" in r.errors[0].message_zh


def test_letter_authorities_and_types_are_accepted():
    for prefix in ("A1", "N3", "Y1", "31", "59", "71", "81"):
        code = make_uscc(prefix[0], prefix[1], "420100", "MA4K0000")
        assert check(code).valid, prefix


def _with_check(first17: str) -> str:
    return first17 + check_char_for(first17)


def test_unknown_authority():
    r = check(_with_check("B1350100M000100Y4"), "uscc")
    assert codes(r.errors) == ["uscc.authority"]


def test_unknown_org_type_for_the_authority():
    r = check(_with_check("95350100M000100Y4"), "uscc")
    assert codes(r.errors) == ["uscc.org_type"]
    assert "工商" in r.errors[0].message_zh
    r = check(_with_check("Y2350100M000100Y4"), "uscc")
    assert codes(r.errors) == ["uscc.org_type"]


def test_bad_embedded_orgcode():
    r = check(_with_check("91350100M000100Y5"), "uscc")
    assert codes(r.errors) == ["uscc.embedded_orgcode"]
    assert "应为'4'" in r.errors[0].message_zh


def test_individual_business_with_uncheckable_embedded_code_is_valid_with_a_warning():
    r = check(_with_check("92420106M000100Y5"))
    assert r.valid
    assert codes(r.warnings) == ["uscc.embedded_orgcode_unverified"]
    assert r.parts["embedded_orgcode_valid"] is False


def test_wrong_check_character_names_the_expected_one():
    r = check("91420100MA4K00002X", "uscc")
    assert codes(r.errors) == ["code.check_char"]
    assert "校验位应为'Y'，实际为'X'" in r.errors[0].message_zh
    assert "check character should be 'Y', got 'X'" in r.errors[0].message_en


def test_fujian_pilot_code_is_rejected_but_explained():
    # A real code from Fujian's pre-standard pilot: the published algorithm gives F, not 9.
    r = check("91350203M0001QKT19")
    assert codes(r.errors) == ["code.check_char"]
    assert codes(r.warnings) == ["uscc.pilot_check_char"]


def test_unknown_division_is_only_a_warning():
    r = check(_with_check("91429099M000100Y4"))
    assert r.valid
    assert codes(r.warnings) == ["division.unknown"]
    r = check(_with_check("91990000M000100Y4"))
    assert r.valid and codes(r.warnings) == ["division.unknown"]


def test_national_registration_authority_division():
    r = check(_with_check("11100000M000100Y4"))
    assert r.valid and r.warnings == []
    assert r.parts["division_name"] == "国家级登记管理机关"


def test_placeholder_for_individual_business_without_code():
    r = check(USCC_PLACEHOLDER)
    assert r.kind == "uscc" and not r.valid
    assert codes(r.errors) == ["uscc.placeholder"]
    assert "工商注册号" in r.errors[0].message_zh


def test_orgcode_mistakes():
    assert codes(check("M000100Y5", "orgcode").errors) == ["code.check_char"]
    assert codes(check("M000100YA", "orgcode").errors) == ["code.char"]
    assert codes(check("m000100y", "orgcode").errors) == ["code.length"]
    assert codes(check("M0001*0Y4", "orgcode").errors) == ["code.char"]


def test_idcard_mistakes():
    assert codes(check("11010519491231002Y", "idcard", today=TODAY).errors) == ["code.char"]
    assert codes(check("110105194912310021", "idcard", today=TODAY).errors) == ["code.check_char"]
    bad_date = "11010519490231002"
    r = check(bad_date + idcard_check_char(bad_date), today=TODAY)
    assert codes(r.errors) == ["idcard.birth_date"]
    assert "不是有效日期" in r.errors[0].message_zh
    future = "11010520300101002"
    r = check(future + idcard_check_char(future), "idcard", today=TODAY)
    assert codes(r.errors) == ["idcard.birth_date"]
    assert "晚于今天" in r.errors[0].message_zh
    # the same number is fine once "today" has passed its birth date
    assert check(future + idcard_check_char(future), "idcard", today=dt.date(2031, 1, 1)).valid
    ancient = "11010517991231002"
    assert codes(check(ancient + idcard_check_char(ancient), today=TODAY).errors) == ["idcard.birth_date"]


def test_old_15_digit_idcard():
    r = check("110105491231002", "idcard", today=TODAY)
    assert r.valid
    assert r.parts["birth_date"] == "1949-12-31"
    assert r.parts["upgraded"] == "11010519491231002X"
    assert codes(r.warnings) == ["idcard.legacy_15"]
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"
    assert upgrade_15_to_18("１１０１０５ ４９１２３１ ００２") == "11010519491231002X"
    with pytest.raises(ProblemError):
        upgrade_15_to_18("110105491331002")  # month 13
    with pytest.raises(ProblemError):
        upgrade_15_to_18("11010519491231002X")


def test_regno_mistakes():
    assert codes(check("110108000000017", "regno").errors) == ["code.check_char"]
    assert codes(check("11010800000001A", "regno").errors) == ["code.char"]
    assert codes(check("11010800000001", "regno").errors) == ["code.length"]


def test_make_uscc_round_trip_and_refusals():
    code = make_uscc("9", "1", "420100", "MA4K0000")
    assert check(code).valid and code.startswith("91420100MA4K0000")
    assert make_uscc("9", "1", "350100", "M000100Y4") == "91350100M000100Y43"
    with pytest.raises(ProblemError) as err:
        make_uscc("9", "5", "42010X", "M000100Y5")
    assert codes(err.value.problems) == ["uscc.org_type", "uscc.division", "uscc.embedded_orgcode"]
    # an individual business may carry an uncheckable identifier
    assert check(make_uscc("9", "2", "420106", "M000100Y5")).valid


# --- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "９１３５０１００Ｍ０００１００Ｙ４３",
        " 9135 0100 M000 100Y 43 ",
        "9135\u30000100M000100Y43",
        "91350100-M000100Y4-3",
        "91350100–M000100Y4—3",
        "91350100－M000100Y43",
        "91350100m000100y43",
        "\ufeff91350100M000100Y43\u200b",
        "91350100M000100Y43\t\n",
    ],
)
def test_normalisation_variants_all_check_the_same(raw):
    assert normalize_code(raw) == "91350100M000100Y43"
    assert check(raw).valid


def test_normalise_other_inputs():
    assert normalize_code(None) == ""
    assert normalize_code(110108000000016) == "110108000000016"
    assert normalize_code(110108000000016.0) == "110108000000016"
    assert normalize_code("11010519491231002x") == "11010519491231002X"


def test_number_cells_that_lost_digits_are_reported():
    r = check(11010519491231002.0)
    assert codes(r.errors)[0] == "code.float_precision"


def test_empty_input():
    r = check("  ")
    assert (r.kind, r.valid, codes(r.errors)) == ("unknown", False, ["code.empty"])


# --- detection ----------------------------------------------------------------------------------


def test_detection_by_shape():
    assert check("91350100M000100Y43").kind == "uscc"
    assert check("11010519491231002X", today=TODAY).kind == "idcard"
    assert check("110108000000016").kind == "regno"
    assert check("M000100Y-4").kind == "orgcode"
    assert check("M000100Y4").kind == "orgcode"
    assert check("12345").kind == "unknown"


def test_detection_explains_itself():
    r = check("91350100M000100Y43")
    assert "统一社会信用代码" in r.parts["detection_zh"]
    assert r.parts["detection_en"]
    assert "detection_zh" not in check("91350100M000100Y43", "uscc").parts


def test_all_digit_uscc_is_detected_as_uscc():
    code = make_uscc("1", "2", "420100", "00012346")  # 事业单位 with an all-digit code
    assert code == "124201000001234655"
    r = check(code, today=TODAY)
    assert (r.kind, r.valid) == ("uscc", True)


def test_invalid_18_digits_fall_back_to_the_reading_that_fits():
    # A real birth date but a wrong check digit: reported as an identity number.
    r = check("420102199003071230", today=TODAY)
    assert r.kind == "idcard" and codes(r.errors) == ["code.check_char"]
    # No birth date, but 12 (机构编制/事业单位) and a valid embedded code: reported as a USCC.
    r = check("124201000001234650", today=TODAY)  # the code above with its last digit mistyped
    assert r.kind == "uscc" and codes(r.errors) == ["code.check_char"]
    # A typo in an identity number's date starting 11 (also a valid USCC prefix) stays an identity number.
    r = check("110105194902310021", today=TODAY)
    assert r.kind == "idcard"


def test_15_digits_valid_both_ways_is_flagged():
    # The old number of the GB 11643 example happens to satisfy MOD 11,10 too.
    r = check("110105491231002", today=TODAY)
    assert r.kind == "regno" and r.valid
    assert codes(r.warnings) == ["code.ambiguous"]
    assert check("110105491231002", "idcard", today=TODAY).valid


def test_15_digits_failing_regno_but_with_a_birth_date_is_an_old_idcard():
    r = check("420102900307123", today=TODAY)
    assert r.kind == "idcard" and r.valid


def test_near_miss_lengths_are_reported_against_the_closest_kind():
    r = check("91350100M000100Y4")
    assert r.kind == "uscc" and "实际为17位" in r.errors[0].message_zh
    r = check("11010519491231002")
    assert r.kind == "idcard" and "实际为17位" in r.errors[0].message_zh
    r = check("M000100Y")
    assert r.kind == "orgcode"


def test_unknown_kind_argument_is_refused():
    with pytest.raises(ValueError):
        check("91350100M000100Y43", "passport")


def test_as_dict_has_exactly_the_documented_keys():
    d = check("91350100M000100Y42").as_dict()
    assert list(d) == ["kind", "valid", "normalized", "errors", "warnings", "parts"]
    assert d["valid"] is False
    assert all(set(e) == {"code", "message_zh", "message_en"} for e in d["errors"] + d["warnings"])
