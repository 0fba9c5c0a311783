"""Normalise and validate a chunk of rows against a catalogue item, vectorised.

For every catalogue field the chunk gets these columns: `raw:<code>` (the provider's text, kept for the
record and the feedback file), `norm:<code>` (the normalised value as text; dates as ISO), `err:<code>`
(the first problem code for that cell, or null: the row is rejected), `warn:<code>` (a warning code: the
row loads, and the clerk is asked to check it) and `pid:<code>` (a citizen ID number is written in the
cell). Explanations in words are built only for the rows that failed or warned, so a million good rows
never touch Python one by one.

A citizen ID number found outside the ID number fields never goes further in clear: in the field types
the policy names (`collection.id_numbers_elsewhere`) it is masked in `raw:` and `norm:` before anything
else reads them; elsewhere the row is rejected and the service keeps its cells encrypted.
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
from xinyong.policy.masking import mask_expr
from xinyong.policy.models import CollectionPolicy, MaskRule
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


# Shown values in messages are cut here: a message names the cell, it does not carry a 100 MB one.
SHOWN_MAX = 64


@dataclass(frozen=True)
class Context:
    item: Item
    today: dt.date
    source_field: str | None  # 数据来源单位统一社会信用代码, when the item has one
    default_source: str  # the submitter's USCC, for items without a source field
    collection: CollectionPolicy  # the policy's field checks: earliest date, lengths, ID numbers, amounts
    id_mask: MaskRule  # how an ID number found in free text is masked (policy masking.id_number)
    deadline_working_days: int | None = None  # the item's timeliness rule from the policy (双公示: 7)

    def max_length(self, spec: FieldSpec) -> int | None:
        """The field's own limit, or the policy's default for its type: no text field is unlimited."""
        return spec.max_length or self.collection.default_max_length.for_type(spec.type.value)

    def masks_id_numbers(self, spec: FieldSpec) -> bool:
        """Is an ID number in this field masked (the row kept), rather than rejected?"""
        return self.collection.id_numbers_elsewhere.masks(
            spec.type.value, subject_name=spec.code == self.item.subject_fields.name
        )


def raw(code: str) -> str:
    return f"raw:{code}"


def norm(code: str) -> str:
    return f"norm:{code}"


def err(code: str) -> str:
    return f"err:{code}"


def warn(code: str) -> str:
    return f"warn:{code}"


def pid(code: str) -> str:
    return f"pid:{code}"


def is_personal_id(spec: FieldSpec) -> bool:
    """A field that holds a natural person's ID number by design (masked and encrypted as such)."""
    return spec.sensitive and spec.identifier in (Identifier.IDCARD, Identifier.ID_DOCUMENT)


