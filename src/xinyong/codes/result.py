"""The one result shape every identifier check returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from xinyong.problems import Problem

Kind = Literal["uscc", "orgcode", "idcard", "regno", "unknown"]
KINDS: tuple[Kind, ...] = ("uscc", "orgcode", "idcard", "regno")


@dataclass(frozen=True)
class CodeCheck:
    """Outcome of checking one identifier.

    `valid` is true exactly when `errors` is empty; warnings never make a code invalid (an unknown
    division code, for instance, can be a legitimate old or out-of-province code).
    """

    kind: Kind
    normalized: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    parts: dict[str, Any] = field(default_factory=dict)
    # Derived, never passed: keeping it a field puts it in repr/eq while it cannot disagree with errors.
    valid: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "valid", not self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "valid": self.valid,
            "normalized": self.normalized,
            "errors": [_problem_dict(p) for p in self.errors],
            "warnings": [_problem_dict(p) for p in self.warnings],
            "parts": dict(self.parts),
        }


def _problem_dict(p: Problem) -> dict[str, str]:
    # Exactly these keys: the JSON shape is part of the API and `field` belongs to the caller's row.
    return {"code": p.code, "message_zh": p.message_zh, "message_en": p.message_en}
