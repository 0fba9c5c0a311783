"""Properties of normalisation, over many generated spellings: an amount never changes value, and every
accepted spelling of a date comes back as that date. Runs `prepare` itself (no database needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyong.catalog import load_catalog
from xinyong.collect.prepare import EXCEL_EPOCH, ROW, Context, err, norm, prepare, raw
from xinyong.policy.loader import load_policy

TODAY = dt.date(2026, 6, 15)
XZCF = load_catalog().item("XZCF")
POLICY = load_policy()
CTX = Context(
    item=XZCF,
    today=TODAY,
    source_field="cf_sjlydm",
    default_source="11420100Q0100001XM",
    collection=POLICY.collection,
    id_mask=POLICY.masking.id_number,
)
EARLIEST = POLICY.collection.earliest_date.value


def _prepared(field: str, values: list[str]) -> pl.DataFrame:
    columns = {raw(f.code): [None] * len(values) for f in XZCF.fields}
    columns[raw(field)] = values
    frame = pl.DataFrame(
        {ROW: list(range(2, 2 + len(values))), **columns}, schema_overrides=dict.fromkeys(columns, pl.String)
    )
    return prepare(frame, CTX)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


amounts = st.decimals(min_value=0, max_value=Decimal("999999999999"), places=6, allow_nan=False)


def _spellings(amount: Decimal) -> list[str]:
    plain = f"{amount:f}"
    grouped = f"{amount:,f}"
    return [
        plain,
        grouped,
        f"+{plain}",
        f"  {grouped} ",
        _full_width(grouped),
        plain.rstrip("0").rstrip(".") or "0",
    ]


# Each example is a list of values checked in one `prepare` call: a call costs ~0.2 s of planning however
# few its rows, so many values per example buy coverage cheaply.
MANY = {"min_size": 1, "max_size": 40}


@settings(max_examples=30, deadline=None)
@given(st.lists(amounts, **MANY))
def test_an_amount_never_changes_value(values: list[Decimal]) -> None:
    spellings = [(amount, text) for amount in values for text in _spellings(amount)]
    out = _prepared("cf_nr_fk", [text for _, text in spellings])
    assert out[err("cf_nr_fk")].to_list() == [None] * len(spellings), spellings
    got = out[norm("cf_nr_fk")].to_list()
    assert [Decimal(v) for v in got] == [amount for amount, _ in spellings]


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.decimals(max_value=Decimal("-0.000001"), min_value=Decimal("-999999999999"), places=6), **MANY
    )
)
def test_a_negative_amount_is_never_accepted(values: list[Decimal]) -> None:
    texts = [text for amount in values for text in (f"{amount:f}", f"{amount:,f}")]
    out = _prepared("cf_nr_fk", texts)
    assert out[err("cf_nr_fk")].to_list() == ["row.min_value"] * len(texts)


times = st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))


def _date_spellings(day: dt.date, time: tuple[int, int, int]) -> list[str]:
    h, m, s = time
    y, mo, d = day.year, day.month, day.day
    out = [
        day.isoformat(),
        f"{y}/{mo}/{d}",
        f"{y}.{mo:02d}.{d:02d}",
        f"{y}{mo:02d}{d:02d}",
        f"{y}年{mo}月{d}日",
        f"{day.isoformat()} {h:02d}:{m:02d}:{s:02d}",
        f"{day.isoformat()}T{h}:{m:02d}",
        f"{y}/{mo}/{d} {h}:{m:02d}:{s:02d}.0",
        f"{y}年{mo}月{d}日 {h}时{m:02d}分",
        _full_width(f"{y}/{mo}/{d}"),
    ]
    serial = (day - EXCEL_EPOCH).days
    if 20000 <= serial <= 80000:
        out += [str(serial), f"{serial}.0"]
    return out


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.dates(min_value=EARLIEST, max_value=TODAY), times), **MANY))
def test_every_accepted_date_spelling_round_trips(days: list[tuple[dt.date, tuple[int, int, int]]]) -> None:
    spellings = [(day, text) for day, time in days for text in _date_spellings(day, time)]
    out = _prepared("cf_jdrq", [text for _, text in spellings])
    assert out[err("cf_jdrq")].to_list() == [None] * len(spellings), spellings
    assert out[norm("cf_jdrq")].to_list() == [day.isoformat() for day, _ in spellings]


impossible_times = st.one_of(
    st.tuples(st.integers(24, 99), st.integers(0, 59)),
    st.tuples(st.integers(0, 23), st.integers(60, 99)),
)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.dates(min_value=EARLIEST, max_value=TODAY), impossible_times), **MANY))
def test_a_time_that_does_not_exist_is_never_accepted(values: list[tuple[dt.date, tuple[int, int]]]) -> None:
    out = _prepared("cf_jdrq", [f"{day.isoformat()} {h}:{m:02d}" for day, (h, m) in values])
    assert out[err("cf_jdrq")].to_list() == ["row.time"] * len(values)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1, 1, 1), max_value=EARLIEST - dt.timedelta(days=1)), **MANY))
def test_a_date_before_the_floor_is_never_accepted(days: list[dt.date]) -> None:
    out = _prepared("cf_jdrq", [f"{day.year:04d}-{day.month:02d}-{day.day:02d}" for day in days])
    assert out[err("cf_jdrq")].to_list() == ["row.date_too_early"] * len(days)
