"""The command-line helpers every chapter shares: a refusal prints both languages and exits with its code;
a bad date option is a usage problem (exit 2); JSON keeps Chinese readable."""

from __future__ import annotations

import datetime as dt

import pytest
import typer

from xinyong.cliutil import echo_json, fail, parse_date
from xinyong.problems import Problem, ProblemError


def test_a_refusal_prints_both_languages_and_exits_with_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as ended:
        fail(ProblemError(Problem("x.bad", "不行", "not allowed")), 1)
    assert ended.value.exit_code == 1
    printed = capsys.readouterr().err
    assert "[x.bad] 不行" in printed and "not allowed" in printed


def test_a_date_option_is_read_or_refused_as_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_date("2026-10-08") == dt.date(2026, 10, 8)
    assert parse_date(None) is None and parse_date("") is None
    with pytest.raises(typer.Exit) as ended:
        parse_date("8/10/2026", "as_of")
    assert ended.value.exit_code == 2
    assert "[cli.date] 日期应为 YYYY-MM-DD：8/10/2026" in capsys.readouterr().err


def test_json_keeps_chinese_and_writes_dates_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    echo_json({"名称": "武汉", "on": dt.date(2026, 10, 8)})
    assert capsys.readouterr().out == '{\n  "名称": "武汉",\n  "on": "2026-10-08"\n}\n'
