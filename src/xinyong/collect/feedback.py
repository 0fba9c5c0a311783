"""问题数据反馈: the rejected rows of a batch, handed back to the provider to fix and send again.

The file speaks the provider's language: its own column headers and cells exactly as it sent them
(personal ID numbers decrypted, since the provider sent them and must correct them), plus 行号 (the row in
the original file) and 问题说明 (every reason, with what to do). The provider fixes those rows and sends
only them back; a later batch that loads the same key marks the rejected row corrected.

Rows that loaded with a warning (an implausible amount, a name unlike the registered one, an ID number
masked in free text) come in the same table, their 问题说明 starting with 【已入库，请核实】: nothing to
send again unless the check finds the value wrong.

CSV is UTF-8 with a BOM so that Excel on a Chinese Windows opens it without mojibake, and a cell that a
spreadsheet would run as a formula (=, +, -, @ ...) gets a quote in front (xinyong.spreadsheet); XLSX writes
every cell as a string, so that ID numbers and codes keep their leading zeros and never become 1.1E+17, and
'=1+1' stays text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.collect.queries import batch_view, rejected_for_batch, warned_for_batch
from xinyong.collect.service import reveal
from xinyong.problems import Problem, ProblemError
from xinyong.runtime import Runtime
from xinyong.spreadsheet import about_sheet, csv_text, text_workbook

Lang = Literal["zh", "en"]
FORMATS = ("csv", "xlsx")
ROW_HEADER = {"zh": "行号", "en": "Row"}
REASON_HEADER = {"zh": "问题说明", "en": "Problems"}
WARNED = {"zh": "【已入库，请核实】", "en": "[loaded — please check] "}
_JOIN = {"zh": "；", "en": "; "}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Feedback:
    batch: dict[str, Any]
    headers: list[str]  # 行号, the provider's columns, 问题说明
    rows: list[list[str]]

    @property
    def filename_stem(self) -> str:
        return f"batch-{self.batch['batch_id']}-{self.batch['item']}-feedback"


def build_feedback(
    conn: sa.Connection,
    batch_id: int,
    runtime: Runtime,
    *,
    lang: Lang = "zh",
    status: str | None = None,
    catalog: Catalog | None = None,
) -> Feedback:
    """The feedback table of one batch, rejected and warned rows in file order; `status="open"` keeps only
    the rejected rows no later batch has corrected yet (what is still to be sent)."""
    batch = batch_view(conn, batch_id)
    if batch is None:
        raise ProblemError(not_found(batch_id))
    rejected = rejected_for_batch(conn, batch_id, status=status)
    warned = warned_for_batch(conn, batch_id) if status is None else []
    columns = _provider_columns([r.raw for r in (*rejected, *warned)], batch["item"], catalog)
    join = _JOIN[lang]
    listed: list[tuple[int, int, list[str]]] = []
    for order, r in enumerate(rejected):
        cells = reveal(r.raw, runtime.protector)
        reasons = join.join(p["message_en"] if lang == "en" else p["message_zh"] for p in r.reasons)
        listed.append(
            (r.row_number, order, [str(r.row_number), *(_text(cells.get(c)) for c in columns), reasons])
        )
    for order, w in enumerate(warned, start=len(rejected)):
        cells = reveal(w.raw, runtime.protector)
        reasons = WARNED[lang] + join.join(
            p["message_en"] if lang == "en" else p["message_zh"] for p in w.reasons
        )
        listed.append(
            (w.row_number, order, [str(w.row_number), *(_text(cells.get(c)) for c in columns), reasons])
        )
    rows = [row for _, _, row in sorted(listed, key=lambda entry: entry[:2])]
    return Feedback(batch=batch, headers=[ROW_HEADER[lang], *columns, REASON_HEADER[lang]], rows=rows)


def render(feedback: Feedback, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(feedback)
    if fmt == "xlsx":
        return to_xlsx(feedback)
    raise ProblemError(
        Problem(
            "feedback.format",
            f"不支持的反馈文件格式“{fmt}”，可选：csv、xlsx",
            f"Unsupported feedback format '{fmt}'; use csv or xlsx",
            field="format",
        )
    )


def to_csv(feedback: Feedback) -> bytes:
    return csv_text(feedback.headers, feedback.rows).encode("utf-8")  # csv_text writes the BOM


def to_xlsx(feedback: Feedback) -> bytes:
    buffer = io.BytesIO()
    book, text, head = text_workbook(buffer)
    problem = book.add_format({"font_color": "#C00000", "text_wrap": True, "num_format": "@"})
    sheet = book.add_worksheet("问题数据")
    last = len(feedback.headers) - 1
    for col, header in enumerate(feedback.headers):
        width = 60 if col == last else max(10, min(40, len(header) * 2 + 2))
        sheet.set_column(col, col, width, problem if col == last else text)
        sheet.write_string(0, col, header, head)
    for row_index, row in enumerate(feedback.rows, start=1):
        for col, value in enumerate(row):
            if value != "":
                sheet.write_string(row_index, col, value, problem if col == last else text)
    sheet.freeze_panes(1, 1)
    if feedback.rows:
        sheet.autofilter(0, 0, len(feedback.rows), last)
    _about_sheet(book, feedback)
    book.close()
    return buffer.getvalue()


def _about_sheet(book: Any, feedback: Feedback) -> None:
    b = feedback.batch
    lines = [
        ("批次 / batch", str(b["batch_id"])),
        ("目录事项 / item", b["item"]),
        ("报送单位 / submitter", f"{b['submitter']['name']} {b['submitter']['uscc']}"),
        ("文件 / file", b["filename"] or ""),
        (
            "行数 / rows",
            f"收到 {b['received']}，新增 {b['inserted']}，更新 {b['updated']}，未变 {b['unchanged']}，"
            f"退回 {b['rejected']} / received {b['received']}, inserted {b['inserted']}, updated "
            f"{b['updated']}, unchanged {b['unchanged']}, rejected {b['rejected']}",
        ),
        (
            "如何处理 / what to do",
            "按“问题说明”逐行修改后，只需重新报送这些行（可删除“行号”“问题说明”两列）。"
            " / Fix each row as its 'Problems' cell says, then send only these rows again "
            "(the 行号 and 问题说明 columns may be deleted).",
        ),
    ]
    about_sheet(book, lines, label_width=24)


def _provider_columns(raws: list[dict[str, Any]], item_code: str, catalog: Catalog | None) -> list[str]:
    """The provider's headers in the catalogue's template order (JSONB keeps no key order), then any
    header the catalogue does not know, in the order first met."""
    seen: dict[str, None] = {}
    for raw in raws:
        seen.update(dict.fromkeys(raw))
    try:
        item = (catalog or load_catalog()).item(item_code)
    except ProblemError:  # an item retired since: keep the order the rows give
        return list(seen)
    position = {f.code: i for i, f in enumerate(item.fields)}
    unknown = len(position)

    def rank(header: str) -> int:
        spec = item.match_header(header)
        return position[spec.code] if spec is not None else unknown

    return sorted(seen, key=rank)  # sorted() is stable: unknown headers keep their first-met order


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def not_found(batch_id: int) -> Problem:
    return Problem(
        "batch.not_found",
        f"批次 {batch_id} 不存在",
        f"There is no batch {batch_id}",
        field="batch_id",
    )
