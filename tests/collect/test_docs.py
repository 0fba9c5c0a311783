"""docs/collect.md names every problem and warning code a clerk can meet (a test fails when one is not)."""

from __future__ import annotations

from pathlib import Path

from xinyong.collect import messages

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "collect.md").read_text(encoding="utf-8")
SOURCES = "\n".join(
    p.read_text(encoding="utf-8")
    for p in (ROOT / "src" / "xinyong" / "collect").glob("*.py")
    if p.name != "messages.py"
)


def test_every_row_problem_and_warning_code_is_documented() -> None:
    emitted = [code for code in messages._TEMPLATES if f'"{code}"' in SOURCES]
    assert "row.id_number_in_field" in emitted and "row.amount_implausible" in emitted
    missing = [code for code in emitted if f"`{code}`" not in DOC]
    assert missing == []
