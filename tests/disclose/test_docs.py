"""docs/disclosure.md names every setting with its default, and every route of the disclosure chapter."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from xinyong.disclose.cli import search_app
from xinyong.disclose.limits import ENV

DOC = (Path(__file__).parents[2] / "docs" / "disclosure.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_default() -> None:
    for env, default in ENV.values():
        assert f"`{env}` | {default} |" in DOC, f"{env} (default {default}) missing from docs/disclosure.md"


def test_every_route_is_documented() -> None:
    for route in (
        "/api/v1/subjects/{code}",
        "/api/v1/search",
        "/api/v1/records",
        "/api/v1/me/authorisations",
        "/api/v1/me/queries",
        "/publicity/penalties",
        "/notices/{id}",
    ):
        assert route in DOC, route


def test_search_commands(home: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_DEMO", "1")
    from xinyong.store.engine import make_engine, upgrade

    upgrade(make_engine(f"sqlite:///{home / 'xinyong.db'}"))
    runner = CliRunner()
    built = runner.invoke(search_app, ["rebuild"])
    assert built.exit_code == 0 and "slot a" in built.output, built.output
    status = runner.invoke(search_app, ["status"])
    assert status.exit_code == 0 and '"slot": "a"' in status.output
    assert runner.invoke(search_app, ["refresh"]).exit_code == 0
