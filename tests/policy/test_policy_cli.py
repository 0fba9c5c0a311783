"""`xinyong workdays ...` and `xinyong policy ...` through typer's CliRunner: output and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xinyong.policy.cli import policy_app, workdays_app

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def runner(home: Path) -> CliRunner:
    # XINYONG_CALENDAR unset so only XINYONG_HOME decides; wide terminal so tables don't fold.
    return CliRunner(env={"XINYONG_HOME": str(home), "XINYONG_CALENDAR": None, "COLUMNS": "300"})


def test_add_prints_the_date(runner: CliRunner) -> None:
    result = runner.invoke(workdays_app, ["add", "2026-09-30", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2026-10-10"


def test_add_json(runner: CliRunner) -> None:
    result = runner.invoke(workdays_app, ["add", "2026-09-30", "3", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "start": "2026-09-30",
        "days": 3,
        "result": "2026-10-10",
        "skipped_holidays": [f"2026-10-0{i}" for i in range(1, 8)],
    }


def test_between_json_and_plain(runner: CliRunner) -> None:
    result = runner.invoke(workdays_app, ["between", "2026-09-30", "2026-10-10", "--json"])
    assert json.loads(result.stdout) == {"start": "2026-09-30", "end": "2026-10-10", "working_days": 3}
    result = runner.invoke(workdays_app, ["between", "2026-10-10", "2026-09-30"])
    assert result.exit_code == 0 and result.stdout.strip() == "-3"


def test_unknown_year_exits_2_with_bilingual_message(runner: CliRunner, home: Path) -> None:
    result = runner.invoke(workdays_app, ["add", "2027-03-01", "1"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "calendar.year_unknown" in result.stderr
    assert (
        "工作日历没有 2027 年" in result.stderr and "no statutory holiday schedule for 2027" in result.stderr
    )
    assert str(home.resolve() / "calendar" / "2027.yaml") in result.stderr


def test_override_in_xinyong_home_is_honoured(runner: CliRunner, home: Path) -> None:
    shutil.copytree(FIXTURES / "calendar", home / "calendar")
    result = runner.invoke(workdays_app, ["add", "2027-09-30", "3", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"] == "2027-10-11"
    years = runner.invoke(workdays_app, ["years"])
    assert years.exit_code == 0 and "2027" in years.stdout and "2027.yaml" in years.stdout


def test_calendar_option(runner: CliRunner) -> None:
    args = ["between", "2027-09-30", "2027-10-11", "--calendar", str(FIXTURES / "calendar")]
    result = runner.invoke(workdays_app, args)
    assert result.exit_code == 0 and result.stdout.strip() == "3"


def test_bad_date_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(workdays_app, ["add", "30/09/2026", "3"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr and "日期格式不对" in result.stderr


def test_calendar_check(runner: CliRunner) -> None:
    ok = runner.invoke(workdays_app, ["check", str(FIXTURES / "calendar" / "2027.yaml")])
    assert ok.exit_code == 0 and ok.stdout.startswith("OK 2027")
    bad = runner.invoke(workdays_app, ["check", str(FIXTURES / "bad" / "reversed_range.yaml")])
    assert bad.exit_code == 2 and "calendar.invalid" in bad.stderr and "2027.holidays[0]" in bad.stderr


def test_policy_show(runner: CliRunner) -> None:
    result = runner.invoke(policy_app, ["show"])
    assert result.exit_code == 0, result.output
    for text in (
        "disclosure.adverse_default_5y",
        "timeliness.publish_within",
        "7 working_days",
        "[U]",
        "[C]",
    ):
        assert text in result.stdout
    rows = json.loads(runner.invoke(policy_app, ["show", "--json"]).stdout)
    by_rule = {row["rule"]: row for row in rows}
    assert by_rule["self_query.free_reports_per_year"]["value"] == "2 reports_per_year"
    assert by_rule["self_query.free_reports_per_year"]["confirmed"] is False


def test_policy_show_honours_xinyong_policy(runner: CliRunner, write_policy) -> None:
    def edit(data):
        data["timeliness"]["publish_within"]["value"] = 9

    path = write_policy(edit)
    result = runner.invoke(policy_app, ["show", "--json"], env={"XINYONG_POLICY": str(path)})
    by_rule = {row["rule"]: row for row in json.loads(result.stdout)}
    assert by_rule["timeliness.publish_within"]["value"] == "9 working_days"


def test_policy_check(runner: CliRunner, write_policy) -> None:
    good = runner.invoke(policy_app, ["check", str(write_policy())])
    assert good.exit_code == 0 and "OK" in good.stdout

    def edit(data):
        data["lists"]["public_comment_min"]["value"] = -30

    bad = runner.invoke(policy_app, ["check", str(write_policy(edit, name="bad.yaml"))])
    assert bad.exit_code == 2
    assert "policy.invalid" in bad.stderr and "lists.public_comment_min.value" in bad.stderr
    assert "必须大于或等于 1" in bad.stderr
    missing = runner.invoke(policy_app, ["check", "/nonexistent/policy.yaml"])
    assert missing.exit_code == 2 and "文件不存在" in missing.stderr
