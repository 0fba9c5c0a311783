"""Hypothesis strategies that build valid identifiers from their parts, and ways to corrupt them."""

from __future__ import annotations

import datetime as dt

from hypothesis import settings
from hypothesis import strategies as st

from xinyong.codes import hubei_counties, orgcode, uscc
from xinyong.codes.idcard import check_digit_for as id_check
from xinyong.codes.regno import check_digit_for as regno_check

TODAY = dt.date(2025, 6, 1)

# Deterministic and quick: the same examples on every run, no example database on disk.
SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=60)

DIGITS = "0123456789"
ORG_CHARS = orgcode.CHARS

_divisions = st.one_of(
    st.sampled_from([d.code for d in hubei_counties()]),
    st.sampled_from(["110105", "350100", "440300", "100000"]),
    st.text(DIGITS, min_size=6, max_size=6),
)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(sorted(uscc.valid_prefixes())))
    body = draw(st.text(uscc.CHARS, min_size=8, max_size=8))
    embedded = body + orgcode.check_char_for(body)
    if prefix == uscc.INDIVIDUAL_BUSINESS and draw(st.booleans()):
        # An individual business's positions 9-17 need not be GB 11714-checkable.
        embedded = draw(st.text(uscc.CHARS, min_size=9, max_size=9))
    first17 = prefix + draw(_divisions) + embedded
    return first17 + uscc.check_char_for(first17)


@st.composite
def orgcodes(draw: st.DrawFn) -> str:
    body = draw(st.text(ORG_CHARS, min_size=8, max_size=8))
    return body + orgcode.check_char_for(body)


@st.composite
def idcards(draw: st.DrawFn) -> str:
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    first17 = draw(_divisions) + birth.strftime("%Y%m%d") + draw(st.text(DIGITS, min_size=3, max_size=3))
    return first17 + id_check(first17)


@st.composite
def old_idcards(draw: st.DrawFn) -> str:
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)))
    return draw(_divisions) + birth.strftime("%y%m%d") + draw(st.text(DIGITS, min_size=3, max_size=3))


@st.composite
def regnos(draw: st.DrawFn) -> str:
    first14 = draw(st.text(DIGITS, min_size=14, max_size=14))
    return first14 + regno_check(first14)


@st.composite
def corrupted(draw: st.DrawFn, valid: st.SearchStrategy[str], alphabet: str) -> str:
    """A valid code with one typical clerk's mistake: substitution, swap, deletion or insertion."""
    code = draw(valid)
    i = draw(st.integers(0, len(code) - 1))
    how = draw(st.sampled_from(["substitute", "swap", "delete", "insert", "keep"]))
    ch = draw(st.sampled_from(alphabet))
    if how == "substitute":
        return code[:i] + ch + code[i + 1 :]
    if how == "swap" and i + 1 < len(code):
        return code[:i] + code[i + 1] + code[i] + code[i + 2 :]
    if how == "delete":
        return code[:i] + code[i + 1 :]
    if how == "insert":
        return code[:i] + ch + code[i:]
    return code
