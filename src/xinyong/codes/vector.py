"""The identifier checks as polars expressions, for validating a million rows at once.

Each function takes a string expression already passed through `normalize_code` (the collection
pipeline normalises the column first) and returns a Boolean expression that is true exactly when
`check(value, kind).valid` would be; the tests cross-check the two. Nulls give False.

How: a regular expression settles length and character set in one pass. Each position is then
read as a byte (`bin.get`) and turned into its value by indexing a 256-entry literal table, so
every sub-expression is used once: the expressions stay fast in eager `DataFrame.select`, which
does not share repeated sub-expressions, as well as in lazy queries. Weighted sums are plain
integer arithmetic; dates use polars' own parser with the scalar code's bounds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from xinyong.clock import SystemClock
from xinyong.codes import divisions, idcard, orgcode, uscc

_USCC_SHAPE = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
_ORGCODE_SHAPE = r"^[0-9A-Z]{8}[0-9X]$"
_ID18_SHAPE = r"^[0-9]{17}[0-9X]$"
_DIGITS15_SHAPE = r"^[0-9]{15}$"


def _byte_table(values: Mapping[str, int]) -> pl.Series:
    """A 256-entry lookup from a byte to its value; bytes of other characters give null."""
    table: list[int | None] = [None] * 256
    for ch, v in values.items():
        table[ord(ch)] = v
    return pl.Series(table, dtype=pl.Int64)


_DIGITS = _byte_table({str(d): d for d in range(10)})
_DIGIT_OR_X = _byte_table({**{str(d): d for d in range(10)}, "X": 10})
_USCC_INDEX = _byte_table(uscc.VALUES)
_ORG_VALUE = _byte_table(orgcode.VALUES)
# GB 11714: remainder r = sum mod 11 -> value of the check character (11 - r, with 10 -> X, 11 -> 0).
_ORG_EXPECTED = pl.Series(
    [orgcode.VALUES[orgcode.CHECK_CHARS[10] if 11 - r == 10 else str((11 - r) % 11)] for r in range(11)],
    dtype=pl.Int64,
)


def _values(expr: pl.Expr, table: pl.Series, start: int, count: int) -> list[pl.Expr]:
    raw = expr.cast(pl.Binary)
    return [pl.lit(table).gather(raw.bin.get(i, null_on_oob=True)) for i in range(start, start + count)]


def _weighted(values: list[pl.Expr], weights: tuple[int, ...]) -> pl.Expr:
    return pl.sum_horizontal(v * w for v, w in zip(values, weights, strict=True))


def _orgcode_ok(expr: pl.Expr, start: int) -> pl.Expr:
    """GB 11714 check over the 9 characters from `start` (8 body characters + check)."""
    values = _values(expr, _ORG_VALUE, start, 9)
    expected = pl.lit(_ORG_EXPECTED).gather(_weighted(values[:8], orgcode.WEIGHTS) % 11)
    return expected == values[8]


def uscc_valid(expr: pl.Expr) -> pl.Expr:
    """True where the value is a valid 统一社会信用代码 (same rule as `check_uscc(...).valid`)."""
    index = _values(expr, _USCC_INDEX, 0, 18)
    check_ok = (31 - _weighted(index[:17], uscc.WEIGHTS) % 31) % 31 == index[17]
    prefix = expr.str.slice(0, 2)
    pairs = pl.Series(sorted(uscc.valid_prefixes()), dtype=pl.String).implode()
    # 个体工商户 ("92") may carry positions 9-17 that are not GB 11714-checkable; see uscc.py.
    embedded_ok = _orgcode_ok(expr, 8) | (expr.str.starts_with(uscc.INDIVIDUAL_BUSINESS))
    valid = expr.str.contains(_USCC_SHAPE) & prefix.is_in(pairs) & embedded_ok & check_ok
    return valid.fill_null(False)


def uscc_embedded_orgcode(expr: pl.Expr, *, only_valid: bool = True) -> pl.Expr:
    """Positions 9-17 (the 组织机构代码), to match records that carry only the old code.

    Null where the code is not a valid USCC (or, with only_valid=False, not 18 characters), so an
    invalid code never matches anything. For 个体工商户 ("92") the result need not be a
    GB 11714-valid organisation code.
    """
    ok = uscc_valid(expr) if only_valid else expr.str.len_chars() == 18
    return pl.when(ok).then(expr.str.slice(8, 9)).otherwise(None)


def orgcode_valid(expr: pl.Expr) -> pl.Expr:
    """True where the value is a valid 9-character 组织机构代码 (hyphen already removed)."""
    return (expr.str.contains(_ORGCODE_SHAPE) & _orgcode_ok(expr, 0)).fill_null(False)


def _birth_ok(yyyymmdd: pl.Expr, today: dt.date) -> pl.Expr:
    # Polars parses year 0 and leaves range checks to us: apply the scalar rule's bounds exactly.
    birth = yyyymmdd.str.to_date("%Y%m%d", strict=False)
    return birth.is_between(pl.lit(idcard.MIN_BIRTH_DATE), pl.lit(today), closed="both")


def idcard_valid(expr: pl.Expr, *, today: dt.date | None = None, allow_15: bool = True) -> pl.Expr:
    """True where the value is a valid 公民身份号码: check character, and a real birth date not
    after `today` (default: today in China Standard Time). Old 15-digit numbers count as valid,
    as in `check_idcard`, unless allow_15 is False.
    """
    limit = today if today is not None else SystemClock().today()
    digits = _values(expr, _DIGITS, 0, 17)
    # "10X98765432"[r] read as a number (X = 10) is (12 - r) mod 11.
    expected = (12 - _weighted(digits, idcard.WEIGHTS) % 11) % 11
    given = _values(expr, _DIGIT_OR_X, 17, 1)[0]
    valid18 = expr.str.contains(_ID18_SHAPE) & _birth_ok(expr.str.slice(6, 8), limit) & (expected == given)
    if not allow_15:
        return valid18.fill_null(False)
    valid15 = expr.str.contains(_DIGITS15_SHAPE) & _birth_ok(pl.lit("19") + expr.str.slice(6, 6), limit)
    return valid18.fill_null(False) | valid15.fill_null(False)


def regno_valid(expr: pl.Expr) -> pl.Expr:
    """True where the value is a valid 15-digit 工商注册号 (ISO 7064 MOD 11,10)."""
    digits = _values(expr, _DIGITS, 0, 15)
    p: pl.Expr | int = 10
    for d in digits[:14]:
        # (p + d) mod 10 with 0 read as 10, written so that p appears once per step: the
        # expression tree grows linearly over the 14 steps instead of doubling at each.
        p = (((p + d - 1) % 10 + 1) * 2) % 11
    check_ok = (11 - p) % 10 == digits[14]
    return (expr.str.contains(_DIGITS15_SHAPE) & check_ok).fill_null(False)


# --- ID numbers written where they do not belong (free text, other codes) --------------------------------

_DIGIT = "[0-9\uff10-\uff19]"  # half- and full-width digits: text fields are not made half-width
_X = "[Xx\uff38\uff58]"
_SEPARATOR = "[ \\-\u3000\uff0d]"
# A run of at least 15 digits (an ID number may hide inside a longer run: an old 个体 税务登记号 is the
# owner's ID number plus two digits), and a number written in groups ("110105 19491231 002X").
ID_RUN = f"{_DIGIT}{{15,}}{_X}?"
ID_GROUPED = f"{_DIGIT}{{1,8}}(?:{_SEPARATOR}{_DIGIT}{{1,8}}){{1,5}}(?:{_SEPARATOR}?{_X})?"
# How far into a longer run an 18-digit number is looked for (offsets 0..7: runs of up to 25 characters).
_RUN_OFFSETS = 8
_FULL_DIGITS = [chr(0xFF10 + d) for d in range(10)] + ["\uff38", "\uff58", "x"]
_HALF_DIGITS = [str(d) for d in range(10)] + ["X", "X", "X"]


def _as_id(text: pl.Expr) -> pl.Expr:
    """The digits of a candidate as an ID number is written: half-width, no separators, X upper-case."""
    return text.str.replace_many(_FULL_DIGITS, _HALF_DIGITS).str.replace_all(_SEPARATOR, "")


def _plausible_15(number: pl.Expr, today: dt.date) -> pl.Expr:
    """An old 15-digit ID number found in text, where nothing says it is one.

    The old form has no check character, so any 15 digits with a date in positions 7-12 would pass; in
    text that flags 注册号 and 税务登记号 as often as ID numbers. So the area must be a province, and a
    number that is a valid 注册号 (ISO 7064) or a division + 组织机构代码 (the old 税务登记号) is not taken
    for an ID number.
    """
    provinces = pl.Series(divisions.province_prefixes(), dtype=pl.String).implode()
    return (
        idcard_valid(number, today=today)
        & number.str.slice(0, 2).is_in(provinces)
        & ~regno_valid(number)
        & ~orgcode_valid(number.str.slice(6, 9))
    )


def idcard_numbers_in_text(
    frame: pl.DataFrame, columns: Sequence[str], *, key: str, today: dt.date
) -> pl.DataFrame:
    """Every valid 公民身份号码 written anywhere in the text of `columns`: one row per (key, column, found).

    `found` is the text as written (full-width digits, separators), for replacing it; `number` is the
    normalised ID number (18 digits, or 15 for the old form). 18-digit numbers must pass GB 11643 (check
    character, real birth date not after `today`); see `_plausible_15` for the old form. Vectorised: the
    text is scanned by regular expressions, only the candidates are exploded and checked.

    Rows are first scanned whole (their cells joined by a line break, which no number spans): almost no
    row holds an ID number, and one scan of a row costs far less than one per cell. Only the rows found
    are then scanned cell by cell, to name the cells.
    """
    schema = {key: frame.schema[key], "column": pl.String, "found": pl.String, "number": pl.String}
    if not columns:
        return pl.DataFrame(schema=schema)
    whole_rows = pl.concat_str([pl.col(c).fill_null("") for c in columns], separator="\n")
    hits = _valid_ids(
        frame.select(key, whole_rows.alias("__whole_row_text")), ["__whole_row_text"], key=key, today=today
    )
    if hits.height == 0:
        return pl.DataFrame(schema=schema)
    found_rows = frame.filter(pl.col(key).is_in(hits[key].unique().implode()))
    return _valid_ids(found_rows, columns, key=key, today=today).cast(schema)  # type: ignore[arg-type]


def _valid_ids(frame: pl.DataFrame, columns: Sequence[str], *, key: str, today: dt.date) -> pl.DataFrame:
    parts = []
    for column in columns:
        text = pl.col(column)
        found = pl.concat_list(text.str.extract_all(ID_RUN), text.str.extract_all(ID_GROUPED))
        parts.append(
            frame.select(pl.col(key), pl.lit(column).alias("column"), found.alias("candidate"))
            .filter(pl.col("candidate").list.len() > 0)
            .explode("candidate")
        )
    candidates = pl.concat(parts).with_columns(
        _as_id(pl.col("candidate")).alias("digits"),
        pl.col("candidate").str.contains(_SEPARATOR).alias("grouped"),
    )
    # A grouped number must be exactly an ID number; a run may hold an 18-digit one at any of its first
    # offsets, but an old 15-digit one only as the whole run (inside longer runs it is noise).
    pieces = [
        candidates.filter(~pl.col("grouped") & (pl.col("digits").str.len_chars() >= 18 + i)).select(
            key,
            "column",
            pl.col("candidate").str.slice(i, 18).alias("found"),
            pl.col("digits").str.slice(i, 18).alias("number"),
            pl.lit(False).alias("whole"),
        )
        for i in range(_RUN_OFFSETS)
    ]
    pieces.append(
        candidates.filter(pl.col("digits").str.len_chars().is_in([15, 18])).select(
            key,
            "column",
            pl.col("candidate").alias("found"),
            pl.col("digits").alias("number"),
            pl.lit(True).alias("whole"),
        )
    )
    every = pl.concat(pieces)
    number = pl.col("number")
    valid18 = (number.str.len_chars() == 18) & idcard_valid(number, today=today, allow_15=False)
    valid15 = pl.col("whole") & (number.str.len_chars() == 15) & _plausible_15(number, today)
    every = every.filter(valid18 | valid15).select(key, "column", "found", "number")
    return every.unique(maintain_order=True)


__all__ = [
    "ID_GROUPED",
    "ID_RUN",
    "idcard_numbers_in_text",
    "idcard_valid",
    "orgcode_valid",
    "regno_valid",
    "uscc_embedded_orgcode",
    "uscc_valid",
]
