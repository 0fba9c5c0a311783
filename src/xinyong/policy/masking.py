"""Masking personal identifiers for public display, by the rules in the policy's `masking` section.

The rule (how much to keep) is policy; this function only applies it, so every channel masks alike.
"""

from __future__ import annotations

import polars as pl

from xinyong.policy.models import MaskRule


def mask(value: str, rule: MaskRule) -> str:
    """Keep `rule.keep_first` and `rule.keep_last` characters and hide the rest.

    At least one character is always hidden: a value too short for the rule gives up its kept tail first,
    then its kept head (a one-character name becomes "*"). Empty stays empty.
    """
    if not value:
        return value
    first, last = rule.keep_first, rule.keep_last
    while first + last >= len(value) and (first or last):
        if last:
            last -= 1
        else:
            first -= 1
    hidden = len(value) - first - last
    stars = rule.mask_char * (rule.mask_length or hidden)
    return value[:first] + stars + (value[len(value) - last :] if last else "")


def mask_expr(value: pl.Expr, rule: MaskRule) -> pl.Expr:
    """`mask` as a polars expression, for whole columns at once (same result for every string)."""
    n = value.str.len_chars().cast(pl.Int64)  # signed: the arithmetic below goes below zero
    first, last = pl.lit(rule.keep_first), pl.lit(rule.keep_last)
    # The loop in `mask`, in closed form: give up the kept tail first, then the kept head, until at least
    # one character is hidden.
    excess = pl.max_horizontal(pl.lit(0), first + last - (n - 1))
    keep_last = pl.max_horizontal(pl.lit(0), last - excess)
    keep_first = pl.min_horizontal(first, pl.max_horizontal(pl.lit(0), n - 1 - keep_last))
    hidden = n - keep_first - keep_last
    stars = pl.lit("").str.pad_end(pl.lit(rule.mask_length) if rule.mask_length else hidden, rule.mask_char)
    masked = pl.concat_str(value.str.slice(0, keep_first), stars, value.str.slice(n - keep_last, keep_last))
    return pl.when(n > 0).then(masked).otherwise(value)
