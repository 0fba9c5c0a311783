"""Imports flow down (ARCHITECTURE, "Layers"): the ground never imports a chapter, and disclosure — which
every later chapter builds on — never imports the rights chapter. Read from the source, so a new module
that breaks the rule fails here before anyone has to notice it in review."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "xinyong"
GROUND = ("codes", "catalog", "policy", "store", "subjects", "security", "deadlines", "events", "documents")
CHAPTERS = ("collect", "disclose", "apply", "rights", "reports", "console", "web", "demo", "cli", "timeouts")
# The one place the ground names the chapters: the metadata every migration and test reads is gathered here.
ALLOWED = {
    ("store/schema.py", "disclose"),
    ("store/schema.py", "rights"),
    ("store/schema.py", "apply"),
    ("store/schema.py", "reports"),
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("xinyong.") and n.count(".") >= 1}
    return found


def breaks(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for package in packages:
        for path in sorted((SRC / package).rglob("*.py")):
            where = path.relative_to(SRC).as_posix()
            for target in sorted(imported_packages(path) & set(forbidden)):
                if (where, target) not in ALLOWED:
                    out.append(f"{where} imports xinyong.{target}")
    return out


def test_the_ground_imports_no_chapter() -> None:
    assert breaks(GROUND, CHAPTERS) == []


def test_disclosure_does_not_import_the_rights_or_application_chapters() -> None:
    # (A chapter's views.py imports web.deps, the one route dependency: that is the documented shape.)
    assert breaks(("disclose",), ("rights", "apply", "reports")) == []


def test_the_rights_chapter_does_not_import_the_application_chapter() -> None:
    # Entries resting on a repaired or revoked record are removed by apply reading the outbox, not by rights
    # calling into apply (docs/apply.md).
    assert breaks(("rights",), ("apply",)) == []
