"""Every row problem has a stable code and a message that tells a provider's clerk what to fix."""

from __future__ import annotations

from xinyong.catalog.models import FieldSpec
from xinyong.problems import Problem

DATE_FORMATS_ZH = "2021-03-05、2021/3/5、20210305、2021年3月5日 或 Excel 日期"
DATE_FORMATS_EN = "2021-03-05, 2021/3/5, 20210305, 2021年3月5日 or an Excel date"

_TEMPLATES: dict[str, tuple[str, str]] = {
    "row.required": (
        "“{zh}”为必填项，本行为空，请补充后重报",
        "'{en}' is required and empty in this row; fill it in",
    ),
    "row.required_if": (
        "“{zh}”在{cond_zh}时必填，本行为空，请补充后重报",
        "'{en}' is required when {cond_en}; it is empty in this row",
    ),
    "row.control_char": (
        "“{zh}”含有不可见的控制字符（如 NUL 空字符{also_zh}），请删除后重报",
        "'{en}' contains invisible control characters (such as NUL{also_en}); remove them and send again",
    ),
    "row.bidi_char": (
        "“{zh}”含有改变文字显示方向的不可见字符（如 U+202E），显示出来的内容会与实际内容不同，请删除后重报",
        "'{en}' contains invisible characters that change the direction of text (such as U+202E), so "
        "what is shown differs from what is stored; remove them and send again",
    ),
    "row.id_number_in_field": (
        "“{zh}”中含有公民身份号码，此处不应填写身份证号码（为保护个人信息，号码不在此重复）；请核对后重报",
        "'{en}' holds a citizen ID number, which does not belong in this field (it is not repeated "
        "here, to protect it); correct the cell and send again",
    ),
    "row.time": (
        "“{zh}”的值“{raw}”中的时间不存在（时为 0–23，分、秒为 0–59），请改正或只填日期",
        "'{en}' value '{raw}' has a time of day that does not exist (hours 0-23, minutes and seconds "
        "0-59); correct it or give the date only",
    ),
    "row.date_too_early": (
        "“{zh}”为 {value}，早于 {earliest}，不是可能的日期，请核对",
        "'{en}' is {value}, before {earliest}, which is not a plausible date; check it",
    ),
    "row.min_value": (
        "“{zh}”为 {value}，不能小于 {min}{unit_zh}，请核对",
        "'{en}' is {value}; it cannot be less than {min}{unit_en}; check it",
    ),
    "row.date": (
        "“{zh}”的值“{raw}”不是有效日期，请使用 " + DATE_FORMATS_ZH,
        "'{en}' value '{raw}' is not a date; use " + DATE_FORMATS_EN,
    ),
    "row.future_date": (
        "“{zh}”为 {value}，晚于报送当日 {today}，日期不能在未来",
        "'{en}' is {value}, after the day of receipt {today}: it cannot be in the future",
    ),
    "row.valid_before_decision": (
        "“{zh}”为 {value}，早于决定日期 {other}，请核对",
        "'{en}' is {value}, before the decision date {other}; check it",
    ),
    "row.decimal": (
        "“{zh}”的值“{raw}”不是有效金额（最多{scale}位小数{unit_zh}），请只填数字",
        "'{en}' value '{raw}' is not a valid amount (at most {scale} decimals{unit_en}); use digits only",
    ),
    "row.integer": ("“{zh}”的值“{raw}”不是整数", "'{en}' value '{raw}' is not a whole number"),
    "row.enum": (
        "“{zh}”的值“{raw}”不在规定取值内，可选：{values}",
        "'{en}' value '{raw}' is not allowed; use one of: {values}",
    ),
    "row.max_length": (
        "“{zh}”有 {length} 个字符，超过上限 {max} 个字符，请精简",
        "'{en}' has {length} characters, more than its limit of {max}; shorten it",
    ),
    "row.pattern": ("“{zh}”的值“{raw}”格式不正确", "'{en}' value '{raw}' has the wrong format"),
    "row.identifier": ("“{zh}”的值“{raw}”无效：{detail_zh}", "'{en}' value '{raw}' is invalid: {detail_en}"),
    "row.duplicate_in_file": (
        "与本文件第 {first} 行重复（同一{key_zh}），只保留第一行，请删除重复行",
        "duplicates row {first} of this file (same {key_en}); only the first is kept — remove the duplicate",
    ),
    # Who may write the record (collect/ownership.py). Organisations are named; no cell of the row is quoted.
    "row.source_not_permitted": (
        "报送单位“{submitter_name}”（{submitter}）既不是数据来源单位“{source_name}”（{source}）本身，"
        "也不是组织机构树中为其汇集转报的系统，无权新增或更改该单位的记录；本行未入库，该单位的记录未作改动",
        "The submitter {submitter_name} ({submitter}) is neither the data source {source_name} ({source}) "
        "nor a collection system that forwards for it in the organisation tree, so it may not create or "
        "change that source's records; the row was not loaded and nothing of that source changed",
    ),
    "row.source_unregistered": (
        "数据来源单位 {source} 未在平台登记，无法确认报送单位“{submitter_name}”（{submitter}）可以代其报送；"
        "本行未入库。如确由本单位汇集转报，请信用信息中心先登记该单位：xinyong org add --name 单位名称 "
        "--uscc {source} --kind provider --parent {submitter}",
        "The data source {source} is not registered, so nothing shows that the submitter {submitter_name} "
        "({submitter}) may send its records; the row was not loaded. If the submitter does forward for it, "
        "the credit information centre registers it first: xinyong org add --name NAME --uscc {source} "
        "--kind provider --parent {submitter}",
    ),
    "row.subject_changed": (
        "数据来源单位 {source} 已报送过同一{key_zh}的记录，但本行的行政相对人与该记录不同：重报不能更改记录"
        "所指的信用主体，本行未入库，原记录未作改动。请核对{key_zh}和行政相对人；如原记录的主体确有错误，"
        "请联系信用信息中心按更正程序处理",
        "The data source {source} has already sent a record with the same {key_en}, naming another "
        "subject than this row: a re-submission cannot change which subject a record is about, so the row "
        "was not loaded and the record is unchanged. Check the {key_en} and the subject; if the record "
        "names the wrong subject, ask the credit information centre for a correction",
    ),
    # A re-upload of values an objection corrected (collect/correction_guard.py); no value is quoted.
    "row.reverts_correction": (
        "“{zh}”的值与异议 {objection} 更正前的值相同：该字段已按异议处理决定更正，重报旧值不能覆盖更正，"
        "本行未入库，记录保持更正后的值。请更新本单位系统中的该字段；如确有新的决定，请报送新的值",
        "'{en}' has the value that objection {objection} corrected: a re-submission of the old value cannot "
        "undo the correction, so the row was not loaded and the record keeps its corrected value. Update "
        "the field in your own system; if there is a newer decision, send its new value",
    ),
    "row.source_unknown": (
        "数据来源单位统一社会信用代码“{raw}”无效，无法确定记录来源",
        "the data source's USCC '{raw}' is invalid, so the record's source is unknown",
    ),
    # The reader's cell problems (collect/cell_checks.py): they never quote the cell.
    "row.invalid_character": (
        "“{zh}”含有无法保存的字符（空字符 NUL 或残缺的 Unicode 字符），通常是导出程序出错；"
        "请删除这些字符后重报",
        "'{en}' contains characters that cannot be stored (a NUL character or a broken Unicode "
        "character), usually an export fault; remove them and send the row again",
    ),
    "row.cell_too_long": (
        "“{zh}”超过单元格上限 {max} 个字符（Excel 单元格的上限），本行未入库；请精简后重报",
        "'{en}' is longer than the cell limit of {max} characters (Excel's own limit); the row was "
        "not loaded — shorten it and send it again",
    ),
    "row.number_lost_digits": (
        "“{zh}”在 Excel 中被存成了数字：Excel 只保留数字的前 15 位，后面的位已变成 0，无法还原。"
        "请把该列单元格格式设为“文本”，重新录入原值后重报",
        "'{en}' was stored as a number in Excel, which keeps only 15 significant digits: the digits "
        "after the 15th became 0 and cannot be recovered. Format the column as Text, type the original "
        "values again and send the row again",
    ),
}

