"""Helpers to find an item or a field in catalogue data (plain dicts) that a test is about to break."""

from __future__ import annotations

from typing import Any

Raw = dict[str, Any]


def item_of(data: Raw, code: str) -> Raw:
    return next(i for i in data["items"] if i["code"] == code)


def field_of(item: Raw, code: str) -> Raw:
    return next(f for f in item["fields"] if f["code"] == code)
