"""考核通报: each provider's monthly (or any period's) assessment — coverage, timeliness, quality, correction
of returned rows, objection handling — weighted by the policy (`assessment.weights`, `assessment.grades`),
ranked, and exported as XLSX and as a PDF 通报.

Reproducible for a past period: every figure is fixed by what happened up to the period's end — records
counted at first receipt (their `late` flag is set then and never changes), batches by their upload time,
corrections only by batches sent before the end, tasks by their due day and the day they were done. Nothing
is deleted on the platform, so the same month asked again later gives the same table.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.collect.queries import timeliness_by_provider
from xinyong.console import stats
from xinyong.console.periods import Period
from xinyong.console.queries import declared_feeds
from xinyong.documents.pdf import render_pdf
from xinyong.policy.models import ASSESSMENT_INDICATORS, AssessmentPolicy
from xinyong.store.tables import organisations


@dataclass(frozen=True)
class Assessment:
    uscc: str
    name: str
    indicators: dict[str, float | None]  # 0..1, None when there is nothing to measure
    score: float | None  # 0..100
    grade: str | None  # the grade's code
    rank: int | None
    volume: int  # records first received in the period (shown, not scored: size is not merit)


def assess(
    conn: sa.Connection, period: Period, policy: AssessmentPolicy, *, home: Any = None
) -> list[Assessment]:
    feeds = declared_feeds(home, None)
    delivered = stats.batches_by_submitter_item(conn, period, None)
    declared: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for uscc, name, feed in feeds:
        declared.setdefault(uscc, []).append(feed.item)
        names[uscc] = name
    timely = {
        t.source_uscc: t for t in timeliness_by_provider(conn, since=period.start_at, until=period.end_at)
    }
    quality = stats.rejection_by_submitter(conn, period, None)
    corrected = stats.corrections(conn, period, None)
    handled = stats.tasks_by_owner(conn, period)
    everyone = set(declared) | set(timely) | set(quality) | set(handled)
    registered = (
        dict(
            conn.execute(
                sa.select(organisations.c.uscc, organisations.c.name).where(
                    organisations.c.uscc.in_(everyone)
                )
            ).all()
        )
        if everyone
        else {}
    )
    weights = policy.weights.values
    found = []
    for uscc in sorted(everyone):
        items = declared.get(uscc)
        t = timely.get(uscc)
        received, rejected = quality.get(uscc, (0, 0))
        returned, fixed = corrected.get(uscc, (0, 0))
        due, on_time = handled.get(uscc, (0, 0))
        indicators = {
            "coverage": _share(sum(1 for i in items if delivered.get((uscc, i))), len(items))
            if items
            else None,
            "timeliness": _share(t.measured - t.late, t.measured) if t else None,
            "quality": 1 - rejected / received if received else None,
            "correction": _share(fixed, returned),
            "objection_handling": _share(on_time, due),
        }
        found.append(
            (uscc, registered.get(uscc) or names.get(uscc) or uscc, indicators, t.records if t else 0)
        )
    scored = []
    for uscc, name, indicators, volume in found:
        score = weighted_score(indicators, weights)
        grade = next(
            (g.code for g in policy.grades.items if score is not None and score >= g.min_score), None
        )
        scored.append(Assessment(uscc, name, indicators, score, grade, None, volume))
    ranked = sorted(scored, key=lambda a: (a.score is None, -(a.score or 0), a.uscc))
    out, rank = [], 0
    for a in ranked:
        if a.score is not None:
            rank += 1
        out.append(
            Assessment(
                a.uscc,
                a.name,
                a.indicators,
                a.score,
                a.grade,
                rank if a.score is not None else None,
                a.volume,
            )
        )
    return out


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def weighted_score(indicators: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """Σ weight × indicator over the indicators that could be measured, scaled to their weights' sum, ×100."""
    measured = {k: v for k, v in indicators.items() if v is not None and weights.get(k, 0) > 0}
    total = sum(weights[k] for k in measured)
    if not total:
        return None
    return round(100 * sum(weights[k] * v for k, v in measured.items()) / total, 2)


# ------------------------------------------------------------------------------------------- exports


