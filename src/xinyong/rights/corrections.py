"""Corrected values for a record, checked exactly as collection checks a provider's row.

An objection decided "corrected" writes the provider's corrected values as the record's next version. The
values go through the collection pipeline's own normalisation and validation (collect.prepare), so a
correction can never store what an upload would have refused. What identifies the record — its source
key, its source department, its subject — cannot be corrected this way: a record about the wrong subject
is moved by the platform with the registry's evidence, and a new key is a new record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from xinyong.catalog.models import Identifier, Item
from xinyong.collect import load, prepare
from xinyong.collect.prepare import ROW, Context, norm, raw
from xinyong.collect.service import NameSeal
from xinyong.policy.loader import load_policy
from xinyong.problems import Problem
from xinyong.rights.errors import Refused
from xinyong.store.meta import SEALED_PREFIX, PersonName


@dataclass(frozen=True)
class Correction:
    data: dict[str, Any]
    original: dict[str, Any] | None
    content_hash: str
    dates: dict[str, dt.date | None]
    changed: tuple[str, ...]  # field codes whose value changed


def locked_fields(item: Item) -> set[str]:
    """Fields a correction may not touch: the record's identity and its subject's identifiers."""
    locked = set(item.source_key)
    if item.data_source is not None:
        locked |= set(item.data_source.roles().values())
    locked |= {code for role, code in item.subject_fields.roles().items() if role != "name"}
    locked |= {f.code for f in item.fields if f.sensitive and f.identifier in _PERSONAL}
    return locked


_PERSONAL = (Identifier.IDCARD, Identifier.ID_DOCUMENT)


def correct(
    item: Item, record: Any, values: Mapping[str, str | None], *, today: dt.date, seal: NameSeal
) -> Correction:
    """The record's data with `values` (field code or Chinese name → new text; empty clears) applied and
    validated, a person's names sealed as collection seals them; Refused with every problem found (all of
    them, in one answer), naming the fields."""
    changes, problems = _resolve_fields(item, values)
    current: dict[str, Any] = dict(record.data or {})
    cells = {f.code: _text(current.get(f.code)) for f in item.fields}
    cells.update(changes)
    frame = pl.DataFrame(
        {ROW: [1], **{raw(code): [cells.get(code)] for code in (f.code for f in item.fields)}},
        schema={ROW: pl.Int64, **{raw(f.code): pl.String for f in item.fields}},
    )
    policy = load_policy()
    ctx = Context(
        item=item,
        today=today,
        source_field=item.data_source.uscc if item.data_source else None,
        default_source=record.source_uscc,
        collection=policy.collection,
        id_mask=policy.masking.id_number,
    )
    checked = prepare.prepare(frame, ctx)
    row = checked.row(0, named=True)
    # Only what the correction touched is judged: untouched fields passed collection already (and a personal
    # ID number is stored masked, which no identifier check would pass again).
    touched = set(changes) | _cross_fields(item, set(changes))
    problems += [p for p in prepare.explain(row, ctx) if p.field in touched]
    if problems:
        raise Refused(*problems)
    data = {f.code: row[norm(f.code)] for f in item.fields}
    changed = tuple(code for code in changes if data.get(code) != current.get(code))
    if not changed:
        raise Refused.one(
            "objection.nothing_corrected",
            "更正后的值与原记录相同，没有可更正的内容",
            "the corrected values equal the record's: nothing to correct",
            field="set",
        )
    original = {k: v for k, v in (record.original or {}).items() if k not in changes}
    original |= {c: changes[c] for c in changed if changes[c] is not None and changes[c] != data.get(c)}
    # The same JSON text and fingerprint collection writes, so a later upload of these values is "unchanged".
    encoded = seal.records(checked, item).select(
        pl.struct([pl.col(norm(f.code)).alias(f.code) for f in item.fields]).struct.json_encode().alias("d")
    )
    digest = encoded.select(load.content_hash(pl.col("d")))["d"][0]
    data = json.loads(encoded["d"][0])
    # The text as typed of a field whose value is sealed is a person's name as well (stored sealed).
    sealed = {c for c, v in data.items() if isinstance(v, str) and v.startswith(SEALED_PREFIX)}
    original = {c: PersonName(v) if c in sealed and isinstance(v, str) else v for c, v in original.items()}
    return Correction(
        data=data,
        original=original or None,
        content_hash=str(digest),
        dates=_dates(item, data),
        changed=changed,
    )


def _resolve_fields(
    item: Item, values: Mapping[str, str | None]
) -> tuple[dict[str, str | None], list[Problem]]:
    changes: dict[str, str | None] = {}
    problems = []
    locked = locked_fields(item)
    for name, value in values.items():
        spec = next((f for f in item.fields if f.code == name), None) or item.match_header(name)
        if spec is None:
            problems.append(
                Problem(
                    "objection.unknown_field",
                    f"目录事项 {item.code} 没有字段“{name}”",
                    f"item {item.code} has no field {name!r}",
                    field=name,
                )
            )
        elif spec.code in locked:
            problems.append(
                Problem(
                    "objection.field_locked",
                    f"“{spec.name_zh}”标识记录或信用主体，不能通过更正修改"
                    "（主体错误由平台核实后移交，文书号不同则是另一条记录）",
                    f"'{spec.name_en}' identifies the record or its subject and cannot be corrected "
                    "(a wrong subject is moved by the platform; another key is another record)",
                    field=spec.code,
                )
            )
        else:
            changes[spec.code] = value if value not in ("",) else None
    return changes, problems


def _cross_fields(item: Item, changed: set[str]) -> set[str]:
    """A changed date is judged with the date it is compared with (valid_until against the decision)."""
    dates = item.date_fields
    pair = {dates.decision, dates.valid_until} - {None}
    return {c for c in pair if c} if changed & pair else set()


def _dates(item: Item, data: Mapping[str, Any]) -> dict[str, dt.date | None]:
    fields = item.date_fields
    out: dict[str, dt.date | None] = {}
    for column, code in (
        ("decision_date", fields.decision),
        ("valid_until", fields.valid_until),
        ("act_end_date", fields.act_end),
    ):
        value = data.get(code) if code else None
        out[column] = dt.date.fromisoformat(value) if value else None
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)
