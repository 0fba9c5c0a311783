"""Normalise and validate a chunk of rows against a catalogue item, vectorised.

For every catalogue field the chunk gets three columns: `raw:<code>` (the provider's text, kept for the
record and the feedback file), `norm:<code>` (the normalised value as text; dates as ISO) and
`err:<code>` (the first problem code for that cell, or null). Explanations in words are built only for
the rows that failed, so a million good rows never touch Python one by one.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import polars as pl

from xinyong.catalog.models import FieldSpec, FieldType, Identifier, Item
from xinyong.codes import vector
from xinyong.codes.check import check as check_code
from xinyong.collect.conditions import condition_expr
from xinyong.collect.messages import row_problem
from xinyong.problems import Problem

ROW = "__row"
KEY = "__key"
SOURCE = "__source"
EXCEL_EPOCH = dt.date(1899, 12, 30)
ID_CARD_TYPES = {"身份证", "居民身份证", "1", "10", "111"}
# Which scalar check explains a bad identifier of each standard.
_SCALAR_KIND = {
    Identifier.USCC: "uscc",
    Identifier.USCC_OR_PLACEHOLDER: "uscc",
    Identifier.ORGCODE: "orgcode",
    Identifier.IDCARD: "idcard",
    Identifier.ID_DOCUMENT: "idcard",
    Identifier.REGNO: "regno",
}


@dataclass(frozen=True)
class Context:
    item: Item
    today: dt.date
    source_field: str | None  # 数据来源单位统一社会信用代码, when the item has one
    default_source: str  # the submitter's USCC, for items without a source field
    deadline_working_days: int | None = None  # the item's timeliness rule from the policy (双公示: 7)


def raw(code: str) -> str:
    return f"raw:{code}"


def norm(code: str) -> str:
    return f"norm:{code}"


def err(code: str) -> str:
    return f"err:{code}"


def prepare(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """`frame` has ROW plus one `raw:<code>` column per catalogue field (null where the file lacks it)."""
    item = ctx.item
    out = frame.with_columns([_clean(spec).alias(clean(spec.code)) for spec in item.fields])
    out = out.with_columns([_normalised(spec).alias(norm(spec.code)) for spec in item.fields])
    out = out.with_columns(condition_columns(item))
    out = out.with_columns([_cell_problem(spec, ctx).alias(err(spec.code)) for spec in item.fields])
    out = out.with_columns(_cross_field_problems(ctx))
    key_parts = [pl.col(norm(code)).fill_null("") for code in item.source_key]
    source = pl.col(norm(ctx.source_field)) if ctx.source_field else pl.lit(ctx.default_source)
    return out.with_columns(
        pl.concat_str(key_parts, separator="|").alias(KEY),
        source.alias(SOURCE),
    )


def clean(code: str) -> str:
    return f"clean:{code}"


# NFKC restricted to what matters in codes, numbers and dates: full-width ASCII (Ａ１，) and the ideographic
# space. Full NFKC over every cell costs several times more and would also rewrite Chinese punctuation in
# free text (，→ ,), which must reach the record as the provider wrote it.
_FULL_WIDTH = [chr(0xFF01 + i) for i in range(94)] + ["\u3000"]
_HALF_WIDTH = [chr(0x21 + i) for i in range(94)] + [" "]
_FREE_TEXT = (FieldType.STRING, FieldType.TEXT)


def _clean(spec: FieldSpec) -> pl.Expr:
    """The cell trimmed (and, except free text, made half-width); empty becomes null. Computed once."""
    text = pl.col(raw(spec.code))
    if spec.type not in _FREE_TEXT:
        text = text.str.replace_many(_FULL_WIDTH, _HALF_WIDTH)
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def _normalised(spec: FieldSpec) -> pl.Expr:
    cleaned = pl.col(clean(spec.code))
    t = spec.type
    if t is FieldType.DATE:
        return parse_date(cleaned).dt.strftime("%Y-%m-%d")
    if t is FieldType.DECIMAL:
        number = _ungrouped(cleaned)
        return pl.when(number.str.contains(_decimal_pattern(spec))).then(number.str.strip_prefix("+"))
    if t is FieldType.INTEGER:
        number = _ungrouped(cleaned)
        return pl.when(number.str.contains(r"^[+-]?\d+$")).then(number.str.strip_prefix("+"))
    if t is FieldType.ENUM:
        return cleaned.replace_strict(_enum_map(spec), default=None, return_dtype=pl.String)
    if t is FieldType.MULTI_ENUM:
        return _multi_enum(spec)
    if t is FieldType.CODE and spec.identifier is not None and spec.identifier is not Identifier.ID_DOCUMENT:
        return cleaned.str.replace_all(r"[\s\-–—]", "").str.to_uppercase()
    return cleaned


def parse_date(text: pl.Expr) -> pl.Expr:
    """Dates as providers write them: 2021-03-05, 2021/3/5, 2021.3.5, 20210305, 2021年3月5日, an Excel
    serial number, or any of these followed by a time of day."""
    canonical = text.str.replace(r"^(\d{4})(\d{2})(\d{2})$", "${1}-${2}-${3}").str.replace(
        r"^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?(?:[ T].*)?$", "${1}-${2}-${3}"
    )
    serial = text.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    from_serial = pl.when(serial.is_between(20000, 80000)).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)
    )
    return pl.coalesce(canonical.str.to_date("%Y-%m-%d", strict=False), from_serial.cast(pl.Date))


def _ungrouped(number: pl.Expr) -> pl.Expr:
    """A number grouped by thousands (1,234,567.5 or 1 234 567.5) without its separators. Any other comma
    or space stays, and the cell is refused: 1,5 may mean 1.5, and must never be loaded as 15."""
    grouped = number.str.contains(r"^[+-]?\d{1,3}([,\s]\d{3})+(\.\d+)?$")
    return pl.when(grouped).then(number.str.replace_all(r"[,\s]", "")).otherwise(number)


def _decimal_pattern(spec: FieldSpec) -> str:
    scale = spec.scale if spec.scale is not None else 6
    whole = (spec.precision or 18) - scale
    return rf"^[+-]?\d{{1,{whole}}}(\.\d{{1,{scale}}})?$" if scale else rf"^[+-]?\d{{1,{whole}}}$"


def _enum_map(spec: FieldSpec) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in spec.enum or ():
        mapping[_nfkc(value)] = value
    for alias, value in (spec.enum_aliases or {}).items():
        mapping[_nfkc(alias)] = value
    for value, label in (spec.enum_labels or {}).items():
        mapping.setdefault(_nfkc(label), value)
    return mapping


def _multi_enum(spec: FieldSpec) -> pl.Expr:
    text = pl.col(clean(spec.code))
    first, *others = spec.separators or (";",)
    for sep in others:
        text = text.str.replace_all(_nfkc(sep), first, literal=True)
    parts = text.str.split(_nfkc(first)).list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
    mapped = parts.list.eval(
        pl.element().replace_strict(_enum_map(spec), default=None, return_dtype=pl.String)
    )
    all_known = mapped.list.eval(pl.element().is_not_null().all()).list.first()
    return pl.when(all_known & (mapped.list.len() > 0)).then(mapped.list.join(";")).otherwise(None)


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _cell_problem(spec: FieldSpec, ctx: Context) -> pl.Expr:
    code = spec.code
    present = pl.col(clean(code)).is_not_null()
    value = pl.col(norm(code))
    chain = pl.when(~present & pl.lit(spec.required)).then(pl.lit("row.required"))
    if spec.required_if is not None:
        condition = condition_expr(spec.required_if, ctx.item, column="cond:{code}")
        chain = chain.when(~present & condition).then(pl.lit("row.required_if"))
    type_error = {
        FieldType.DATE: "row.date",
        FieldType.DECIMAL: "row.decimal",
        FieldType.INTEGER: "row.integer",
        FieldType.ENUM: "row.enum",
        FieldType.MULTI_ENUM: "row.enum",
    }.get(spec.type)
    if type_error:
        chain = chain.when(present & value.is_null()).then(pl.lit(type_error))
    if spec.max_length:
        chain = chain.when(value.str.len_chars() > spec.max_length).then(pl.lit("row.max_length"))
    if spec.pattern:
        chain = chain.when(present & ~value.str.contains(spec.pattern).fill_null(False)).then(
            pl.lit("row.pattern")
        )
    if spec.identifier is not None:
        chain = chain.when(present & ~_identifier_ok(spec, ctx)).then(pl.lit("row.identifier"))
    dates = ctx.item.date_fields
    if spec.type is FieldType.DATE and code in (dates.decision, dates.act_end, dates.valid_from):
        chain = chain.when(value > pl.lit(ctx.today.isoformat())).then(pl.lit("row.future_date"))
    return chain.otherwise(None)


def _identifier_ok(spec: FieldSpec, ctx: Context) -> pl.Expr:
    value = pl.col(norm(spec.code))
    ident = spec.identifier
    if ident is Identifier.USCC:
        return vector.uscc_valid(value).fill_null(False)
    if ident is Identifier.USCC_OR_PLACEHOLDER:
        placeholders = [_nfkc(p).upper() for p in spec.placeholder]
        return value.is_in(placeholders) | vector.uscc_valid(value).fill_null(False)
    if ident is Identifier.ORGCODE:
        return vector.orgcode_valid(value).fill_null(False)
    if ident is Identifier.REGNO:
        return vector.regno_valid(value).fill_null(False)
    if ident is Identifier.IDCARD:
        return vector.idcard_valid(_id_code(value), today=ctx.today).fill_null(False)
    # ID_DOCUMENT: a 身份证 must pass GB 11643; other documents (passports...) are free text.
    return (
        pl.when(_is_id_card(ctx))
        .then(vector.idcard_valid(_id_code(value), today=ctx.today).fill_null(False))
        .otherwise(pl.lit(True))
    )


def _id_code(value: pl.Expr) -> pl.Expr:
    return value.str.replace_all(r"[\s\-]", "").str.to_uppercase()


def _is_id_card(ctx: Context) -> pl.Expr:
    id_type = ctx.item.subject_fields.id_type
    if id_type is None:
        return pl.lit(True)
    return pl.col(norm(id_type)).fill_null("身份证").is_in(list(ID_CARD_TYPES))


def _cross_field_problems(ctx: Context) -> list[pl.Expr]:
    dates = ctx.item.date_fields
    exprs = []
    if dates.valid_until and dates.decision:
        until, decided = pl.col(norm(dates.valid_until)), pl.col(norm(dates.decision))
        exprs.append(
            pl.coalesce(
                pl.col(err(dates.valid_until)),
                pl.when(until < decided).then(pl.lit("row.valid_before_decision")),
            ).alias(err(dates.valid_until))
        )
    return exprs


def condition_columns(item: Item) -> list[pl.Expr]:
    """The text each `required_if` reads: the enum value where the cell maps to one, else the cleaned cell."""
    exprs = []
    for spec in item.fields:
        cleaned = pl.col(clean(spec.code))
        if spec.type in (FieldType.ENUM, FieldType.MULTI_ENUM):
            cleaned = pl.coalesce(pl.col(norm(spec.code)), cleaned)
        exprs.append(cleaned.alias(f"cond:{spec.code}"))
    return exprs


def explain(row: dict[str, object], ctx: Context) -> list[Problem]:
    """Words for one failed row: every cell problem, explained with the value the provider sent."""
    problems = []
    for spec in ctx.item.fields:
        code = row.get(err(spec.code))
        if code is None:
            continue
        raw_value = row.get(raw(spec.code))
        problems.append(_explain_cell(str(code), spec, raw_value, row, ctx))
    return problems


def _explain_cell(
    code: str, spec: FieldSpec, raw_value: object, row: dict[str, object], ctx: Context
) -> Problem:
    shown = "" if raw_value is None else str(raw_value)
    if code == "row.required_if":
        assert spec.required_if is not None
        return row_problem(code, spec, cond=spec.required_if.describe())
    if code == "row.enum":
        return row_problem(code, spec, raw=shown, values="、".join(spec.enum or ()))
    if code == "row.max_length":
        return row_problem(code, spec, max=spec.max_length)
    if code == "row.future_date":
        return row_problem(code, spec, value=row.get(norm(spec.code)), today=ctx.today.isoformat())
    if code == "row.valid_before_decision":
        decision = ctx.item.date_fields.decision or ""
        return row_problem(code, spec, value=row.get(norm(spec.code)), other=row.get(norm(decision)))
    if code == "row.identifier":
        detail = check_code(shown, _SCALAR_KIND.get(spec.identifier or Identifier.USCC), today=ctx.today)
        first = detail.errors[0] if detail.errors else None
        return row_problem(
            code,
            spec,
            raw=_masked_if_personal(shown, spec),
            detail_zh=first.message_zh if first else "不符合编码规则",
            detail_en=first.message_en if first else "does not follow the coding rule",
        )
    return row_problem(code, spec, raw=_masked_if_personal(shown, spec))


def _masked_if_personal(value: str, spec: FieldSpec) -> str:
    from xinyong.security.masking import mask_id_number

    if spec.sensitive and spec.identifier in (Identifier.IDCARD, Identifier.ID_DOCUMENT):
        return mask_id_number(value) or ""
    return value