def table(rows: list[Assessment], lang: str) -> tuple[list[str], list[list[Any]]]:
    from xinyong.console.words import word

    headers = [word("rank", lang), word("provider", lang), "USCC", word("records", lang)]
    headers += [word(f"ind_{k}", lang) for k in ASSESSMENT_INDICATORS]
    headers += [word("score", lang), word("grade", lang)]
    cells = [
        [a.rank, a.name, a.uscc, a.volume]
        + [
            None if a.indicators[k] is None else round(100 * a.indicators[k], 2)
            for k in ASSESSMENT_INDICATORS
        ]
        + [a.score, a.grade]
        for a in rows
    ]
    return [str(h) for h in headers], cells


def to_xlsx(rows: list[Assessment], period: Period, policy: AssessmentPolicy, lang: str) -> bytes:
    import xlsxwriter

    headers, cells = table(rows, lang)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet = book.add_worksheet("考核通报")
    sheet.write_string(0, 0, f"信息提供单位考核通报 {period.label}")
    for col, h in enumerate(headers):
        sheet.write_string(2, col, h, head)
    for r, row in enumerate(cells, start=3):
        for c, value in enumerate(row):
            if isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, str(value))
    weights = book.add_worksheet("权重")
    weights.write_string(0, 0, "指标 / indicator")
    weights.write_string(0, 1, "权重 / weight")
    for r, (k, w) in enumerate(policy.weights.values.items(), start=1):
        weights.write_string(r, 0, k)
        weights.write_number(r, 1, w)
    weights.write_string(len(policy.weights.values) + 2, 0, f"来源 / source: {policy.weights.source}")
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, 2, 22)
    book.close()
    return buffer.getvalue()


# The 通报 in the usual official layout: a red-headed title, the issuing body, the number and date line, the
# body text, the ranking table, the grades. Everything that comes from data arrives as JSON in sys.inputs.
TYPST_SOURCE = r"""
#let data = json(bytes(sys.inputs.at("data")))
#set page(paper: "a4", margin: (x: 2.6cm, y: 2.5cm), numbering: "— 1 —", number-align: center)
#set text(font: ("Noto Serif CJK SC", "Noto Sans CJK SC"), size: 10.5pt, lang: "zh")
#set par(leading: 0.9em)
#align(center)[#text(fill: rgb("#c00000"), size: 22pt, weight: "bold", tracking: 0.2em)[#data.issuer]]
#v(0.3em)
#line(length: 100%, stroke: 1.5pt + rgb("#c00000"))
#align(center)[#text(size: 16pt, weight: "bold")[#data.title]]
#align(center)[#data.period_line]
#v(0.6em)
#par(first-line-indent: 2em)[#data.body]
#v(0.6em)
#set text(size: 8.5pt)
#table(
  columns: data.headers.len(),
  align: (x, y) => if x == 1 { left } else { center },
  stroke: 0.5pt,
  table.header(..data.headers.map(h => strong(h))),
  ..data.cells.flatten(),
)
#set text(size: 10pt)
#v(0.6em)
#data.weights_line
#v(0.3em)
#data.grades_line
#v(1.5em)
#align(right)[#data.issuer \ #data.date]
"""


def to_pdf(
    rows: list[Assessment], period: Period, policy: AssessmentPolicy, *, issuer: str, issued_on: str
) -> bytes:
    headers, cells = table(rows, "zh")
    text_cells = [
        ["" if v is None else (f"{v:g}" if isinstance(v, float) else str(v)) for v in row] for row in cells
    ]
    ranked = sum(1 for a in rows if a.score is not None)
    data = {
        "issuer": issuer,
        "title": "关于信息提供单位信用信息归集情况的考核通报",
        "period_line": f"（考核期间：{period.start.isoformat()} 至 {period.last_day.isoformat()}）",
        "body": (
            f"根据信用信息归集考核办法，现将 {period.label} 各信息提供单位的报送覆盖、及时性、数据质量、"
            f"问题数据更正和异议处理情况通报如下。本期共考核 {len(rows)} 个单位，"
            f"其中 {ranked} 个单位有可计算的指标。"
        ),
        "headers": headers,
        "cells": text_cells,
        "weights_line": "权重："
        + "，".join(f"{k} {w:g}" for k, w in policy.weights.values.items())
        + ("（默认值，待确认）" if not policy.weights.confirmed else ""),
        "grades_line": "等级：" + "，".join(f"{g.name_zh} ≥ {g.min_score:g} 分" for g in policy.grades.items),
        "date": issued_on,
    }
    return render_pdf(TYPST_SOURCE, inputs={"data": json.dumps(data, ensure_ascii=False)})
