"""ID numbers found anywhere in text, vectorised: every valid one as written, nothing that merely looks
like one."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from xinyong.codes import check
from xinyong.codes import vector as V

from .strategies import DIGITS, SETTINGS, TODAY, corrupted, idcards, regnos

_text = st.text(st.sampled_from("经查当事人于年月日在某地发布广告，罚款元。（）:；ABCxyz "), max_size=12)


def _found(*cells: str | None) -> list[tuple[int, str, str]]:
    frame = pl.DataFrame(
        {"k": list(range(len(cells))), "t": list(cells)}, schema={"k": pl.Int64, "t": pl.String}
    )
    out = V.idcard_numbers_in_text(frame, ["t"], key="k", today=TODAY)
    return sorted((k, found, number) for k, _, found, number in out.iter_rows())


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@SETTINGS
@given(idcards(), _text, _text)
def test_a_valid_id_number_is_found_however_it_is_written(number: str, before: str, after: str) -> None:
    grouped = f"{number[:6]} {number[6:14]} {number[14:]}"
    hyphens = f"{number[:6]}-{number[6:14]}-{number[14:]}"
    cells = [before + number + after, before + _full_width(number) + after, f"{before} {grouped}，{after}"]
    cells += [f"{before}{hyphens}。", f"税务登记号{number}01", f"{number.lower()}"]
    found = _found(*cells)
    assert {k for k, _, _ in found} == set(range(len(cells)))
    assert {n for _, _, n in found} == {number}
    for k, written, _ in found:
        assert written in cells[k]  # as written, so that it can be masked where it stands


@SETTINGS
@given(corrupted(idcards(), DIGITS + "X"), _text)
def test_an_invalid_id_number_is_not_found(code: str, text: str) -> None:
    if check(code, "idcard", today=TODAY).valid:
        return
    assert _found(text + code + text) == []


@SETTINGS
@given(regnos(), _text)
def test_a_registration_number_is_never_taken_for_an_old_id_number(regno: str, text: str) -> None:
    assert _found(f"{text}注册号{regno}{text}") == []


def test_an_old_15_digit_number_is_found_only_when_nothing_else_explains_it() -> None:
    old = "420106800101123"  # 湖北 420106, born 1980-01-01, sequence 123
    assert check(old, "idcard", today=TODAY).valid
    assert [n for _, _, n in _found(f"旧身份证{old}。")] == [old]
    assert _found(f"旧身份证9{old[1:]}。") == []  # no province 99
    assert _found(f"号码{old}9。") == []  # 16 digits: nothing
    assert _found(f"号码9{old}。") == []  # an old number is not looked for inside a longer run


def test_cells_without_numbers_cost_nothing_and_give_nothing() -> None:
    assert _found(None, "", "2026-06-10", "91420100MA4K00010R", "13812345678", "6222021234567890123") == []
