"""The polars expressions agree with the scalar checks on valid, corrupted and junk values."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from xinyong.codes import check, idcard_check_char, normalize_code
from xinyong.codes import vector as V
from xinyong.codes.uscc import CHARS as USCC_CHARS

from .strategies import (
    DIGITS,
    ORG_CHARS,
    SETTINGS,
    TODAY,
    corrupted,
    idcards,
    old_idcards,
    orgcodes,
    regnos,
    usccs,
)

JUNK = [
    "",
    "0",
    "中文中文中文中文中文中文中文中文中文",
    "91350100M000100Y4",
    "91350100M000100Y43",
    "00000000000000000X",
    "11010519491231002X",
    "110105000000000000",
    "110105000012310021",
    "110108000000016",
    "M000100Y4",
    "M000100YX",
    "é" * 18,
]


def _scalar(values: list[str | None], kind: str, today: dt.date | None = None) -> list[bool]:
    return [v is not None and check(v, kind, today=today).valid for v in values]


def _vector(values: list[str | None], expr: pl.Expr) -> list[bool]:
    return pl.DataFrame({"c": values}, schema={"c": pl.String}).select(expr.alias("ok"))["ok"].to_list()


def _normalised(values: list[str]) -> list[str | None]:
    return [normalize_code(v) for v in values] + JUNK + [None]


@SETTINGS
@given(st.lists(st.one_of(usccs(), corrupted(usccs(), USCC_CHARS + "IOZ-x ")), min_size=1, max_size=40))
def test_uscc_vector_matches_scalar(values):
    values = _normalised(values)
    assert _vector(values, V.uscc_valid(pl.col("c"))) == _scalar(values, "uscc")


@SETTINGS
@given(st.lists(st.one_of(usccs(), corrupted(usccs(), USCC_CHARS)), min_size=1, max_size=40))
def test_embedded_orgcode_is_positions_9_to_17_of_valid_codes_only(values):
    values = _normalised(values)
    got = _vector(values, V.uscc_embedded_orgcode(pl.col("c")))
    want = [v[8:17] if ok else None for v, ok in zip(values, _scalar(values, "uscc"), strict=True)]
    assert got == want


@SETTINGS
@given(st.lists(st.one_of(orgcodes(), corrupted(orgcodes(), ORG_CHARS + "-")), min_size=1, max_size=40))
def test_orgcode_vector_matches_scalar(values):
    values = _normalised(values)
    assert _vector(values, V.orgcode_valid(pl.col("c"))) == _scalar(values, "orgcode")


@SETTINGS
@given(
    st.lists(
        st.one_of(
            idcards(), old_idcards(), corrupted(idcards(), DIGITS + "X"), corrupted(old_idcards(), DIGITS)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_idcard_vector_matches_scalar(values):
    values = _normalised(values)
    assert _vector(values, V.idcard_valid(pl.col("c"), today=TODAY)) == _scalar(values, "idcard", TODAY)


def test_idcard_vector_dates():
    bodies = [
        "11010519491231002",  # valid
        "11010519490231002",  # 31 February
        "11010500000101002",  # year 0, which polars' parser accepts
        "11010517991231002",  # before 1800
        "11010520260601002",  # after TODAY
    ]
    values = [b + idcard_check_char(b) for b in bodies] + ["110105491231002", "110105491331002"]
    got = _vector(values, V.idcard_valid(pl.col("c"), today=TODAY))
    assert got == _scalar(values, "idcard", TODAY) == [True, False, False, False, False, True, False]
    assert _vector(values, V.idcard_valid(pl.col("c"), today=TODAY, allow_15=False))[5] is False


@SETTINGS
@given(st.lists(st.one_of(regnos(), corrupted(regnos(), DIGITS + "A")), min_size=1, max_size=40))
def test_regno_vector_matches_scalar(values):
    values = _normalised(values)
    assert _vector(values, V.regno_valid(pl.col("c"))) == _scalar(values, "regno")


def test_vector_works_in_lazy_queries_too():
    lf = pl.LazyFrame({"c": ["91350100M000100Y43", "91350100M000100Y42", None]})
    out = lf.select(V.uscc_valid(pl.col("c")).alias("ok")).collect()["ok"].to_list()
    assert out == [True, False, False]
