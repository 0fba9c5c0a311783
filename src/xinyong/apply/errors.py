"""Refusals of the application chapter: a bilingual problem with the HTTP status the API answers with."""

from __future__ import annotations

from typing import Any

from xinyong.problems import Problem, ProblemError


class Refused(ProblemError):
    """Nothing changed, and this says why. `status`: 403 not the caller's object, 404 unknown object, 409
    conflicts with its state (decided before the defence deadline, removed twice), 422 invalid input."""

    def __init__(self, *problems: Problem, status: int = 422) -> None:
        super().__init__(*problems)
        self.status = status

    @classmethod
    def one(cls, code: str, zh: str, en: str, *, status: int = 422, field: str | None = None) -> Refused:
        return cls(Problem(code, zh, en, field), status=status)

    def body(self) -> dict[str, Any]:
        first = self.problems[0]
        return {"detail": {**first.as_dict(), "problems": [p.as_dict() for p in self.problems]}}
