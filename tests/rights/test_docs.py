"""docs/rights.md names every command of the chapter, every setting with its default, and every deadline."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from xinyong.cli import app
from xinyong.events import EVENT_TYPES
from xinyong.rights.attachments import DEFAULT_MAX_MB, MAX_ENV
from xinyong.web.schedule import DEFAULT_INTERVAL_S, INTERVAL_ENV

DOC = (Path(__file__).parents[2] / "docs" / "rights.md").read_text(encoding="utf-8")


def test_every_command_is_documented() -> None:
    groups = get_command(app).commands  # type: ignore[attr-defined]
    for group in ("objection", "repair", "record", "deadlines"):
        for command in groups[group].commands:
            assert f"xinyong {group} {command}" in DOC, f"xinyong {group} {command} missing"


def test_every_setting_is_documented_with_its_default() -> None:
    for env, default in ((INTERVAL_ENV, f"{DEFAULT_INTERVAL_S:g}"), (MAX_ENV, str(DEFAULT_MAX_MB))):
        assert f"`{env}` | {default} |" in DOC, env


def test_every_event_type_and_route_is_documented() -> None:
    for name in EVENT_TYPES:
        assert f"`{name}`" in DOC, name
    assert "POST /api/v1/records/revocations" in DOC


def test_every_casework_route_and_smtp_setting_is_documented() -> None:
    from xinyong.rights import casework_views

    for route in casework_views.router.routes:
        path = re.sub(r"\{\w+_id\}", "{id}", route.path)  # type: ignore[attr-defined]
        assert f"`{next(iter(route.methods))} {path}" in DOC or f"{path}`" in DOC, path  # type: ignore[attr-defined]
    for name in ("HOST", "PORT", "FROM", "USER", "PASSWORD", "STARTTLS", "TIMEOUT_S"):
        assert f"XINYONG_SMTP_{name}" in DOC, name
