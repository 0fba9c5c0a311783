"""What a new user reads works in a fresh clone: no link leaves the repository or points at a missing file,
no command needs something that is not on the PATH, and the project's own docs carry its rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Files users read besides the pages: the data files (their `source` texts are shown) and the code's comments.
READ_BY_USERS = [
    p
    for p in sorted((ROOT / "src").rglob("*"))
    if p.suffix in {".py", ".yaml", ".html", ".md"} and "static" not in p.parts
]
# Documents of the project's private workspace that a clone does not have.
OUTSIDE = re.compile(r"\.\./shared|shared/spec|spec/DOMAIN\.md|\bDOMAIN\.md|ARCHITECTURE\.md|seed/000")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A file named in backticks: `docs/collect.md`, `src/xinyong/policy/data/policy.yaml`, `bench/ingest.py`.
NAMED_FILE = re.compile(r"`((?:src|docs|tests|bench|scripts)/[\w./-]+\.(?:py|md|yaml|yml|sh|html|css|toml))`")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_pages_exist() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "architecture.md", "domain.md"} <= names


@pytest.mark.parametrize("path", PAGES + READ_BY_USERS, ids=_rel)
def test_nothing_points_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not found, f"{_rel(path)} refers to documents a clone does not have: {found}"


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_every_link_and_named_file_exists(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            anchor_page, anchor = page, target[1:]
        else:
            file_part, _, anchor = target.partition("#")
            anchor_page = (page.parent / file_part).resolve()
            if not anchor_page.exists() or ROOT not in anchor_page.parents:
                broken.append(target)
                continue
        if anchor and anchor_page.suffix == ".md" and anchor not in _anchors(anchor_page):
            broken.append(target)
    for named in NAMED_FILE.findall(text):
        if not (ROOT / named).exists():
            broken.append(named)
    assert not broken, f"{_rel(page)} links to files or headings that do not exist: {broken}"


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", h.strip().lower())) for h in headings}


def test_the_readme_starts_with_the_two_commands() -> None:
    first_block = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["./dev demo", "./dev test"]


def test_every_readme_command_runs_from_a_fresh_checkout() -> None:
    """`./dev` installs the command line into .venv, not onto the PATH: a bare `xinyong` is not found."""
    blocks = (ROOT / "README.md").read_text(encoding="utf-8").split("```")[1::2]
    lines = [line.strip() for block in blocks for line in block.splitlines()[1:] if line.strip()]
    bare = [line for line in lines if not line.startswith(("./dev ", ".venv/bin/"))]
    assert lines and not bare, f"README commands that need something not on the PATH: {bare}"


def test_dev_offers_the_command_line() -> None:
    usage = subprocess.run(["bash", str(ROOT / "dev")], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2  # no argument: usage only, nothing set up
    assert "./dev xinyong ARGS" in usage.stdout
    script = (ROOT / "dev").read_text(encoding="utf-8")
    assert 'exec .venv/bin/xinyong "$@"' in script.split("xinyong)", 1)[1].split(";;", 1)[0]


def test_the_domain_page_carries_the_rules_the_data_files_quote() -> None:
    """Every `docs/domain.md §N` a data file or comment quotes is a section of docs/domain.md."""
    sections = set(
        re.findall(r"^##+ (\d+(?:\.\d+)?)\.? ", (ROOT / "docs" / "domain.md").read_text("utf-8"), re.M)
    )
    quoted = {
        (p, n)
        for p in READ_BY_USERS
        for n in re.findall(r"docs/domain\.md §(\d+(?:\.\d+)?)", p.read_text(encoding="utf-8"))
    }
    assert quoted, "the data files quote docs/domain.md"
    missing = sorted({f"{_rel(p)}: §{n}" for p, n in quoted if n not in sections})
    assert not missing, f"sections quoted but absent from docs/domain.md: {missing}"
