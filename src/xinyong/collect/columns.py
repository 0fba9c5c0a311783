"""Match a file's column headers to catalogue fields.

Headers match by field code, Chinese name or alias (the catalogue does the tolerant matching). A column
that a never-collect rule forbids refuses the whole file: such data must not even reach the database.
An unknown column is reported and not stored; two columns naming the same field are a refusal too,
because either choice could load the wrong value.

Headers are the file's content too: a file without a header row has data where the header should be. So a
header is shown in a message only through `shown_header` (anything shaped like an ID number masked, long
text cut), and when no column matches at all the headers are not listed: they may well be a person's row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from xinyong.catalog.models import Item
from xinyong.problems import Problem, ProblemError
from xinyong.security.masking import mask_ids_in_text

SHOWN_HEADER_CHARS = 40  # a header is a few words; more is pasted content, which a message must not carry


def shown_header(header: str) -> str:
    """A header as a message, a batch report or the API may show it."""
    text = mask_ids_in_text(header)
    return text if len(text) <= SHOWN_HEADER_CHARS else text[: SHOWN_HEADER_CHARS - 1] + "…"


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
                    f"列“{shown_header(header)}”属于禁止归集的信息（{rule.name_zh}，依据：{rule.source}），"
                    "整个文件不予接收；请删除该列后重新报送",
                    f"Column '{shown_header(header)}' holds information that must not be collected "
                    f"({rule.name_en}; {rule.source}); the whole file is refused — remove the column and "
                    "send again",
                    field=shown_header(header),
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
                    f"列“{shown_header(result.header_for[spec.code])}”和“{shown_header(header)}”"
                    f"都对应字段“{spec.name_zh}”，请只保留一列",
                    f"Columns '{shown_header(result.header_for[spec.code])}' and "
                    f"'{shown_header(header)}' both mean '{spec.name_en}'; keep one",
                    field=spec.code,
                )
            )
            continue
        result.header_for[spec.code] = header
        result.mapped[header] = spec.code
    if result.unknown and result.header_for:
        shown = [shown_header(h) for h in result.unknown]
        result.warnings.append(
            Problem(
                "file.unknown_columns",
                f"以下列不在目录事项“{item.name_zh}”中，未入库：{'、'.join(shown)}",
                f"These columns are not in item '{item.name_en}' and were not stored: {', '.join(shown)}",
            )
        )
    if result.header_for:
        return result
    result.unknown = []  # no header row was found: what stands there may be a person's data
    if not result.refused:
        result.refused.append(
            Problem(
                "file.no_known_columns",
                f"文件前几行中没有一行能对应目录事项“{item.name_zh}”的字段：请使用目录规定的表头"
                f"（如“{item.fields[0].name_zh}”），表头不在前几行时请指定表头所在行号",
                f"No row near the top of the file matches the fields of item '{item.name_en}': use the "
                f"catalogue's headers (e.g. '{item.fields[0].name_zh}'), and name the header row when it "
                "is further down",
            )
        )
    return result


def header_score(item: Item) -> Callable[[Sequence[str | None]], int]:
    """How well a row of the file looks like the item's header: the number of fields its cells name.
    The reader takes the best of the first rows, so a title row above the header is passed over."""

    def score(cells: Sequence[str | None]) -> int:
        found = (item.match_header(str(c)) for c in cells if c not in (None, ""))
        return len({spec.code for spec in found if spec is not None})

    return score