# Warnings: the row is loaded as sent (an ID number masked), and the clerk is asked to check it.
_TEMPLATES.update(
    {
        "row.id_number_masked": (
            "“{zh}”中含有公民身份号码，已按规定脱敏（只保留前后几位）后入库；今后请勿在此填写身份证号码",
            "'{en}' held a citizen ID number; it was masked (only a few leading and trailing digits kept) "
            "before loading. Do not write ID numbers in this field",
        ),
        "row.amount_implausible": (
            "“{zh}”为 {value} 万元（即 {yuan} 元），不小于 {limit} 万元；已按原值入库，请核实单位是否为万元"
            "（如罚款 3 万元应填 3，而不是 30000）",
            "'{en}' is {value} 万元 ({yuan} yuan), at least {limit} 万元; it was loaded as sent — check "
            "that it is in 万元 (a fine of 30,000 yuan is written 3, not 30000)",
        ),
        "row.name_mismatch": (
            "“{zh}”为“{name}”，与统一社会信用代码 {uscc} 在平台登记的名称“{registered}”不一致；"
            "已按原值入库，请核实",
            "'{en}' is '{name}', which differs from '{registered}', the name registered for the USCC {uscc}; "
            "it was loaded as sent — check it",
        ),
    }
)

# A batch's summary of one warning over many rows (the rows themselves are in the feedback file).
_BATCH_TEMPLATES: dict[str, tuple[str, str]] = {
    "row.id_number_masked": (
        "“{zh}”中含有公民身份号码，已脱敏后入库",
        "'{en}' held a citizen ID number, masked before loading",
    ),
    "row.amount_implausible": (
        "“{zh}”不小于 {limit} 万元，已按原值入库，请核实单位是否为万元",
        "'{en}' is at least {limit} 万元, loaded as sent; check that it is in 万元",
    ),
    "row.name_mismatch": (
        "“{zh}”与统一社会信用代码在平台登记的名称不一致，已按原值入库，请核实",
        "'{en}' differs from the name registered for the USCC, loaded as sent; check it",
    ),
}
ROWS_LISTED = 20  # a batch warning lists this many row numbers, then says how many more


