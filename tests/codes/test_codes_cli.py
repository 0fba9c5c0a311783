"""`xinyong code check`: exit status and output."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xinyong.codes.cli import app

runner = CliRunner()


def test_valid_code_exits_0_with_a_chinese_summary():
    result = runner.invoke(app, ["check", "91350100M000100Y43"])
    assert result.exit_code == 0
    assert "有效" in result.output and "统一社会信用代码" in result.output
    assert "工商" in result.output


def test_invalid_code_exits_1_and_names_the_error():
    result = runner.invoke(app, ["check", "91350100M000100Y42"])
    assert result.exit_code == 1
    assert "[code.check_char]" in result.output
    assert "校验位应为'3'，实际为'2'" in result.output


def test_json_output_has_the_documented_keys():
    result = runner.invoke(app, ["check", "11010519491231002X", "--json", "--today", "2025-06-01"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert list(data) == ["kind", "valid", "normalized", "errors", "warnings", "parts"]
    assert data["kind"] == "idcard" and data["valid"] is True
    assert data["parts"]["birth_date"] == "1949-12-31"


def test_json_output_keeps_chinese_readable():
    result = runner.invoke(app, ["check", "91350100M000100Y42", "--json"])
    assert result.exit_code == 1
    assert "校验位应为" in result.output  # ensure_ascii=False
    data = json.loads(result.output)
    assert data["errors"][0] == {
        "code": "code.check_char",
        "message_zh": data["errors"][0]["message_zh"],
        "message_en": data["errors"][0]["message_en"],
    }


def test_kind_option_forces_the_reading():
    result = runner.invoke(
        app, ["check", "110105491231002", "--kind", "idcard", "--json", "--today", "2025-06-01"]
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["kind"] == "idcard"


def test_usage_errors_exit_2():
    assert runner.invoke(app, ["check", "x", "--kind", "passport"]).exit_code == 2
    assert runner.invoke(app, ["check", "x", "--today", "yesterday"]).exit_code == 2
