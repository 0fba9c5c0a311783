"""Masking of personal data for anyone not entitled to see more (e.g. 4201**********1234, 张*)."""

from __future__ import annotations


def mask_id_number(value: str | None, *, keep_head: int = 4, keep_tail: int = 4) -> str | None:
    if not value:
        return value
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]


def mask_person_name(value: str | None) -> str | None:
    """Keep the family name only. Compound surnames are rare enough that one character is the norm."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)
