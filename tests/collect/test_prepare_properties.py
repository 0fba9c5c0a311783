"""Normalisation as properties, through the real vectorised `prepare` on the 行政处罚 item: every spelling
of a date that the platform accepts comes out as that date; an amount is accepted with its value unchanged
or refused, never changed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from xinyong.catalog.loader import load_catalog
from xinyong.collect.prepare import EXCEL_EPOCH, ROW, Context, err, norm, prepare, raw
from xinyong.policy.loader import load_policy

XZCF = load_catalog().item("XZCF")
POLICY = load_policy()
CTX = Context(
    item=XZCF,
    today=dt.date(2026, 6, 15),
    source_field="cf_sjlydm",
    default_source="x",
    collection=POLICY.collection,
    id_mask=POLICY.masking.id_number,
)
DATE, AMOUNT = "cf_jdrq", "cf_nr_fk"
# One `prepare` costs ~0.1 s whatever its size: each example checks many values, so fewer examples do.
MANY_PER_EXAMPLE = settings(max_examples=max(5, settings.default.max_examples // 5))
SCALE = XZCF.field(AMOUNT).scale or 0
WHOLE_DIGITS = (XZCF.field(AMOUNT).precision or 18) - SCALE


def normalised(column: str, cells: list[str]) -> list[tuple[str | None, str | None]]:
    """(normalised value, problem code) of each cell, put in `column` of otherwise empty rows."""
    frame = pl.DataFrame(
        {ROW: list(range(2, len(cells) + 2))}
        | {
            raw(f.code): [cells[i] if f.code == column else None for i in range(len(cells))]
            for f in XZCF.fields
        },
        schema={ROW: pl.Int64} | {raw(f.code): pl.String for f in XZCF.fields},
    )
    out = prepare(frame, CTX)
    return list(zip(out[norm(column)].to_list(), out[err(column)].to_list(), strict=True))


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spellings(day: dt.date) -> list[str]:
    """Every way of writing `day` that parse_date documents."""
    y, m, d = day.year, day.month, day.day
    written = [
        day.isoformat(),
        f"{y}/{m}/{d}",
        f"{y}/{m:02d}/{d:02d}",
        f"{y}.{m}.{d}",
        f"{y}-{m}-{d}",
        f"{y}{m:02d}{d:02d}",
        f"{y}年{m}月{d}日",
        f"{y}年{m:02d}月{d:02d}日",
        f"{day.isoformat()} 00:00:00",
        f"{y}/{m}/{d} 13:45",
        f"{day.isoformat()}T08:30:00",
    ]
    serial = (day - EXCEL_EPOCH).days
    if 20000 <= serial <= 80000:  # what an Excel date cell becomes in a CSV export
        written += [str(serial), f"{serial}.0"]
    return written + [f"  {w} " for w in written[:2]] + [_full_width(w) for w in written[:3]]


DAYS = st.dates(dt.date(1900, 1, 1), dt.date(2199, 12, 31))


@MANY_PER_EXAMPLE
@given(st.lists(DAYS, min_size=1, max_size=20))
def test_every_accepted_spelling_of_a_date_is_that_date(days: list[dt.date]) -> None:
    cells = [(day, text) for day in days for text in spellings(day)]
    got = normalised(DATE, [text for _, text in cells])
    wrong = [
        (text, value) for (day, text), (value, _) in zip(cells, got, strict=True) if value != day.isoformat()
    ]
    assert not wrong, wrong


def _day_after_the_month(day: dt.date, separator: str) -> str:
    """31 November for a day in November: the day after the month's last, in one spelling."""
    last = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    month_end = "月" if separator == "年" else separator
    return f"{day.year}{separator}{day.month}{month_end}{last.day + 1}{'日' if separator == '年' else ''}"


