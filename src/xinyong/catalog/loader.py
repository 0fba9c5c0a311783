"""Load a catalogue edition: read the bytes, hash them, validate, and turn every failure into Problems.

The store keeps catalogue versions by ``Catalog.sha256`` (of the exact file bytes), so a record can always
say which edition it was collected under.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xinyong.catalog.models import CatalogFile, Item, UnknownCodeError
from xinyong.problems import Problem, ProblemError

DEFAULT_CATALOG = "hubei-demo.yaml"
# libyaml's loader is ~10x faster; it parses the same safe subset. Fall back where PyYAML lacks it.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Catalog:
    """A validated catalogue edition, with the hash of the file it came from."""

    __slots__ = ("_by_code", "file", "origin", "sha256")

    def __init__(self, file: CatalogFile, *, sha256: str, origin: str) -> None:
        self.file = file
        self.sha256 = sha256
        self.origin = origin  # a path, or "<packaged>"/"<bytes>": for messages, not identity
        self._by_code = {item.code: item for item in file.items}

    @property
    def edition(self) -> str:
        return self.file.edition

    @property
    def source(self) -> str:
        return self.file.source

    @property
    def items(self) -> tuple[Item, ...]:
        return self.file.items

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def item(self, code: str) -> Item:
        """The item with this code; a ProblemError listing the known codes otherwise."""
        found = self._by_code.get(code) or self._by_code.get(code.strip().upper())
        if found is None:
            known = ", ".join(self._by_code)
            raise UnknownCodeError(
                Problem(
                    "catalog.unknown_item",
                    f"目录《{self.edition}》中没有事项 {code}；已有事项：{known}",
                    f"The catalogue '{self.edition}' has no item {code}; known items: {known}",
                    field=code,
                )
            )
        return found

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Item]:
        return iter(self.file.items)

    def __len__(self) -> int:
        return len(self.file.items)

    def __repr__(self) -> str:
        return f"Catalog({self.edition!r}, items={list(self._by_code)}, sha256={self.sha256[:12]}…)"


def load_catalog(path: str | Path | None = None, *, known_periods: Collection[str] | None = None) -> Catalog:
    """Load and validate a catalogue file (default: the packaged Hubei demo edition, cached).

    ``known_periods``: the disclosure-period rule names the policy defines; when given, an item naming
    another rule is refused. Raises ProblemError with every problem found.
    """
    if path is None:
        catalog = _packaged()
        if known_periods is not None:
            _check_periods(catalog, known_periods)
        return catalog
    source = Path(path)
    try:
        data = source.read_bytes()
    except FileNotFoundError as exc:
        raise ProblemError(
            Problem(
                "catalog.not_found",
                f"找不到目录文件 {source}",
                f"Catalogue file {source} not found",
            )
        ) from exc
    except OSError as exc:
        raise ProblemError(
            Problem(
                "catalog.not_found",
                f"无法读取目录文件 {source}：{exc.strerror}",
                f"Cannot read catalogue file {source}: {exc.strerror}",
            )
        ) from exc
    return parse_catalog(data, origin=str(source), known_periods=known_periods)


@lru_cache(maxsize=1)
def _packaged() -> Catalog:
    data = resources.files("xinyong.catalog").joinpath("data", DEFAULT_CATALOG).read_bytes()
    return parse_catalog(data, origin=f"<packaged>/{DEFAULT_CATALOG}")


def parse_catalog(
    data: bytes, *, origin: str = "<bytes>", known_periods: Collection[str] | None = None
) -> Catalog:
    """Validate catalogue bytes (an upload of a new edition through the console, say)."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        raw = yaml.load(data.decode("utf-8-sig"), Loader=_SafeLoader)  # a safe loader (C or Python)
    except UnicodeDecodeError as exc:
        raise ProblemError(
            Problem(
                "catalog.invalid",
                f"目录文件 {origin} 不是 UTF-8 编码",
                f"Catalogue file {origin} is not UTF-8 encoded",
            )
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        where_en = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ProblemError(
            Problem(
                "catalog.invalid",
                f"目录文件 {origin} 不是有效的 YAML（{where}：{reason}）",
                f"Catalogue file {origin} is not valid YAML{where_en}: {reason}",
            )
        ) from exc
    if not isinstance(raw, dict):
        raise ProblemError(
            Problem(
                "catalog.invalid",
                f"目录文件 {origin} 的顶层必须是映射（edition、source、items）",
                f"Catalogue file {origin} must be a mapping at the top level (edition, source, items)",
            )
        )
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise ProblemError(*problems_from_validation(exc, raw)) from None
    catalog = Catalog(parsed, sha256=digest, origin=origin)
    if known_periods is not None:
        _check_periods(catalog, known_periods)
    return catalog


def _check_periods(catalog: Catalog, known: Collection[str]) -> None:
    problems = [
        Problem(
            "catalog.unknown_period",
            f"目录事项 {item.code} 的 disclosure_period「{item.disclosure_period}」不是政策文件中的规则；"
            f"已有规则：{', '.join(sorted(known))}",
            f"item {item.code}: disclosure_period '{item.disclosure_period}' is not a rule of the policy; "
            f"known rules: {', '.join(sorted(known))}",
            field=f"{item.code}.disclosure_period",
        )
        for item in catalog.items
        if item.disclosure_period not in known
    ]
    if problems:
        raise ProblemError(*problems)


# -- ValidationError → Problems ---------------------------------------------------------------------

_ZH_REASONS = {
    "missing": "缺少必填键",
    "extra_forbidden": "不认识的键（拼写错误？格式不允许额外的键）",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "string_pattern_mismatch": "格式不符合要求",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "too_short": "不能为空",
    "list_type": "应为列表",
    "tuple_type": "应为列表",
    "dict_type": "应为映射",
    "model_type": "应为映射",
    "model_attributes_type": "应为映射",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
}


def problems_from_validation(exc: ValidationError, raw: Any) -> list[Problem]:
    """Readable Problems for a pydantic ValidationError over catalogue data ``raw``.

    Problems our own validators raised keep their code (catalog.forbidden_field, catalog.bad_reference…);
    shape errors become catalog.invalid. Each message starts with where it is: 目录事项 XZCF，字段 cf_wsh.
    """
    out: list[Problem] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        where_zh, where_en, path = _locate(loc, raw)
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, ProblemError):
            for p in inner.problems:
                field = ".".join(x for x in (path, p.field) if x) or None
                out.append(
                    Problem(
                        p.code,
                        _join(where_zh, p.message_zh, "："),
                        _join(where_en, p.message_en, ": "),
                        field,
                    )
                )
            continue
        reason_zh = _ZH_REASONS.get(error["type"], "取值无效")
        if error["type"] in ("enum", "literal_error") and "expected" in (error.get("ctx") or {}):
            reason_zh += f"（允许：{str(error['ctx']['expected']).replace(' or ', ', ')}）"
        if error["type"] == "string_pattern_mismatch":
            reason_zh += f"（{error['ctx']['pattern']}）"
        got = "" if error["type"] == "missing" else f"，实际为 {_short(error.get('input'))}"
        got_en = "" if error["type"] == "missing" else f" (got {_short(error.get('input'))})"
        out.append(
            Problem(
                "catalog.invalid",
                _join(where_zh, reason_zh + got, "："),
                _join(where_en, error["msg"] + got_en, ": "),
                path or None,
            )
        )
    return out