def batch_warning(
    code: str, spec: FieldSpec | None, rows: list[int], count: int, **values: object
) -> Problem:
    """One warning for the batch: what, on which rows (the first ROWS_LISTED), and where the details are."""
    zh, en = _BATCH_TEMPLATES[code]
    fields = {"zh": spec.name_zh if spec else "", "en": spec.name_en if spec else "", **values}
    listed = "、".join(str(r) for r in rows[:ROWS_LISTED])
    listed_en = ", ".join(str(r) for r in rows[:ROWS_LISTED])
    more_zh = f"等 {count} 行" if count > ROWS_LISTED else f"共 {count} 行"
    more_en = f" and more, {count} in all" if count > ROWS_LISTED else f" ({count} in all)"
    return Problem(
        code,
        f"第 {listed} 行（{more_zh}）：{zh.format(**fields)}；详见问题数据反馈文件",
        f"Rows {listed_en}{more_en}: {en.format(**fields)}; see the feedback file",
        spec.code if spec else None,
    )


def row_problem(code: str, spec: FieldSpec | None, **values: object) -> Problem:
    zh, en = _TEMPLATES[code]
    fields: dict[str, object] = {
        "zh": spec.name_zh if spec else "",
        "en": spec.name_en if spec else "",
        "unit_zh": f"，单位：{spec.unit}" if spec and spec.unit else "",
        "unit_en": f", in {spec.unit}" if spec and spec.unit else "",
        "scale": spec.scale if spec and spec.scale is not None else 6,
        **values,
    }
    if code == "row.control_char":  # one-line fields may not break lines either
        narrative = bool(values.get("narrative"))
        fields["also_zh"] = "" if narrative else "、换行符、制表符"
        fields["also_en"] = "" if narrative else ", line breaks or tabs"
    return Problem(code, zh.format(**fields), en.format(**fields), spec.code if spec else None)
