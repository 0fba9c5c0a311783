"""Whole-field and whole-item consistency checks, run by the model validators.

Each check returns every problem it finds (not just the first), so an author fixing a new edition sees the
full list in one run. Messages are relative to the object checked; the loader prefixes the item and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from xinyong.catalog.forbidden import RuleKind, RuleScope, forbidden_match
from xinyong.catalog.headers import header_base, normalise_header
from xinyong.problems import Problem

if TYPE_CHECKING:
    from xinyong.catalog.models import Condition, FieldSpec, Item

_ENUM_TYPES = {"enum", "multi_enum"}
_TEXT_TYPES = {"string", "text", "code", "enum", "multi_enum"}
_NUMBER_TYPES = {"decimal", "integer"}

# The identifier standard a subject role's field must declare (None: any or none).
_ROLE_IDENTIFIERS: dict[str, set[str]] = {
    "uscc": {"uscc", "uscc_or_placeholder"},
    "orgcode": {"orgcode"},
    "regno": {"regno"},
}


def _invalid(zh: str, en: str, field: str | None = None) -> Problem:
    return Problem("catalog.invalid", zh, en, field)


def _bad_ref(zh: str, en: str, field: str | None = None) -> Problem:
    return Problem("catalog.bad_reference", zh, en, field)


def field_problems(spec: FieldSpec) -> list[Problem]:
    """Checks that need only the field itself."""
    out: list[Problem] = []
    kind = spec.type.value
    if kind in _ENUM_TYPES:
        if not spec.enum:
            out.append(
                _invalid(f"类型 {kind} 必须列出 enum 取值", f"type {kind} needs a list of enum values")
            )
        elif len(set(spec.enum)) != len(spec.enum):
            dupes = sorted({v for v in spec.enum if spec.enum.count(v) > 1})
            out.append(
                _invalid(f"enum 取值重复：{'、'.join(dupes)}", f"duplicate enum values: {', '.join(dupes)}")
            )
        values = set(spec.enum or ())
        if spec.enum_labels and (extra := sorted(set(spec.enum_labels) - values)):
            out.append(
                _invalid(
                    f"enum_labels 的键不在 enum 中：{'、'.join(extra)}",
                    f"enum_labels keys not in enum: {', '.join(extra)}",
                )
            )
        # A multi_enum alias may stand for several values (a legacy category the current list splits).
        targets = {
            part
            for target in (spec.enum_aliases or {}).values()
            for part in (spec.split(target) if kind == "multi_enum" else [target])
        }
        if spec.enum_aliases and (extra := sorted(targets - values)):
            out.append(
                _invalid(
                    f"enum_aliases 指向的值不在 enum 中：{'、'.join(extra)}",
                    f"enum_aliases point to values not in enum: {', '.join(extra)}",
                )
            )
    else:
        for key in ("enum", "enum_labels", "enum_aliases"):
            if getattr(spec, key):
                out.append(_invalid(f"类型 {kind} 不能有 {key}", f"type {kind} cannot have {key}"))
    if spec.separator is not None and kind != "multi_enum":
        out.append(_invalid("只有 multi_enum 可以设 separator", "only multi_enum takes a separator"))
    if spec.separator is not None and not spec.separator:
        out.append(_invalid("separator 不能为空", "separator must not be empty"))
    if kind == "decimal":
        if spec.precision is None or spec.scale is None:
            out.append(_invalid("decimal 必须给出 precision 和 scale", "a decimal needs precision and scale"))
        elif spec.scale > spec.precision:
            out.append(_invalid("scale 不能大于 precision", "scale cannot exceed precision"))
    elif spec.precision is not None or spec.scale is not None:
        out.append(_invalid("只有 decimal 可以设 precision/scale", "only a decimal takes precision/scale"))
    if spec.min_value is not None and kind not in _NUMBER_TYPES:
        out.append(_invalid(f"类型 {kind} 不能设 min_value", f"type {kind} cannot have min_value"))
    if spec.max_length is not None and kind not in _TEXT_TYPES:
        out.append(_invalid(f"类型 {kind} 不能设 max_length", f"type {kind} cannot have max_length"))
    if spec.identifier is not None and kind != "code":
        out.append(
            _invalid(
                "设了 identifier 的字段类型必须是 code", "a field with an identifier must be of type code"
            )
        )
    if (
        spec.identifier is not None
        and spec.identifier.value == "uscc_or_placeholder"
        and not spec.placeholder
    ):
        out.append(
            _invalid(
                "identifier 为 uscc_or_placeholder 时必须列出 placeholder 取值",
                "identifier uscc_or_placeholder needs placeholder values",
            )
        )
    if spec.pattern is not None:
        try:
            re.compile(spec.pattern)
        except re.error as exc:
            out.append(
                _invalid(
                    f"pattern 不是有效的正则表达式：{exc}",
                    f"pattern is not a valid regular expression: {exc}",
                )
            )
    if spec.names_person and kind not in ("string", "text"):
        out.append(
            _invalid(
                f"names_person 只能用于 string 或 text 字段，不能用于 {kind}",
                f"names_person applies to string or text fields, not {kind}",
            )
        )
    if spec.required and spec.required_if is not None:
        out.append(
            _invalid(
                "required 为 true 时不能再设 required_if",
                "a field cannot be both required and required_if",
            )
        )
    return out


def item_problems(item: Item) -> list[Problem]:
    """Cross-references and collisions inside one item, and the never-collect rule."""
    out: list[Problem] = []
    by_code: dict[str, FieldSpec] = {}
    for spec in item.fields:
        if spec.code in by_code:
            out.append(
                Problem(
                    "catalog.duplicate",
                    f"字段代码 {spec.code} 重复",
                    f"field code {spec.code} is used twice",
                    spec.code,
                )
            )
        by_code.setdefault(spec.code, spec)
    out += _header_collisions(item.fields)
    if len(set(item.subject_kinds)) != len(item.subject_kinds):
        out.append(_invalid("subject_kinds 有重复", "subject_kinds has duplicates"))
    out += _source_key(item, by_code)
    out += _subject_fields(item, by_code)
    out += _data_source(item, by_code)
    out += _dates(item, by_code)
    for spec in item.fields:
        if spec.required_if is not None:
            out += _condition(spec.required_if, spec, by_code)
    out += _never_collect(item)
    return out


def _header_collisions(fields: Iterable[FieldSpec]) -> list[Problem]:
    owner: dict[str, FieldSpec] = {}
    out: list[Problem] = []
    for spec in fields:
        for text in dict.fromkeys(normalise_header(h) for h in (spec.code, *spec.headers)):
            if not text:
                out.append(_invalid("表头或别名为空", "a header or alias is empty", spec.code))
                continue
            first = owner.setdefault(text, spec)
            if first is not spec:
                out.append(
                    Problem(
                        "catalog.duplicate",
                        f"字段 {first.code} 与 {spec.code} 的表头/别名规范化后相同：「{text}」",
                        f"fields {first.code} and {spec.code} share the header/alias '{text}' "
                        "after normalisation",
                        spec.code,
                    )
                )
    return out


def build_header_index(fields: Iterable[FieldSpec]) -> dict[str, FieldSpec]:
    """Normalised header → field; forms without their parenthetical are added where unambiguous."""
    fields = list(fields)
    index: dict[str, FieldSpec] = {}
    for spec in fields:
        for text in (spec.code, *spec.headers):
            index.setdefault(normalise_header(text), spec)
    bases: dict[str, FieldSpec | None] = {}
    for spec in fields:
        for text in spec.headers:
            base = header_base(normalise_header(text))
            if not base or base in index:
                continue
            # two fields sharing a base (作出决定机关(列入) / (移出)): the bare form names neither
            bases[base] = spec if bases.get(base, spec) is spec else None
    index.update({base: spec for base, spec in bases.items() if spec is not None})
    return index


def _source_key(item: Item, by_code: dict[str, FieldSpec]) -> list[Problem]:
    out = []
    if len(set(item.source_key)) != len(item.source_key):
        out.append(_invalid("source_key 有重复字段", "source_key lists a field twice"))
    for code in item.source_key:
        spec = by_code.get(code)
        if spec is None:
            out.append(
                _bad_ref(
                    f"source_key 引用了不存在的字段 {code}",
                    f"source_key names an unknown field {code}",
                    code,
                )
            )
        elif not spec.required:
            # an empty key part would make the record identity depend on luck: re-submissions must update
            out.append(
                _invalid(
                    f"source_key 字段 {code} 必须是必填（required: true）",
                    f"source_key field {code} must be required: true",
                    code,
                )
            )
    return out


def _data_source(item: Item, by_code: dict[str, FieldSpec]) -> list[Problem]:
    if item.data_source is None:
        return []
    out = []
    for role, code in item.data_source.roles().items():
        spec = by_code.get(code)
        if spec is None:
            out.append(
                _bad_ref(
                    f"data_source.{role} 引用了不存在的字段 {code}",
                    f"data_source.{role} names an unknown field {code}",
                    code,
                )
            )
        elif role == "uscc" and (
            spec.identifier is None or spec.identifier.value != "uscc" or not spec.required
        ):
            out.append(
                _invalid(
                    f"data_source.uscc 的字段 {code} 必须是必填的统一社会信用代码"
                    "（identifier: uscc, required: true）",
                    f"data_source.uscc field {code} must be a required USCC "
                    "(identifier: uscc, required: true)",
                    code,
                )
            )
    return out


def _subject_fields(item: Item, by_code: dict[str, FieldSpec]) -> list[Problem]:
    out = []
    roles = item.subject_fields.roles()
    for role, code in roles.items():
        spec = by_code.get(code)
        if spec is None:
            out.append(
                _bad_ref(
                    f"subject_fields.{role} 引用了不存在的字段 {code}",
                    f"subject_fields.{role} names an unknown field {code}",
                    code,
                )
            )
            continue
        allowed = _ROLE_IDENTIFIERS.get(role)
        if allowed and (spec.identifier is None or spec.identifier.value not in allowed):
            out.append(
                _invalid(
                    f"subject_fields.{role} 的字段 {code} 应声明 identifier: {' 或 '.join(sorted(allowed))}",
                    f"subject_fields.{role} field {code} should declare identifier: "
                    f"{' or '.join(sorted(allowed))}",
                    code,
                )
            )
    persons = any(k.value == "natural_person" for k in item.subject_kinds)
    if persons and "id_number" not in roles:
        out.append(
            _invalid(
                "本事项包含自然人，subject_fields 必须指明 id_number（证件号码）字段",
                "the item covers natural persons: subject_fields must name the id_number field",
            )
        )
    if persons and "id_number" in roles and (spec := by_code.get(roles["id_number"])) and not spec.sensitive:
        out.append(
            _invalid(
                f"自然人证件号码字段 {spec.code} 必须标记 sensitive: true",
                f"the natural-person ID number field {spec.code} must be sensitive: true",
                spec.code,
            )
        )
    if item.subject_kind_values is not None:
        out += _kind_values(item, by_code.get(roles.get("kind", "")))
    return out


def _kind_values(item: Item, kind_field: FieldSpec | None) -> list[Problem]:
    if kind_field is None or not kind_field.enum:
        return [
            _invalid(
                "subject_kind_values 需要 subject_fields.kind 指向一个 enum 字段",
                "subject_kind_values needs subject_fields.kind to name an enum field",
            )
        ]
    out = []
    mapped = set(item.subject_kind_values or {})
    if unknown := sorted(mapped - set(kind_field.enum)):
        out.append(
            _bad_ref(
                f"subject_kind_values 的键不是 {kind_field.code} 的取值：{'、'.join(unknown)}",
                f"subject_kind_values keys are not values of {kind_field.code}: {', '.join(unknown)}",
                kind_field.code,
            )
        )
    if unmapped := [v for v in kind_field.enum if v not in mapped]:
        out.append(
            _invalid(
                f"subject_kind_values 没有覆盖 {kind_field.code} 的取值：{'、'.join(unmapped)}",
                f"subject_kind_values does not map values of {kind_field.code}: {', '.join(unmapped)}",
                kind_field.code,
            )
        )
    declared = set(item.subject_kinds)
    for value, kinds in (item.subject_kind_values or {}).items():
        if extra := [k.value for k in kinds if k not in declared]:
            out.append(
                _invalid(
                    f"subject_kind_values[{value}] 含有 subject_kinds 之外的类别：{', '.join(extra)}",
                    f"subject_kind_values[{value}] has kinds outside subject_kinds: {', '.join(extra)}",
                    kind_field.code,
                )
            )
    return out


def _dates(item: Item, by_code: dict[str, FieldSpec]) -> list[Problem]:
    out = []
    for role, code in item.date_fields.roles().items():
        spec = by_code.get(code)
        if spec is None:
            out.append(
                _bad_ref(
                    f"date_fields.{role} 引用了不存在的字段 {code}",
                    f"date_fields.{role} names an unknown field {code}",
                    code,
                )
            )
        elif spec.type.value != "date":
            out.append(
                _invalid(
                    f"date_fields.{role} 的字段 {code} 类型应为 date",
                    f"date_fields.{role} field {code} must be of type date",
                    code,
                )
            )
    return out


def _condition(cond: Condition, owner: FieldSpec, by_code: dict[str, FieldSpec]) -> list[Problem]:
    if cond.any_of or cond.all_of:
        return [p for c in (cond.any_of or cond.all_of or ()) for p in _condition(c, owner, by_code)]
    out = []
    target = by_code.get(cond.field or "")
    if target is None:
        return [
            _bad_ref(
                f"字段 {owner.code} 的 required_if 引用了不存在的字段 {cond.field}",
                f"required_if of field {owner.code} names an unknown field {cond.field}",
                owner.code,
            )
        ]
    if target is owner:
        out.append(
            _bad_ref(
                f"字段 {owner.code} 的 required_if 引用了它自己",
                f"required_if of field {owner.code} refers to the field itself",
                owner.code,
            )
        )
    if target.enum:
        # a typo in a condition value (罚 款) would make the condition silently never hold
        wanted = [v for v in (cond.equals, cond.contains, *(cond.in_ or ())) if v is not None]
        accepted = set(target.enum) | set(target.placeholder)
        if bad := [v for v in wanted if v not in accepted]:
            out.append(
                _bad_ref(
                    f"字段 {owner.code} 的 required_if 使用了 {target.code} 没有的取值：{'、'.join(bad)}",
                    f"required_if of field {owner.code} uses values {target.code} does not have: "
                    f"{', '.join(bad)}",
                    owner.code,
                )
            )
    return out


def _never_collect(item: Item) -> list[Problem]:
    out = []
    for spec in item.fields:
        for text in (spec.code, *spec.headers):
            rule = forbidden_match(text)
            if rule is None:
                continue
            if rule.kind is RuleKind.CONSENT:
                if item.consent_required or (rule.scope is RuleScope.PERSONAL and not item.holds_persons):
                    continue
                out.append(
                    Problem(
                        "catalog.forbidden_field",
                        f"字段 {spec.code}「{spec.name_zh}」（匹配「{text}」）属于须经信息主体"
                        f"书面同意才能采集的个人信息「{rule.name_zh}」（依据：{rule.source}）；"
                        "本事项未声明 consent_required: true，目录被拒绝",
                        f"field {spec.code} ({spec.name_en}, matched '{text}') is personal information "
                        f"that may be collected only with the subject's written consent: {rule.name_en} "
                        f"(source: {rule.source}); the item does not declare consent_required: true, so the "
                        "catalogue is refused",
                        spec.code,
                    )
                )
            else:
                out.append(
                    Problem(
                        "catalog.forbidden_field",
                        f"字段 {spec.code}「{spec.name_zh}」（匹配「{text}」）属于禁止采集的个人信息"
                        f"「{rule.name_zh}」（依据：{rule.source}），目录被拒绝",
                        f"field {spec.code} ({spec.name_en}, matched '{text}') is personal information "
                        f"that must never be collected: {rule.name_en} (source: {rule.source}); "
                        "the catalogue is refused",
                        spec.code,
                    )
                )
            break  # one problem per field is enough to fix it
    return out
