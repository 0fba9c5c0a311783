"""One shape for every problem the platform reports: a stable code plus a Chinese and an English message.

Identifier checks, catalogue loading, row validation and the API all speak this shape, so a clerk sees the
same words for the same mistake wherever it is found.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message_zh: str
    message_en: str
    field: str | None = None

    def as_dict(self) -> dict[str, str]:
        # Not dataclasses.asdict: that deep-copies, and a batch calls this for every rejected row.
        data = {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}
        if self.field is not None:
            data["field"] = self.field
        return data

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def render(self) -> str:
        """Both languages on two lines, as the command line prints a problem."""
        return f"[{self.code}] {self.message_zh}\n  {self.message_en}"


class ProblemError(ValueError):
    """Raised where a problem must stop the work (a refused catalogue, an unknown calendar year...)."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"[{p.code}] {p.message_zh} / {p.message_en}" for p in problems))
