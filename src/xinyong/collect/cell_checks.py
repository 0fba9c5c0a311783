"""Row problems the reader finds in a cell, before any catalogue rule looks at it.

Three things make a cell unusable whatever field it is in, and each rejects its row (not the file), with a
code of its own and a message that says what happened, never what the cell holds:

- `row.invalid_character`: a NUL character (or a broken Unicode character, which the JSON reader turns into
  NUL). No database stores NUL in text — PostgreSQL refuses it outright — so the cell is kept with U+FFFD
  in its place for the feedback file, and the row is rejected.
- `row.cell_too_long`: longer than the policy's cell limit (Excel's own, 32,767 characters). A CSV record
  and an xlsx part were bounded in bytes before reading; this is the per-cell rule. The kept copy is cut
  at the limit.
- `row.number_lost_digits`: Excel stored the cell as a number of 16 digits or more (an 18-digit ID number
  in a cell formatted as a number), so its last digits were already zeros when the file was saved. Saying
  so tells the clerk how to fix it; the check-digit error that would follow says nothing useful.

All of it is vectorised: a million clean rows cost a few column scans.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from xinyong.catalog.models import Item
from xinyong.collect.messages import row_problem
from xinyong.collect.readers import LOST_DIGITS
from xinyong.problems import Problem

INVALID_CHARACTER = "row.invalid_character"
CELL_TOO_LONG = "row.cell_too_long"
NUMBER_LOST_DIGITS = "row.number_lost_digits"
_REPLACEMENT = "\ufffd"


def reader_column(code: str) -> str:
    """The column holding the reader's problem code for a field's cell (null when the cell is fine)."""
    return f"reader:{code}"


def check_cells(
    chunk: pl.DataFrame, item: Item, header_for: Mapping[str, str], *, max_chars: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the chunk made storable, a `reader:<field>` column with the problem code for each field that has
    a problem somewhere in the chunk). A clean chunk — nearly every one — is returned as it is, after one
    cheap scan per column: no copy, no extra columns."""
    lost = pl.col(LOST_DIGITS) if LOST_DIGITS in chunk.columns else None
    fields = [(spec.code, header) for spec in item.fields if (header := header_for.get(spec.code))]
    suspects = (
        chunk.select(
            [
                (
                    pl.col(h).str.contains("\x00", literal=True).any()
                    | (pl.col(h).str.len_bytes() > max_chars).any()  # bytes ≥ characters: a cheap first look
                    | (lost.list.contains(pl.lit(h)).any() if lost is not None else pl.lit(False))
                ).alias(code)
                for code, h in fields
            ]
        ).row(0, named=True)
        if fields and chunk.height
        else {}
    )
    problems, cleaned = [], []
    for code, header in fields:
        if not suspects.get(code):
            continue
        cell = pl.col(header)
        problem = pl.when(cell.str.contains("\x00", literal=True)).then(pl.lit(INVALID_CHARACTER))
        problem = problem.when(cell.str.len_chars() > max_chars).then(pl.lit(CELL_TOO_LONG))
        if lost is not None:
            flagged = lost.list.contains(pl.lit(header)).fill_null(False)
            problem = problem.when(flagged).then(pl.lit(NUMBER_LOST_DIGITS))
        problems.append(problem.otherwise(None).alias(reader_column(code)))
        storable = cell.str.replace_all("\x00", _REPLACEMENT, literal=True)
        cleaned.append(
            pl.when(storable.str.len_chars() > max_chars)
            .then(storable.str.slice(0, max_chars) + "…")
            .otherwise(storable)
            .alias(header)
        )
    if not problems:
        return chunk, pl.DataFrame(height=chunk.height)
    return chunk.with_columns(cleaned), chunk.select(problems)


def any_problem(columns: list[str]) -> pl.Expr:
    """True for a row with any of the reader's problems (`columns`: the problem columns of its chunk)."""
    return pl.any_horizontal([pl.col(c).is_not_null() for c in columns]) if columns else pl.lit(False)


def explain(row: Mapping[str, Any], item: Item, *, max_chars: int) -> list[Problem]:
    """Words for the reader's problems of one rejected row (a field without one has no column set)."""
    out = []
    for spec in item.fields:
        code = row.get(reader_column(spec.code))
        if code is not None:
            out.append(row_problem(str(code), spec, max=max_chars))
    return out
