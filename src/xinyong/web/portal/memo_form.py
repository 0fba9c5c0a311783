"""The 发起备忘录 form of /memoranda, read into the draft that `apply.proposals.propose` takes — the same
shape the API's `POST /api/v1/memoranda` sends as JSON, so the page and the API are checked by one service.

A clerk fills the memorandum's fields once and one fieldset per measure (`measure-N-…`, N from 0; the page's
script adds fieldsets, and a page without script still sends the first). A measure left wholly blank is
skipped; anything else goes to the service as typed, which says what is wrong — and the page comes back
with what was typed (`Filled`), so that only the mistake needs mending.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_MEASURES = 50  # apply.proposals.Draft.measures
_MEASURE_KEY = re.compile(r"^measure-(\d{1,2})-")
_LIST_SEPARATORS = re.compile(r"[\n\r,，、;；]+")
_MEASURE_TEXTS = ("code", "content_zh", "content_en", "basis", "departments", "source", "note")


class Form(Protocol):
    """What a parsed form offers (starlette's FormData): its last value under a name, and all of them."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


def draft_from_form(form: Form) -> dict[str, Any]:
    """The draft the form describes: a new memorandum (`kind=new`) or measures for an existing one
    (`kind=extend`)."""
    source = _text(form, "source")
    confirmed = _text(form, "confirmed") == "yes"
    note = _text(form, "note") or None
    draft: dict[str, Any] = {"source": source, "confirmed": confirmed}
    if note:
        draft["note"] = note
    if _text(form, "kind") == "extend":
        draft["extends"] = _text(form, "extends")
    else:
        draft |= {
            "code": _text(form, "code"),
            "name_zh": _text(form, "name_zh"),
            "document": _text(form, "document"),
            "targets": _texts(form, "targets"),
        }
    measures = []
    for index in _measure_indexes(form):
        measure = _measure(form, f"measure-{index}-", source=source, confirmed=confirmed, note=note)
        if measure is not None:
            measures.append(measure)
    draft["measures"] = measures
    return {key: value for key, value in draft.items() if value not in ("", None)}


def _measure(
    form: Form, prefix: str, *, source: str, confirmed: bool, note: str | None
) -> dict[str, Any] | None:
    texts = {name: _text(form, prefix + name) for name in _MEASURE_TEXTS}
    if not any(texts.values()):
        return None
    measure: dict[str, Any] = {
        "code": texts["code"],
        "content_zh": texts["content_zh"],
        "content_en": texts["content_en"],
        "basis": texts["basis"],
        "departments": [d.strip() for d in _LIST_SEPARATORS.split(texts["departments"]) if d.strip()],
        "effect": _text(form, prefix + "effect"),
        "mandatory": _text(form, prefix + "mandatory") == "yes",
        "subject_kinds": _texts(form, prefix + "subject_kinds"),
        "matters": _texts(form, prefix + "matters"),
        # A measure cites its own source and note where the clerk gave them, else the memorandum's.
        "source": _text(form, prefix + "source") or source,
        "confirmed": confirmed,
    }
    if texts["note"] or note:
        measure["note"] = texts["note"] or note
    return measure


def _measure_indexes(names: Iterable[Any]) -> list[int]:
    found = {int(m.group(1)) for key in names if isinstance(key, str) and (m := _MEASURE_KEY.match(key))}
    # One more than a draft may hold, so that the service says "too many" rather than measures vanishing.
    return sorted(found)[: MAX_MEASURES + 1]


def _text(form: Form, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _texts(form: Form, key: str) -> list[str]:
    return [v.strip() for v in form.getlist(key) if isinstance(v, str) and v.strip()]


@dataclass(frozen=True)
class Filled:
    """What the clerk typed, for the form shown again beside a refusal; empty for a fresh form, which then
    shows its defaults."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, form: Form) -> Filled:
        names = [k for k in form if isinstance(k, str)]
        return cls({k: [v for v in form.getlist(k) if isinstance(v, str)] for k in names})

    def value(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def checked(self, name: str, value: str, *, default: bool = False) -> bool:
        return value in self.fields.get(name, []) if self.fields else default

    @property
    def measures(self) -> list[int]:
        """The measure fieldsets to show: those sent, or the first."""
        return _measure_indexes(self.fields) or [0]