def prepare(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """`frame` has ROW plus one `raw:<code>` column per catalogue field (null where the file lacks it)."""
    item = ctx.item
    out = frame.with_columns([_clean(spec).alias(clean(spec.code)) for spec in item.fields])
    out = _odd_characters(out, ctx)
    out = _id_numbers(out, ctx)
    out = out.with_columns([_normalised(spec).alias(norm(spec.code)) for spec in item.fields])
    out = out.with_columns(condition_columns(item))
    out = out.with_columns([_cell_problem(spec, ctx).alias(err(spec.code)) for spec in item.fields])
    out = out.with_columns(_cross_field_problems(ctx))
    out = out.with_columns([_cell_warning(spec, ctx).alias(warn(spec.code)) for spec in item.fields])
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
FULL_WIDTH = [chr(0xFF01 + i) for i in range(94)] + ["\u3000"]
HALF_WIDTH = [chr(0x21 + i) for i in range(94)] + [" "]
_FREE_TEXT = (FieldType.STRING, FieldType.TEXT)
# Invisible characters that carry nothing in Chinese names, codes, dates or facts, and only make two equal
# values compare unequal ("华信" and "华\u200b信"): zero-width space, non-joiner and joiner, word joiner, the
# BOM (zero-width no-break space, often left at the start of a cell by an export) and the soft hyphen.
# Stripped from every cell; the provider's text keeps them in `records.original`.
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
# Characters that reorder how text is displayed (right-to-left override and its kin): "ABC\u202eXYZ"
# shows as another string than the one stored. No Chinese record needs them: refused, not stripped,
# because what the clerk sees and what was sent would differ.
BIDI_CONTROLS = r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
# Control characters (C0, DEL, C1). Narrative fields (text) may hold tab and line breaks (CR as part of
# CRLF); no other field may hold any, NUL least of all.
_CONTROLS_IN_NARRATIVE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
_CONTROLS = r"[\x00-\x1f\x7f-\x9f]"
_ANY_ODD = r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_JOINER = "\u2063"  # invisible separator: matched by no pattern here, so a row's cells can be scanned as one


def chars(code: str) -> str:
    return f"chars:{code}"


def _clean(spec: FieldSpec) -> pl.Expr:
    """The cell trimmed, invisible characters removed (and, except free text, made half-width); empty
    becomes null. Computed once."""
    text = pl.col(raw(spec.code))
    if spec.type in _FREE_TEXT:
        text = text.str.replace_many(_INVISIBLE, [""] * len(_INVISIBLE))
    else:
        text = text.str.replace_many(FULL_WIDTH + _INVISIBLE, HALF_WIDTH + [""] * len(_INVISIBLE))
    text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def _odd_characters(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """`chars:<code>`: row.control_char or row.bidi_char for a cell holding such characters, else null.

    Rows are scanned whole first (one pass instead of one per cell): almost none holds any, and only
    those are then looked at cell by cell.
    """
    fields = ctx.item.fields
    joined = pl.concat_str([pl.col(clean(f.code)).fill_null("") for f in fields], separator=_JOINER)
    odd = frame.filter(joined.str.contains(_ANY_ODD))
    if odd.height == 0:
        return frame.with_columns([pl.lit(None, dtype=pl.String).alias(chars(f.code)) for f in fields])
    exprs = []
    for spec in fields:
        cell = pl.col(clean(spec.code))
        controls = _CONTROLS_IN_NARRATIVE if spec.type is FieldType.TEXT else _CONTROLS
        exprs.append(
            pl.when(cell.str.contains(controls).fill_null(False))
            .then(pl.lit("row.control_char"))
            .when(cell.str.contains(BIDI_CONTROLS).fill_null(False))
            .then(pl.lit("row.bidi_char"))
            .otherwise(None)
            .alias(chars(spec.code))
        )
    found = odd.select(ROW, *exprs)
    return frame.join(found, on=ROW, how="left", maintain_order="left")


def _id_numbers(frame: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    """Flag every cell that holds a citizen ID number outside the ID number fields (`pid:<code>`), and
    mask it in the cells of fields that mask (`raw:` and `clean:` both: nothing downstream sees it)."""
    scanned = [spec for spec in ctx.item.fields if not is_personal_id(spec)]
    found = vector.idcard_numbers_in_text(
        frame, [clean(spec.code) for spec in scanned], key=ROW, today=ctx.today
    )
    flags = [
        pl.col(ROW)
        .is_in(found.filter(pl.col("column") == clean(spec.code))[ROW].implode())
        .alias(pid(spec.code))
        for spec in scanned
    ]
    out = frame.with_columns(flags)
    masking = [spec for spec in scanned if ctx.masks_id_numbers(spec)]
    hits = found.filter(pl.col("column").is_in([clean(spec.code) for spec in masking]))
    if hits.height == 0:
        return out
    # One replacement table for the chunk: each number as written -> its masked form, by the policy's rule.
    table = hits.unique("found").select("found", mask_expr(pl.col("number"), ctx.id_mask).alias("masked"))
    written, masked = table["found"].to_list(), table["masked"].to_list()
    exprs = []
    for spec in masking:
        cell = pl.col(clean(spec.code))
        hidden = pl.when(pl.col(pid(spec.code))).then(cell.str.replace_many(written, masked, leftmost=True))
        exprs += [
            hidden.otherwise(cell).alias(clean(spec.code)),
            hidden.otherwise(pl.col(raw(spec.code))).alias(raw(spec.code)),
        ]
    return out.with_columns(exprs)


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


_DATE_TIME = r"^(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?(?:(?:T|\s+)(.+))?$"
# A time of day that exists: 0-23 hours, 0-59 minutes and seconds, optional fraction and offset; or the
# Chinese 14时30分(15秒).
_TIME = (
    r"^(?:[01]?\d|2[0-3])(?::[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?|时(?:[0-5]\d分(?:[0-5]\d秒)?)?)"
    r"(?:Z|[+-]\d{2}:?\d{2})?$"
)


def _date_and_time(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """The date a written date-time names (null if none), and its time-of-day text (null if none)."""
    parts = text.str.extract_groups(_DATE_TIME)
    day = pl.concat_str(
        parts.struct.field("1"), parts.struct.field("2"), parts.struct.field("3"), separator="-"
    )
    return day.str.to_date("%Y-%m-%d", strict=False), parts.struct.field("4")


def parse_date(text: pl.Expr) -> pl.Expr:
    """Dates as providers write them: 2021-03-05, 2021/3/5, 2021.3.5, 20210305, 2021年3月5日, an Excel
    serial number, or any of the first four followed by a time of day that exists (25:61 does not)."""
    compact = text.str.replace(r"^(\d{4})(\d{2})(\d{2})$", "${1}-${2}-${3}").str.to_date(
        "%Y-%m-%d", strict=False
    )
    day, time = _date_and_time(text)
    with_time = pl.when(time.is_null() | time.str.contains(_TIME).fill_null(False)).then(day)
    serial = text.str.extract(r"^(\d{5})(?:\.0+)?$", 1).cast(pl.Int64, strict=False)
    from_serial = pl.when(serial.is_between(20000, 80000)).then(
        pl.lit(EXCEL_EPOCH) + pl.duration(days=serial)
    )
    return pl.coalesce(compact, with_time, from_serial.cast(pl.Date))


def _impossible_time(text: pl.Expr) -> pl.Expr:
    """A real date followed by a time of day that does not exist (2021-03-05 25:61)."""
    day, time = _date_and_time(text)
    return day.is_not_null() & time.is_not_null() & ~time.str.contains(_TIME).fill_null(False)


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
    """The first problem of a cell. The order matters for what the message may quote: a cell with control
    or direction characters, or an ID number, is named but never quoted."""
    code = spec.code
    cleaned = pl.col(clean(code))
    present = cleaned.is_not_null()
    value = pl.col(norm(code))
    chain = pl.when(~present & pl.lit(spec.required)).then(pl.lit("row.required"))
    if spec.required_if is not None:
        condition = condition_expr(spec.required_if, ctx.item, column="cond:{code}")
        chain = chain.when(~present & condition).then(pl.lit("row.required_if"))
    chain = chain.when(pl.col(chars(code)).is_not_null()).then(pl.col(chars(code)))
    if not is_personal_id(spec) and not ctx.masks_id_numbers(spec):
        # A value valid under the field's own standard (a 注册号 that also reads as an old ID number) stays.
        own_ok = _identifier_ok(spec, ctx) if spec.identifier is not None else pl.lit(False)
        chain = chain.when(pl.col(pid(code)) & ~own_ok).then(pl.lit("row.id_number_in_field"))
    limit = ctx.max_length(spec)
    if limit:
        chain = chain.when(value.str.len_chars() > limit).then(pl.lit("row.max_length"))
    type_error = {
        FieldType.DATE: "row.date",
        FieldType.DECIMAL: "row.decimal",
        FieldType.INTEGER: "row.integer",
        FieldType.ENUM: "row.enum",
        FieldType.MULTI_ENUM: "row.enum",
    }.get(spec.type)
    if spec.type is FieldType.DATE:
        chain = chain.when(present & value.is_null() & _impossible_time(cleaned)).then(pl.lit("row.time"))
    if type_error:
        chain = chain.when(present & value.is_null()).then(pl.lit(type_error))
    if spec.type is FieldType.DATE:
        earliest = ctx.collection.earliest_date.value
        chain = chain.when(value.str.to_date("%Y-%m-%d", strict=False) < pl.lit(earliest)).then(
            pl.lit("row.date_too_early")
        )
    if spec.min_value is not None:
        chain = chain.when(value.cast(pl.Float64, strict=False) < float(spec.min_value)).then(
            pl.lit("row.min_value")
        )
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


def _cell_warning(spec: FieldSpec, ctx: Context) -> pl.Expr:
    """A warning for a cell that loads: kept as sent (or masked), and shown to the clerk to check."""
    chain = None
    if not is_personal_id(spec) and ctx.masks_id_numbers(spec):
        chain = pl.when(pl.col(pid(spec.code))).then(pl.lit("row.id_number_masked"))
    implausible = ctx.collection.implausible_amount
    if spec.code in implausible.fields and spec.type in (FieldType.DECIMAL, FieldType.INTEGER):
        too_big = pl.col(err(spec.code)).is_null() & (
            pl.col(norm(spec.code)).cast(pl.Float64, strict=False) >= float(implausible.warn_from)
        )
        chain = (chain.when(too_big) if chain is not None else pl.when(too_big)).then(
            pl.lit("row.amount_implausible")
        )
    return chain.otherwise(None) if chain is not None else pl.lit(None, dtype=pl.String)


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


def explain_warnings(row: dict[str, object], ctx: Context) -> list[Problem]:
    """Words for one loaded row's warnings (cells kept as sent, to be checked by the clerk)."""
    problems = []
    for spec in ctx.item.fields:
        code = row.get(warn(spec.code))
        if code == "row.id_number_masked":
            problems.append(row_problem(str(code), spec))
        elif code == "row.amount_implausible":
            value = str(row.get(norm(spec.code)))
            problems.append(
                row_problem(
                    str(code),
                    spec,
                    value=value,
                    yuan=_yuan(value),
                    limit=ctx.collection.implausible_amount.warn_from,
                )
            )
    return problems


def _yuan(wan: str) -> str:
    """万元 written as 元 for the clerk (30000 万元 → 300,000,000)."""
    from decimal import Decimal, InvalidOperation

    try:
        return f"{Decimal(wan) * 10000:,.2f}".rstrip("0").rstrip(".")
    except InvalidOperation:
        return wan


def shown(value: object) -> str:
    """A cell as a message quotes it: cut to SHOWN_MAX characters."""
    text = "" if value is None else str(value)
    return text if len(text) <= SHOWN_MAX else text[:SHOWN_MAX] + "…"


def _explain_cell(
    code: str, spec: FieldSpec, raw_value: object, row: dict[str, object], ctx: Context
) -> Problem:
    text = shown(raw_value)
    if code == "row.required_if":
        assert spec.required_if is not None
        return row_problem(
            code,
            spec,
            cond_zh=spec.required_if.explain(ctx.item, "zh"),
            cond_en=spec.required_if.explain(ctx.item, "en"),
        )
    if code in ("row.control_char", "row.bidi_char", "row.id_number_in_field"):
        return row_problem(code, spec, narrative=spec.type is FieldType.TEXT)  # never quoted
    if code == "row.enum":
        return row_problem(code, spec, raw=text, values="、".join(spec.enum or ()))
    if code == "row.max_length":
        return row_problem(
            code, spec, max=ctx.max_length(spec), length=len(str(row.get(norm(spec.code)) or ""))
        )
    if code == "row.future_date":
        return row_problem(code, spec, value=row.get(norm(spec.code)), today=ctx.today.isoformat())
    if code == "row.date_too_early":
        return row_problem(
            code,
            spec,
            value=row.get(norm(spec.code)),
            earliest=ctx.collection.earliest_date.value.isoformat(),
        )
    if code == "row.min_value":
        return row_problem(code, spec, value=row.get(norm(spec.code)), min=spec.min_value)
    if code == "row.valid_before_decision":
        decision = ctx.item.date_fields.decision or ""
        return row_problem(code, spec, value=row.get(norm(spec.code)), other=row.get(norm(decision)))
    if code == "row.identifier":
        full = "" if raw_value is None else str(raw_value)
        detail = check_code(full, _SCALAR_KIND.get(spec.identifier or Identifier.USCC), today=ctx.today)
        first = detail.errors[0] if detail.errors else None
        return row_problem(
            code,
            spec,
            raw=shown(_masked_if_personal(full, spec)),
            detail_zh=first.message_zh if first else "不符合编码规则",
            detail_en=first.message_en if first else "does not follow the coding rule",
        )
    return row_problem(
        code, spec, raw=shown(_masked_if_personal("" if raw_value is None else str(raw_value), spec))
    )


def _masked_if_personal(value: str, spec: FieldSpec) -> str:
    from xinyong.security.masking import mask_id_number

    if is_personal_id(spec):
        return mask_id_number(value) or ""
    return value