def _join(where: str, message: str, sep: str) -> str:
    return f"{where}{sep}{message}" if where else message


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _locate(loc: Sequence[int | str], raw: Any) -> tuple[str, str, str]:
    """Describe a pydantic location in the author's terms: item code and field code, not list indexes."""
    zh: list[str] = []
    en: list[str] = []
    path: list[str] = []
    node = raw
    rest = list(loc)
    while rest:
        key = rest.pop(0)
        if key in ("items", "fields") and rest and isinstance(rest[0], int):
            index = rest.pop(0)
            child = (
                node.get(key)[index] if isinstance(node, dict) and isinstance(node.get(key), list) else None
            )
            code = child.get("code") if isinstance(child, dict) else None
            if key == "items":
                zh.append(f"目录事项 {code}" if code else f"目录第 {index + 1} 项")
                en.append(f"item {code}" if code else f"item #{index + 1}")
                path.append(str(code) if code else f"items[{index}]")
            else:
                zh.append(f"字段 {code}" if code else f"第 {index + 1} 个字段")
                en.append(f"field {code}" if code else f"field #{index + 1}")
                path.append(str(code) if code else f"fields[{index}]")
            node = child
            continue
        # the remaining keys are inside a field or item: show them as a dotted key path
        keys = [str(key), *(str(k) for k in rest)]
        dotted = ".".join(keys)
        zh.append(f"键 {dotted}")
        en.append(f"key {dotted}")
        path.append(dotted)
        break
    return "，".join(zh), ", ".join(en), ".".join(path)
