"""Turning validation failures into Problems an operator can act on: code, YAML path, Chinese and English.

Validators raise `Bilingual` so their own words reach the operator in both languages; pydantic's built-in
checks (missing key, unknown key, wrong type, out of range) are translated here by error type.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from xinyong.problems import Problem


class Bilingual(ValueError):
    """A validation message in Chinese and English, raised inside pydantic validators."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def yaml_path(loc: tuple[Any, ...]) -> str:
    """('disclosure', 'penalty_by_class', 'classes', '一般', 'min_months') -> disclosure.penalty_by_class...;
    list indexes are written [i] so the path can be followed in the file; a leading number is a mapping
    key (a calendar year), written bare."""
    out = ""
    for part in loc:
        if isinstance(part, int) and out:
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(文件顶层 / top level)"


def _zh_for(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    table = {
        "missing": "缺少必填项",
        "extra_forbidden": "未知的键（拼写错误？此处不允许该键）",
        "int_type": "必须是整数",
        "int_parsing": "必须是整数",
        "int_from_float": "必须是整数",
        "float_type": "必须是数字",
        "float_parsing": "必须是数字",
        "decimal_parsing": "必须是数字",
        "bool_type": "必须是 true 或 false",
        "bool_parsing": "必须是 true 或 false",
        "string_type": "必须是文本",
        "string_too_short": "不能为空",
        "date_type": "必须是日期（YYYY-MM-DD）",
        "date_parsing": "必须是日期（YYYY-MM-DD）",
        "date_from_datetime_parsing": "必须是日期（YYYY-MM-DD）",
        "dict_type": "必须是键值映射",
        "list_type": "必须是列表",
        "model_type": "必须是键值映射",
        "literal_error": f"取值必须是以下之一：{ctx.get('expected', '')}",
        "greater_than_equal": f"必须大于或等于 {ctx.get('ge', '')}",
        "greater_than": f"必须大于 {ctx.get('gt', '')}",
        "less_than_equal": f"必须小于或等于 {ctx.get('le', '')}",
        "less_than": f"必须小于 {ctx.get('lt', '')}",
    }
    return table.get(kind, "取值无效")


def problems_from_validation(exc: ValidationError, *, code: str, file: Path | str) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path = yaml_path(tuple(error["loc"]))
        original = (error.get("ctx") or {}).get("error")
        if isinstance(original, Bilingual):
            zh, en = original.message_zh, original.message_en
        else:
            zh, en = _zh_for(error), error["msg"]
            if (
                error["type"] != "missing"
                and "input" in error
                and not isinstance(error["input"], dict | list)
            ):
                zh += f"（现值：{error['input']!r}）"
                en += f" (got {error['input']!r})"
        problems.append(Problem(code, f"{file}：{path}：{zh}", f"{file}: {path}: {en}", field=path))
    return problems
