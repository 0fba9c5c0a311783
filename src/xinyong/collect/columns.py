"""Match a file's column headers to catalogue fields.

Headers match by field code, Chinese name or alias (the catalogue does the tolerant matching). A column
that a never-collect rule forbids refuses the whole file: such data must not even reach the database.
An unknown column is reported and not stored; two columns naming the same field are a refusal too,
because either choice could load the wrong value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xinyong.catalog.models import Item
from xinyong.problems import Problem, ProblemError


@dataclass
class ColumnMap:
    header_for: dict[str, str] = field(default_factory=dict)  # field code -> file header
    mapped: dict[str, str] = field(default_factory=dict)  # file header -> field code
    unknown: list[str] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def raise_if_refused(self) -> None:
        if self.refused:
            raise ProblemError(*self.refused)


def map_columns(headers: list[str], item: Item) -> ColumnMap:
    result = ColumnMap()
    for header in headers:
        rule = item.refuses(header)
        if rule is not None:
            result.refused.append(
                Problem(
                    "file.forbidden_column",
                    f"列“{header}”属于禁止归集的信息（{rule.name_zh}，依据：{rule.source}），整个文件不予接收；"
                    "请删除该列后重新报送",
                    f"Column '{header}' holds information that must not be collected ({rule.name_en}; "
                    f"{rule.source}); the whole file is refused — remove the column and send again",
                    field=header,
                )
            )
            continue
        spec = item.match_header(header)
        if spec is None:
            result.unknown.append(header)
            continue
        if spec.code in result.header_for:
            result.refused.append(
                Problem(
                    "file.duplicate_column",
                    f"列“{result.header_for[spec.code]}”和“{header}”都对应字段“{spec.name_zh}”，请只保留一列",
                    f"Columns '{result.header_for[spec.code]}' and '{header}' both mean "
                    f"'{spec.name_en}'; keep one",
                    field=spec.code,
                )
            )
            continue
        result.header_for[spec.code] = header
        result.mapped[header] = spec.code
    if result.unknown:
        result.warnings.append(
            Problem(
                "file.unknown_columns",
                f"以下列不在目录事项“{item.name_zh}”中，未入库：{'、'.join(result.unknown)}",
                f"These columns are not in item '{item.name_en}' and were not stored: "
                f"{', '.join(result.unknown)}",
            )
        )
    missing = [f for f in item.fields if f.required and f.code not in result.header_for]
    if missing and not result.header_for:
        result.refused.append(
            Problem(
                "file.no_known_columns",
                f"文件中没有一列能对应目录事项“{item.name_zh}”的字段，请使用目录规定的表头（如“{item.fields[0].name_zh}”）",
                f"No column matches a field of item '{item.name_en}'; use the catalogue's headers "
                f"(e.g. '{item.fields[0].name_zh}')",
            )
        )
    return result
