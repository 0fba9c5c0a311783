"""docs/security.md names every setting, role and command it should (a test fails when one is missing)."""

from __future__ import annotations

from pathlib import Path

from typer.main import get_command

from xinyong.security.cli import audit_app, org_app, token_app, user_app
from xinyong.security.roles import load_roles
from xinyong.security.settings import ENV

DOC = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_default() -> None:
    for env, default in ENV.values():
        assert f"`{env}` | {default} |" in DOC, f"{env} (default {default}) missing from docs/security.md"


def test_every_role_is_documented() -> None:
    for role in load_roles().roles:
        assert f"| `{role}` |" in DOC, f"role {role} missing from docs/security.md"


def test_every_command_is_documented() -> None:
    for name, typer_app in (("org", org_app), ("user", user_app), ("token", token_app), ("audit", audit_app)):
        for command in get_command(typer_app).commands:  # type: ignore[attr-defined]
            assert f"xinyong {name} {command}" in DOC or f"| {command}" in DOC, f"xinyong {name} {command}"
