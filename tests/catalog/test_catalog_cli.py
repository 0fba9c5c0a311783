"""The catalogue command line: exit 0 with a summary, exit 1 with every problem in Chinese and English."""

from __future__ import annotations

from importlib import resources

import pytest
from catalog_testdata import item_of
from typer.testing import CliRunner

from xinyong.catalog.cli import app

runner = CliRunner()


@pytest.fixture
def shipped_path(tmp_path):
    path = tmp_path / "hubei.yaml"
    path.write_bytes(resources.files("xinyong.catalog").joinpath("data", "hubei-demo.yaml").read_bytes())
    return path


def test_check_accepts_the_shipped_catalogue(shipped_path):
    result = runner.invoke(app, ["check", str(shipped_path)])
    assert result.exit_code == 0, result.output
    assert "目录通过检查" in result.output
    assert "湖北省公共信用信息目录（示范版）2026" in result.output
    assert "XZCF" in result.output and "行政处罚" in result.output
    assert "9 个事项" in result.output


def test_check_refuses_with_each_problem_in_both_languages(raw, write):
    item_of(raw, "XZCF")["fields"].append(
        {"code": "xx", "name_zh": "血型", "name_en": "Blood", "type": "string"}
    )
    item_of(raw, "QJSK")["source_key"] = ["nope"]
    result = runner.invoke(app, ["check", str(write(raw))])
    assert result.exit_code == 1
    assert "目录被拒绝" in result.output
    assert "[catalog.forbidden_field]" in result.output and "血型" in result.output
    assert "must never be collected" in result.output
    assert "[catalog.bad_reference]" in result.output and "unknown field nope" in result.output


def test_check_missing_file_exits_1(tmp_path):
    result = runner.invoke(app, ["check", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "catalog.not_found" in result.output


def test_show_lists_items():
    result = runner.invoke(app, ["show"])
    assert result.exit_code == 0, result.output
    for code in ("XZXK", "XZCF", "QYJC", "SXBZX", "QJSK", "JYYC", "BZJL"):
        assert code in result.output


def test_show_one_item_lists_its_fields():
    result = runner.invoke(app, ["show", "XZCF"])
    assert result.exit_code == 0, result.output
    assert "cf_wsh" in result.output and "行政处罚决定书文号" in result.output
    assert "cf_cflb 含 罚款" in result.output
    assert "penalty_by_class" in result.output


def test_show_from_a_file(shipped_path):
    result = runner.invoke(app, ["show", "BZJL", "--file", str(shipped_path)])
    assert result.exit_code == 0, result.output
    assert "表彰名称" in result.output


def test_show_unknown_item_exits_1():
    result = runner.invoke(app, ["show", "NOPE"])
    assert result.exit_code == 1
    assert "catalog.unknown_item" in result.output and "XZCF" in result.output
