"""The catalogue file format: pydantic models, strict (``extra="forbid"``), validated when loaded.

A catalogue edition is data a province publishes; these models are the contract it must meet. Checks that
need a whole item (cross-references, header collisions, the never-collect rule) live in ``checks.py`` and
run from the item validator, so an ``Item`` that exists is an ``Item`` that passed them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator

from xinyong.catalog.forbidden import ForbiddenRule, RuleKind, RuleScope, forbidden_match
from xinyong.catalog.headers import header_base, normalise_header
from xinyong.problems import Problem, ProblemError

# coerce_numbers_to_str: YAML reads `1` and `2` (当前状态) as integers; enum values are text.
_CONFIG = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
FIELD_CODE = r"^[a-z][a-z0-9_]{0,63}$"
ITEM_CODE = r"^[A-Z][A-Z0-9_]{1,31}$"


class Category(StrEnum):
    """信息类别. The Chinese value is what files and the database hold."""

    BASIC = "基础"
    GOOD = "良好"
    ADVERSE = "不良"
    SEVERE = "严重失信"  # a subset of adverse information with heavier consequences

    @property
    def label_en(self) -> str:
        return _CATEGORY_EN[self]

    @property
    def is_adverse(self) -> bool:
        return self in (Category.ADVERSE, Category.SEVERE)


_CATEGORY_EN = {
    Category.BASIC: "basic",
    Category.GOOD: "good",
    Category.ADVERSE: "adverse",
    Category.SEVERE: "seriously dishonest",
}


class SubjectKind(StrEnum):
    """信用主体类别."""

    LEGAL_PERSON = "legal_person"
    OTHER_ORG = "other_org"
    INDIVIDUAL_BUSINESS = "individual_business"
    NATURAL_PERSON = "natural_person"

    @property
    def label_zh(self) -> str:
        return _KIND_ZH[self]

    @property
    def is_personal(self) -> bool:
        """Kinds whose data is a person's data (the never-collect consent rules apply)."""
        return self in (SubjectKind.NATURAL_PERSON, SubjectKind.INDIVIDUAL_BUSINESS)


_KIND_ZH = {
    SubjectKind.LEGAL_PERSON: "法人",
    SubjectKind.OTHER_ORG: "非法人组织",
    SubjectKind.INDIVIDUAL_BUSINESS: "个体工商户",
    SubjectKind.NATURAL_PERSON: "自然人",
}


class DisclosureLevel(StrEnum):
    """披露方式 (docs/domain.md §3). The Chinese value is what files and the database hold."""

    PUBLIC = "公开"
    AUTHORISED = "授权查询"
    GOVERNMENT = "政务共享"

    @property
    def label_en(self) -> str:
        return _DISCLOSURE_EN[self]


_DISCLOSURE_EN = {
    DisclosureLevel.PUBLIC: "public",
    DisclosureLevel.AUTHORISED: "authorised",
    DisclosureLevel.GOVERNMENT: "government",
}


def _accept_labels(labels: Mapping[Any, str]) -> BeforeValidator:
    """Let a file say `public` or `adverse`: authors think in either language; the stored value is Chinese."""
    by_label = {label.lower(): member for member, label in labels.items()}

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return by_label.get(value.strip().lower(), value.strip())
        return value

    return BeforeValidator(convert)


CategoryValue = Annotated[Category, _accept_labels(_CATEGORY_EN)]
DisclosureValue = Annotated[DisclosureLevel, _accept_labels(_DISCLOSURE_EN)]
SubjectKindValue = Annotated[SubjectKind, _accept_labels(_KIND_ZH)]


class FieldType(StrEnum):
    STRING = "string"  # short text, one line
    TEXT = "text"  # long text (违法事实, 处罚内容)
    DATE = "date"
    DECIMAL = "decimal"
    INTEGER = "integer"
    ENUM = "enum"  # one value of `enum`
    MULTI_ENUM = "multi_enum"  # several values of `enum` joined by `separator`
    CODE = "code"  # an identifier or document number; `identifier` names the standard if there is one