@MANY_PER_EXAMPLE
@given(st.lists(st.tuples(DAYS, st.sampled_from(["/", ".", "-", "年"])), min_size=1, max_size=30))
def test_an_impossible_day_is_refused_not_moved(cases: list[tuple[dt.date, str]]) -> None:
    """31 November is not 1 December: a day past the month's end is a problem on the cell."""
    texts = [_day_after_the_month(day, separator) for day, separator in cases]
    got = normalised(DATE, texts)
    assert all(outcome == (None, "row.date") for outcome in got), list(zip(texts, got, strict=True))


# The catalogue's own floor (a fine is never negative: collection refuses it as row.min_value).
FLOOR = XZCF.field(AMOUNT).min_value
AMOUNTS = st.decimals(
    min_value=Decimal(FLOOR) if FLOOR is not None else Decimal(-(10**WHOLE_DIGITS) + 1),
    max_value=Decimal(10**WHOLE_DIGITS - 1),
    places=SCALE,
    allow_nan=False,
    allow_infinity=False,
)
STYLES = ["plain", "grouped", "plus", "full_width", "spaced", "trailing_zeros"]


def _grouped(text: str) -> str:
    """1234567.5 -> 1,234,567.5 (thousands separators, as Excel writes them)."""
    _, sign, body = text.rpartition("-")
    whole, dot, fraction = body.partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction}"


def _written(amount: Decimal, style: str) -> str:
    text = format(amount, "f")
    return {
        "plain": text,
        "grouped": _grouped(text),
        "plus": text if text.startswith("-") else f"+{text}",
        "full_width": _full_width(text),
        "spaced": f" {text} ",
        "trailing_zeros": f"{text}{'' if '.' in text else '.'}{'0' * (SCALE - len(text.partition('.')[2]))}",
    }[style]


@MANY_PER_EXAMPLE
@given(st.lists(st.tuples(AMOUNTS, st.sampled_from(STYLES)), min_size=1, max_size=30))
def test_an_accepted_amount_keeps_its_value(cases: list[tuple[Decimal, str]]) -> None:
    texts = [_written(amount, style) for amount, style in cases]
    got = normalised(AMOUNT, texts)
    wrong = [
        (text, value, problem)
        for (amount, _), text, (value, problem) in zip(cases, texts, got, strict=True)
        if problem is not None or value is None or Decimal(value) != amount
    ]
    assert not wrong, wrong


def read_as_a_person_would(text: str) -> Decimal | None:
    """The value a clerk reads in the cell, or None when it is not plainly a number: digits, an optional
    sign, an optional decimal part, and commas or spaces only as thousands separators (1,234,567.5)."""
    t = text.strip()
    sign = t[:1] if t[:1] in "+-" else ""
    whole, dot, fraction = t[len(sign) :].partition(".")
    groups = re.split(r"[,\s]", whole)
    grouped = len(groups) > 1 and 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    digits = "".join(groups)
    if not digits.isascii() or not digits.isdigit() or not (len(groups) == 1 or grouped):
        return None
    if dot and not (fraction.isascii() and fraction.isdigit()):
        return None
    return Decimal(f"{sign}{digits}{dot}{fraction}")


@MANY_PER_EXAMPLE
@given(
    st.lists(st.text(alphabet="0123456789.,-+ eE万元约", min_size=1, max_size=14), min_size=1, max_size=30)
)
@example(["1,5", "0,", "12,34", "+-5", "1,234.5", "1 234 567", "-0.5"])  # 1,5 was once loaded as 15
def test_an_amount_is_accepted_with_its_value_or_refused(texts: list[str]) -> None:
    got = normalised(AMOUNT, texts)
    wrong = []
    for text, (value, problem) in zip(texts, got, strict=True):
        if value is None:
            if text.strip() and problem is None:
                wrong.append((text, "neither accepted nor refused"))
        elif read_as_a_person_would(text) != Decimal(value):
            wrong.append((text, f"accepted as {value}"))
    assert not wrong, wrong
