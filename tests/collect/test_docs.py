"""Every problem code collection can raise is explained in docs/collect.md (as Datasette's docs test does
for its settings): a clerk who meets a code must find what it means and how to fix it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "src" / "xinyong" / "collect").glob("*.py"))
DOCS = ROOT / "docs" / "collect.md"


def test_every_problem_code_is_documented() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES)
    codes = set(re.findall(r'"((?:file|row|batch)\.[a-z_]+)"', text))
    codes -= set(re.findall(r'action="([^"]+)"', text))  # audit actions share the batch. prefix
    documented = set(re.findall(r"`((?:file|row|batch)\.[a-z_]+)`", DOCS.read_text(encoding="utf-8")))
    assert codes and not sorted(codes - documented)


def test_every_row_warning_code_is_documented() -> None:
    from xinyong.collect import messages

    text = "\n".join(path.read_text(encoding="utf-8") for path in SOURCES if path.name != "messages.py")
    emitted = [code for code in messages._TEMPLATES if f'"{code}"' in text]
    assert "row.id_number_in_field" in emitted and "row.amount_implausible" in emitted
    doc = DOCS.read_text(encoding="utf-8")
    assert [code for code in emitted if f"`{code}`" not in doc] == []