class Identifier(StrEnum):
    """Which identifier standard a `code` field follows (checked by xinyong.codes)."""

    USCC = "uscc"  # 统一社会信用代码, GB 32100-2015
    ORGCODE = "orgcode"  # 组织机构代码, GB 11714-1997
    IDCARD = "idcard"  # 公民身份号码, GB 11643-1999
    REGNO = "regno"  # 15-digit 工商注册号
    USCC_OR_PLACEHOLDER = "uscc_or_placeholder"  # USCC, or one of the field's `placeholder` values
    # An identity document number whose standard depends on the item's `id_type` field: GB 11643 when the
    # document is a 身份证, free text (passport...) otherwise.
    ID_DOCUMENT = "id_document"


def _clean_value(value: object) -> str:
    """A raw cell value as conditions compare it: NFKC (full-width → ASCII), trimmed."""
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


class Condition(BaseModel):
    """A tiny declarative condition, used by `required_if`.

    Exactly one form:
      {field: F, equals: V}       the cell of F is V
      {field: F, in: [V1, V2]}    the cell of F is one of the values
      {field: F, contains: V}     F is a multi_enum and V is one of its values; for other types, V is a
                                  substring of the cell
      {field: F, present: true}   the cell of F is non-empty (false: empty)
      {any_of: [C1, C2, ...]}     at least one condition holds
      {all_of: [C1, C2, ...]}     every condition holds
    Cells are compared after NFKC and trimming, so full-width ``００…Ｘ`` equals ``00…X``.
    """

    model_config = _CONFIG

    field: str | None = None
    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    contains: str | None = None
    present: bool | None = None
    any_of: tuple[Condition, ...] | None = None
    all_of: tuple[Condition, ...] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        tests = [k for k in ("equals", "in_", "contains", "present") if getattr(self, k) is not None]
        groups = [k for k in ("any_of", "all_of") if getattr(self, k) is not None]
        if groups:
            if len(groups) > 1 or tests or self.field is not None:
                raise _shape("any_of/all_of 必须单独使用", "any_of/all_of must stand alone")
            if not getattr(self, groups[0]):
                raise _shape(f"{groups[0]} 不能为空列表", f"{groups[0]} must not be empty")
            return self
        if self.field is None:
            raise _shape("条件缺少 field", "a condition needs a field")
        if len(tests) != 1:
            raise _shape(
                "条件必须恰好使用 equals、in、contains、present 之一",
                "a condition must use exactly one of equals, in, contains, present",
            )
        if self.in_ is not None and not self.in_:
            raise _shape("in 不能为空列表", "in must not be empty")
        return self

    def fields_used(self) -> list[str]:
        if self.any_of or self.all_of:
            return [f for c in (self.any_of or self.all_of or ()) for f in c.fields_used()]
        return [self.field] if self.field else []

    def evaluate(self, row: Mapping[str, object], item: Item) -> bool:
        """Does the condition hold for a row (field code → cell; a multi_enum cell may be a list)?"""
        if self.any_of:
            return any(c.evaluate(row, item) for c in self.any_of)
        if self.all_of:
            return all(c.evaluate(row, item) for c in self.all_of)
        assert self.field is not None  # guaranteed by _one_form
        raw = row.get(self.field)
        spec = item.get_field(self.field)
        if isinstance(raw, list | tuple | set):  # a multi_enum cell the pipeline has already split
            values, as_list = [_clean_value(v) for v in raw], True
            text = ";".join(values)
        else:
            text = _clean_value(raw)
            as_list = spec is not None and spec.type is FieldType.MULTI_ENUM
            values = spec.split(text) if as_list and spec is not None else [text]
            if as_list and spec is not None:  # an alias may stand for several values
                values = [part for v in values for part in spec.split(spec.enum_value(v) or v)]
        if self.present is not None:
            return bool(text) is self.present
        if self.equals is not None:
            return text == _clean_value(self.equals)
        if self.in_ is not None:
            return text in {_clean_value(v) for v in self.in_}
        needle = _clean_value(self.contains)
        return needle in values if as_list else needle in text

    def explain(self, item: Item, lang: str = "zh") -> str:
        """The condition in a clerk's words, naming fields as the template's headers do, never by code:
        ``“处罚类别”包含“罚款”`` / ``'Penalty categories' includes '罚款'``."""
        zh = lang != "en"
        if self.any_of or self.all_of:
            joiner = ("或" if zh else " or ") if self.any_of else ("且" if zh else " and ")
            parts = []
            for c in self.any_of or self.all_of or ():
                text = c.explain(item, lang)
                nested = c.any_of or c.all_of
                parts.append((f"（{text}）" if zh else f"({text})") if nested else text)
            return joiner.join(parts)
        spec = item.get_field(self.field or "")
        name = (spec.name_zh if zh else spec.name_en) if spec else (self.field or "")
        field = f"“{name}”" if zh else f"'{name}'"

        def quoted(value: str) -> str:
            return f"“{value}”" if zh else f"'{value}'"

        if self.equals is not None:
            return f"{field}为{quoted(self.equals)}" if zh else f"{field} is {quoted(self.equals)}"
        if self.in_ is not None:
            values = ("或" if zh else " or ").join(quoted(v) for v in self.in_)
            return f"{field}为{values}" if zh else f"{field} is {values}"
        if self.contains is not None:
            wanted = quoted(self.contains)
            return f"{field}包含{wanted}" if zh else f"{field} includes {wanted}"
        if zh:
            return f"{field}{'已填写' if self.present else '为空'}"
        return f"{field} is {'filled in' if self.present else 'empty'}"

    def describe(self) -> str:
        """A one-line rendering for catalogue authors (by field code): ``cf_cflb 含 罚款``. Messages to a
        provider's clerk use `explain`, which names the fields."""
        if self.any_of:
            return " 或 ".join(f"({c.describe()})" for c in self.any_of)
        if self.all_of:
            return " 且 ".join(f"({c.describe()})" for c in self.all_of)
        if self.equals is not None:
            return f"{self.field} = {self.equals}"
        if self.in_ is not None:
            return f"{self.field} ∈ {{{', '.join(self.in_)}}}"
        if self.contains is not None:
            return f"{self.field} 含 {self.contains}"
        return f"{self.field} {'非空' if self.present else '为空'}"


