"""The catalogue's `required_if` conditions as polars expressions, for whole files at once.

Condition.evaluate in the catalogue is the reference (one row at a time); this is its vectorised twin,
and tests check that both agree on every condition the shipped catalogue uses.
"""

from __future__ import annotations

import polars as pl

from xinyong.catalog.models import Condition, FieldType, Item


def condition_expr(condition: Condition, item: Item, column: str = "{code}") -> pl.Expr:
    """`column` says where a field's cleaned text lives, e.g. "clean:{code}"."""
    if condition.any_of:
        return pl.any_horizontal([condition_expr(c, item, column) for c in condition.any_of])
    if condition.all_of:
        return pl.all_horizontal([condition_expr(c, item, column) for c in condition.all_of])
    assert condition.field is not None
    text = pl.col(column.format(code=condition.field)).fill_null("")
    spec = item.get_field(condition.field)
    if condition.present is not None:
        return (text != "") if condition.present else (text == "")
    if condition.equals is not None:
        return text == _clean(condition.equals)
    if condition.in_ is not None:
        return text.is_in([_clean(v) for v in condition.in_])
    needle = _clean(condition.contains or "")
    if spec is not None and spec.type is FieldType.MULTI_ENUM:
        parts = text
        for sep in spec.separators[1:]:
            parts = parts.str.replace_all(sep, spec.separators[0], literal=True)
        return (
            parts.str.split(spec.separators[0])
            .list.eval(pl.element().str.strip_chars())
            .list.contains(needle)
        )
    return text.str.contains(needle, literal=True)


def _clean(value: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", value).strip()
