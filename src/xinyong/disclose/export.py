"""CSV renderings of what the pages and the JSON API show: the same rows, the same order, the same masking.

CSV is written by `xinyong.spreadsheet.csv_text`: with a byte-order mark (the spreadsheet programs used in
government offices read UTF-8 without one as GBK), and with every cell that a spreadsheet would run as a
formula neutralised — record text comes from providers, and a public download must not execute it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from xinyong.catalog.models import Item
from xinyong.clock import CHINA
from xinyong.disclose.lists import ListRow
from xinyong.disclose.models import Disclosure, ShownRecord
from xinyong.disclose.search import SearchResult
from xinyong.disclose.service import display_config
from xinyong.spreadsheet import csv_text

_RECORD_HEADERS = {
    "id": ("记录编号", "record id"),
    "item": ("信息事项", "item"),
    "item_name": ("事项名称", "item name"),
    "level": ("披露方式", "disclosure level"),
    "state": ("状态", "state"),
    "marks": ("标注", "marks"),
    "reason": ("可见原因", "why visible"),
    "visible_until": ("披露至", "visible until"),
    "decision_date": ("决定日期", "decision date"),
    "source_key": ("决定文书号", "decision number"),
    "title": ("摘要", "summary"),
    "source_name": ("数据来源单位", "source department"),
    "source_uscc": ("数据来源单位统一社会信用代码", "source department USCC"),
    "first_collected": ("首次归集", "first collected"),
    "last_updated": ("最近更新", "last updated"),
    "data": ("全部字段(JSON)", "all fields (JSON)"),
}


def _h(key: str, lang: str) -> str:
    zh, en = _RECORD_HEADERS[key]
    return en if lang == "en" else zh


def _marks(record: ShownRecord, lang: str) -> str:
    return "；".join(m.text(lang) for m in record.marks)


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(CHINA).isoformat()
    return value.isoformat() if value is not None else ""


def _record_cells(r: ShownRecord, lang: str) -> list[str]:
    return [
        str(r.id),
        r.item_code,
        r.item_name_en if lang == "en" else r.item_name_zh,
        r.level,
        r.state,
        _marks(r, lang),
        r.reason.text(lang),
        _iso(r.visible_until),
        _iso(r.decision_date),
        r.source_key,
        r.title,
        r.source_name or "",
        r.source_uscc,
        _iso(r.first_collected),
        _iso(r.last_updated),
        json.dumps(r.data, ensure_ascii=False, sort_keys=True),
    ]


def subject_csv(result: Disclosure, lang: str = "zh") -> str:
    """One row per visible record of the subject (every item), in the order of the page and the API."""
    return _write([_h(k, lang) for k in _RECORD_HEADERS], (_record_cells(r, lang) for r in result.records))


def list_csv(rows: Sequence[ListRow], item: Item, lang: str = "zh") -> str:
    """A 双公示 list as the browse page shows it: the subject, the item's list columns, then provenance."""
    columns = display_config().get(item.code, {}).get("columns", [])
    specs = [item.field(code) for code in columns]
    headers = [
        "行政相对人名称" if lang != "en" else "counterparty",
        "主体代码" if lang != "en" else "subject code",
        *[(s.name_en if lang == "en" else s.name_zh) for s in specs],
        _h("source_name", lang),
        _h("first_collected", lang),
        _h("last_updated", lang),
        _h("visible_until", lang),
        _h("marks", lang),
        _h("id", lang),
    ]
    body = (
        [
            row.subject_name,
            row.subject_code,
            *[_cell(row.record.data.get(s.code)) for s in specs],
            row.record.source_name or "",
            _iso(row.record.first_collected),
            _iso(row.record.last_updated),
            _iso(row.record.visible_until),
            _marks(row.record, lang),
            str(row.record.id),
        ]
        for row in rows
    )
    return _write(headers, body)


def search_csv(result: SearchResult, lang: str = "zh") -> str:
    headers = (
        ["code", "name", "kind", "uscc", "division", "match"]
        if lang == "en"
        else ["主体代码", "名称", "主体类型", "统一社会信用代码", "所在地区", "匹配方式"]
    )
    body = ([h.code, h.name, h.kind, h.uscc or "", h.division_name or "", h.match] for h in result.hits)
    return _write(headers, body)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _write(headers: list[str], rows: Iterable[list[str]]) -> str:
    return csv_text(headers, rows)


def attachment(filename: str) -> dict[str, str]:
    """Content-Disposition for a download, Chinese names included (RFC 6266 / 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    }