class UnknownCodeError(ProblemError, KeyError):
    """An item or field code the catalogue does not have: a ProblemError that ``except KeyError`` catches."""

    __str__ = ProblemError.__str__  # KeyError would quote the message


def _shape(zh: str, en: str, field: str | None = None) -> ProblemError:
    return ProblemError(Problem("catalog.invalid", zh, en, field))


class FieldSpec(BaseModel):
    """One column of a catalogue item."""

    model_config = _CONFIG

    code: str = Field(pattern=FIELD_CODE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    type: FieldType
    required: bool = False
    required_if: Condition | None = None
    enum: tuple[str, ...] | None = None
    enum_labels: dict[str, str] | None = None  # value → meaning, e.g. "1" → 有效
    enum_aliases: dict[str, str] | None = None  # a provider's spelling → the value, e.g. 居民身份证 → 身份证
    separator: str | None = None
    pattern: str | None = None
    max_length: int | None = Field(default=None, ge=1)
    # The smallest value a number may take (amounts and ages: 0). Numbers only.
    min_value: Decimal | None = None
    precision: int | None = Field(default=None, ge=1, le=38)
    scale: int | None = Field(default=None, ge=0, le=38)
    unit: str | None = None
    identifier: Identifier | None = None
    sensitive: bool = False
    # The field holds a natural person's name (法定代表人, 负责人, 经营者): disclosure masks it for the public
    # on the records of the subject kinds the policy names (masking.person_names).
    names_person: bool = False
    placeholder: tuple[str, ...] = ()
    description: str | None = None
    source: str | None = None

    _pattern: re.Pattern[str] | None = PrivateAttr(default=None)

    def __repr__(self) -> str:  # the full dump is forty lines; code and header identify a field
        return f"FieldSpec({self.code} {self.name_zh} {self.type.value})"

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        from xinyong.catalog.checks import field_problems  # checks imports these models for typing only

        problems = field_problems(self)
        if problems:
            raise ProblemError(*problems)
        self._pattern = re.compile(self.pattern) if self.pattern else None
        return self

    @property
    def headers(self) -> tuple[str, ...]:
        """Every spelling that names this column: Chinese name, English name, aliases."""
        return (self.name_zh, self.name_en, *self.aliases)

    @property
    def separators(self) -> tuple[str, ...]:
        """Separators accepted for a multi_enum: the declared one and its full-width twin (；)."""
        if self.type is not FieldType.MULTI_ENUM:
            return ()
        declared = self.separator or ";"
        twins = {";": "；", ",": "，", "、": "、", "|": "｜"}
        return tuple(dict.fromkeys([declared, twins.get(declared, declared)]))

    @property
    def compiled_pattern(self) -> re.Pattern[str] | None:
        return self._pattern

    @property
    def is_conditional(self) -> bool:
        return self.required_if is not None

    def split(self, value: str) -> list[str]:
        """Split a multi_enum cell into its trimmed, non-empty values."""
        parts = [value]
        for sep in self.separators:
            parts = [piece for part in parts for piece in part.split(sep)]
        return [p.strip() for p in parts if p.strip()]

    def enum_value(self, raw: str) -> str | None:
        """The enum value a raw cell means (exact value, a declared alias, or a label), or None."""
        if not self.enum:
            return None
        text = _clean_value(raw)
        if text in self.enum:
            return text
        for alias, value in (self.enum_aliases or {}).items():
            if _clean_value(alias) == text:
                return value
        for value, label in (self.enum_labels or {}).items():
            if _clean_value(label) == text:
                return value
        return None


class SubjectFields(BaseModel):
    """Which field plays which role in identifying the subject (信用主体) of a record."""

    model_config = _CONFIG

    name: str  # 名称 / 姓名
    kind: str | None = None  # 主体类别 (行政相对人类别)
    uscc: str | None = None  # 统一社会信用代码
    regno: str | None = None  # 工商注册号
    orgcode: str | None = None  # 组织机构代码
    taxno: str | None = None  # 税务登记号
    inst_cert: str | None = None  # 事业单位证书号
    social_org_cert: str | None = None  # 社会组织登记证号
    id_type: str | None = None  # 证件类型 (natural persons)
    id_number: str | None = None  # 证件号码 (natural persons)

    def roles(self) -> dict[str, str]:
        """Role → field code, only the roles this item fills."""
        return {role: code for role, code in self.model_dump().items() if code is not None}


class DataSourceFields(BaseModel):
    """Which fields name the department a record comes from (数据来源单位), when it differs from the sender.

    A record's identity is (item, source department, source key): the same penalty forwarded by a city
    collection system and sent by the department itself is one record, not two.
    """

    model_config = _CONFIG

    uscc: str  # 数据来源单位统一社会信用代码
    name: str | None = None  # 数据来源单位

    def roles(self) -> dict[str, str]:
        return {role: code for role, code in self.model_dump().items() if code is not None}


class DateFields(BaseModel):
    """Which date fields the disclosure and timeliness logic read."""

    model_config = _CONFIG

    # 决定日期: timeliness (双公示 7 working days) and penalty periods run from it
    decision: str | None = None
    valid_from: str | None = None  # 有效期自
    valid_until: str | None = None  # 有效期至 / 处罚有效期
    act_end: str | None = None  # the day the act or event ended: the 5-year adverse period runs from it
    publish_until: str | None = None  # 公示截止期, when the provider states one
    # The valid_until value that means "long-term" (2099-12-31) is a number, so it lives in the policy file
    # (disclosure.long_term_sentinel), not here.

    def roles(self) -> dict[str, str]:
        """Role → field code, only the roles this item fills."""
        return {role: code for role, code in self.model_dump().items() if code is not None}


class Item(BaseModel):
    """One catalogue item (目录事项): what may be collected about a kind of fact, and how it is disclosed."""

    model_config = _CONFIG

    code: str = Field(pattern=ITEM_CODE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    category: CategoryValue
    subject_kinds: tuple[SubjectKindValue, ...] = Field(min_length=1)
    disclosure_level: DisclosureValue
    disclosure_period: str = Field(pattern=IDENTIFIER)  # a rule name in the policy file
    provider: str | None = None  # 信息提供单位
    consent_required: bool = False  # collected only with the subject's written consent
    source_key: tuple[str, ...] = Field(min_length=1)
    subject_fields: SubjectFields
    # kind field value → subject kinds it may denote (法人及非法人组织 → legal_person, other_org)
    subject_kind_values: dict[str, tuple[SubjectKindValue, ...]] | None = None
    date_fields: DateFields = DateFields()
    # Absent: the submitter is the source (a department sending its own records).
    data_source: DataSourceFields | None = None
    # The publication deadline this item is measured against: a rule name under `timeliness` in the policy
    # file (e.g. publish_within, 双公示's 7 working days). The number and its source live there, once.
    timeliness: str | None = Field(default=None, pattern=IDENTIFIER)
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    description: str | None = None
    source: str | None = None

    _by_code: dict[str, FieldSpec] = PrivateAttr(default_factory=dict)
    _by_header: dict[str, FieldSpec] = PrivateAttr(default_factory=dict)

    def __repr__(self) -> str:
        return f"Item({self.code} {self.name_zh}, {len(self.fields)} fields)"

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        from xinyong.catalog.checks import build_header_index, item_problems

        problems = item_problems(self)
        if problems:
            raise ProblemError(*problems)
        self._by_code = {f.code: f for f in self.fields}
        self._by_header = build_header_index(self.fields)
        return self

    # -- look-ups ----------------------------------------------------------------------------------

    @property
    def field_codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.fields)

    @property
    def holds_persons(self) -> bool:
        """Can a record of this item be about a natural person or a 个体工商户?"""
        return any(k.is_personal for k in self.subject_kinds)

    def get_field(self, code: str) -> FieldSpec | None:
        return self._by_code.get(code)

    def field(self, code: str) -> FieldSpec:
        """The field with this code; a ProblemError naming the known codes otherwise."""
        spec = self._by_code.get(code)
        if spec is None:
            raise UnknownCodeError(
                Problem(
                    "catalog.unknown_field",
                    f"目录事项 {self.code} 没有字段 {code}；已有字段：{', '.join(self.field_codes)}",
                    f"Item {self.code} has no field {code}; known fields: {', '.join(self.field_codes)}",
                    field=code,
                )
            )
        return spec

    def person_name_fields(self) -> dict[str, bool]:
        """The fields that may name a natural person, each with whether it is the subject's name (a person's
        when the subject is one) or a `names_person` field (法定代表人, 负责人, 经营者: a person's on a
        person's or an 个体工商户's record). What is masked for the public and sealed at rest."""
        return {
            f.code: f.code == self.subject_fields.name
            for f in self.fields
            if f.code == self.subject_fields.name or f.names_person
        }

    def match_header(self, header: str) -> FieldSpec | None:
        """The field an upload column header names: by code, Chinese or English name, or alias.

        Tolerates full-width brackets and letters, spaces (U+3000 too), a ``*`` required marker, and a
        parenthetical on either side: ``行政相对人代码_1（统一社会信用代码）``, ``行政相对人代码_1`` and
        ``行政处罚决定书文号(必填)`` all match. A parenthetical-free form shared by two fields matches
        neither.
        """
        normalised = normalise_header(header)
        if not normalised:
            return None
        found = self._by_header.get(normalised)
        if found is None:
            base = header_base(normalised)
            if base and base != normalised:
                found = self._by_header.get(base)
        return found

    def refuses(self, header: str) -> ForbiddenRule | None:
        """The never-collect rule that forbids this header *for this item*, or None.

        A forbidden rule always refuses. A consent-only rule refuses unless the item declares
        consent_required, and (scope "personal") only where the item can hold persons.
        """
        rule = forbidden_match(header)
        if rule is None or rule.kind is RuleKind.FORBIDDEN:
            return rule
        if rule.scope is RuleScope.PERSONAL and not self.holds_persons:
            return None
        return None if self.consent_required else rule

    # -- required fields ---------------------------------------------------------------------------

    def is_required(self, code: str, row: Mapping[str, object]) -> bool:
        """Must this field be filled in this row (code → cell)? ``required``, or ``required_if`` holds."""
        spec = self.field(code)
        if spec.required:
            return True
        return spec.required_if is not None and spec.required_if.evaluate(row, self)

    def missing_required(self, row: Mapping[str, object]) -> list[FieldSpec]:
        """Fields this row must fill but leaves empty."""
        missing = []
        for spec in self.fields:
            cell = row.get(spec.code)
            empty = not cell if isinstance(cell, list | tuple | set) else not _clean_value(cell)
            if empty and self.is_required(spec.code, row):
                missing.append(spec)
        return missing


class CatalogFile(BaseModel):
    """A whole catalogue edition as written in YAML."""

    model_config = _CONFIG

    edition: str = Field(min_length=1)  # e.g. 湖北省公共信用信息目录（示范版）2026
    source: str = Field(min_length=1)  # where the edition comes from
    description: str | None = None
    items: tuple[Item, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_items(self) -> CatalogFile:
        seen: set[str] = set()
        problems = []
        for item in self.items:
            if item.code in seen:
                problems.append(
                    Problem(
                        "catalog.duplicate",
                        f"目录事项代码 {item.code} 重复",
                        f"item code {item.code} is used twice",
                        field=item.code,
                    )
                )
            seen.add(item.code)
        if problems:
            raise ProblemError(*problems)
        return self
