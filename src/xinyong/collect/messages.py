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
        "“{zh}”在{cond}时必填，本行为空，请补充后重报",
        "'{en}' is required when {cond}; it is empty in this row",
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
        "“{zh}”长度超过上限 {max} 个字符，请精简",
        "'{en}' is longer than {max} characters; shorten it",
    ),
    "row.pattern": ("“{zh}”的值“{raw}”格式不正确", "'{en}' value '{raw}' has the wrong format"),
    "row.identifier": ("“{zh}”的值“{raw}”无效：{detail_zh}", "'{en}' value '{raw}' is invalid: {detail_en}"),
    "row.duplicate_in_file": (
        "与本文件第 {first} 行重复（同一{key_zh}），只保留第一行，请删除重复行",
        "duplicates row {first} of this file (same {key_en}); only the first is kept — remove the duplicate",
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
    return Problem(code, zh.format(**fields), en.format(**fields), spec.code if spec else None)
