"""Shared helpers for the policy tests: the packaged policy as editable data, and isolated calendars."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from xinyong.policy import WorkdayCalendar, packaged_policy_path

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def policy_data() -> dict[str, Any]:
    return yaml.safe_load(packaged_policy_path().read_text(encoding="utf-8"))


@pytest.fixture
def write_policy(tmp_path: Path, policy_data: dict[str, Any]):
    """Write a copy of the packaged policy, changed by `edit(data)`, and return its path."""

    def _write(edit=None, name: str = "policy.yaml") -> Path:
        data = copy.deepcopy(policy_data)
        if edit is not None:
            edit(data)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return _write


@pytest.fixture(scope="session")
def library_calendar(tmp_path_factory: pytest.TempPathFactory) -> WorkdayCalendar:
    """chinesecalendar only: XINYONG_HOME points at an empty directory, no XINYONG_CALENDAR."""
    home = tmp_path_factory.mktemp("empty-home")
    return WorkdayCalendar(environ={"XINYONG_HOME": str(home)})
