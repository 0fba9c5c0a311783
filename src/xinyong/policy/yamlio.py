"""Reading operator-edited YAML strictly: a repeated key is an error, not a silent overwrite.

PyYAML keeps the last of two equal keys without a word; in a rules file that hides a typo such as two
`一般:` entries, so both the policy and the calendar override files go through this loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlProblem(Exception):
    """A file that is not readable YAML; carries a bilingual reason and the line (1-based) if known."""

    def __init__(self, message_zh: str, message_en: str, line: int | None = None) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        self.line = line


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, parsed by libyaml where it is installed (every command reads the policy)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise YamlProblem(f"第 {line} 行：键 {key!r} 重复", f"line {line}: duplicate key {key!r}", line)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError for 2027-02-30; say which line instead.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        line = node.start_mark.line + 1
        raise YamlProblem(
            f"第 {line} 行：日期 {node.value} 不存在",
            f"line {line}: {node.value} is not a real date ({exc})",
            line,
        ) from exc


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; raise YamlProblem (never a yaml traceback) when it can't be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise YamlProblem(f"文件不存在：{path}", f"file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise YamlProblem(f"文件不是 UTF-8 编码：{path}", f"file is not UTF-8: {path}") from exc
    except OSError as exc:
        raise YamlProblem(f"无法读取文件 {path}：{exc}", f"cannot read {path}: {exc}") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        where = f"第 {line} 行" if line else ""
        return_en = f"line {line}: " if line else ""
        raise YamlProblem(
            f"YAML 语法错误 {where}：{exc.problem}", f"YAML syntax error, {return_en}{exc.problem}", line
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML 语法错误：{exc}", f"YAML syntax error: {exc}") from exc
