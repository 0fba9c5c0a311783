"""Running the real command line against the test database, at a fixed moment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.config import Settings

Run = Callable[..., Any]


def make_cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    """run(*args, at="2026-09-30T09:00", code=0) -> the parsed JSON answer (or the result when code != 0)."""
    monkeypatch.setenv("XINYONG_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("XINYONG_FIXED_NOW", raising=False)
    runner = CliRunner()

    def run(*args: str, at: str, code: int = 0) -> Any:
        result = runner.invoke(app, [*args, "--now", at])
        assert result.exit_code == code, f"{args}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout) if code == 0 and "--json" in args else result

    return run
