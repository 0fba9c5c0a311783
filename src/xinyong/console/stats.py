"""The console's statistics: every figure is a GROUP BY in the database, never a loop over rows in Python.

Each dashboard is a `Figure`: a title, its columns and rows (the table under the chart, and the CSV/XLSX
download), and how to draw it (`chart`: which column is the category, which the values). A provider's
clerk asks with `organisation` = its own USCC and sees only its own figures; the credit office passes None.

Timeliness is the share of records received within the policy's working days (`timeliness.publish_within`
for 双公示 items, measured at first receipt in `records.late` by collect — this module only counts). The
application chapter's figures (checks and their feedback rate) come from `apply/figures.py`, built in
parallel: `APPLY_FIGURES` is the slot they plug into.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from xinyong.apply.models import list_entries
from xinyong.collect.queries import timeliness_by_provider
from xinyong.console.periods import Period
from xinyong.deadlines.models import deadline_tasks
from xinyong.security.models import query_log
from xinyong.store.tables import batches, organisations, records, rejected_rows


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    numeric: bool = False


@dataclass(frozen=True)
class Figure:
    name: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    chart: dict[str, Any] = field(default_factory=dict)  # {"type": bar|line|pie, "x": key, "y": [keys]}

    def title(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def headers(self, lang: str) -> list[str]:
        return [c.en if lang == "en" else c.zh for c in self.columns]

    def cells(self) -> list[list[Any]]:
        return [[row.get(c.key) for c in self.columns] for row in self.rows]


def month_of(column: Any, dialect: str) -> Any:
    """The China-time month (YYYY-MM) of a UTC moment column, computed by the database."""
    if dialect == "sqlite":
        return sa.func.strftime("%Y-%m", column, "+8 hours")
    return sa.func.to_char(sa.func.timezone("Asia/Shanghai", column), "YYYY-MM")


def _moment(value: dt.datetime, column: Any) -> Any:
    return sa.bindparam(None, value, type_=column.type)


def _in(period: Period, column: Any) -> Any:
    return sa.and_(column >= _moment(period.start_at, column), column < _moment(period.end_at, column))


def _rate(part: int | None, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


# ------------------------------------------------------------------------------------------- records


def records_by_item(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    query = sa.select(records.c.item_code, sa.func.count().label("n")).where(
        _in(period, records.c.first_seen)
    )
    if organisation is not None:
        query = query.where(records.c.source_uscc == organisation)
    rows = conn.execute(query.group_by(records.c.item_code).order_by(records.c.item_code)).all()
    return Figure(
        "records_by_item",
        "按目录事项统计的归集记录数",
        "Records received by catalogue item",
        (Column("item", "目录事项", "Item"), Column("records", "记录数", "Records", True)),
        [{"item": r.item_code, "records": int(r.n)} for r in rows],
        {"type": "bar", "x": "item", "y": ["records"]},
    )


def records_by_provider(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    query = (
        sa.select(records.c.source_uscc, organisations.c.name, sa.func.count().label("n"))
        .outerjoin(organisations, organisations.c.uscc == records.c.source_uscc)
        .where(_in(period, records.c.first_seen))
        .group_by(records.c.source_uscc, organisations.c.name)
        .order_by(sa.func.count().desc(), records.c.source_uscc)
    )
    if organisation is not None:
        query = query.where(records.c.source_uscc == organisation)
    return Figure(
        "records_by_provider",
        "按数据来源单位统计的归集记录数",
        "Records received by source department",
        (
            Column("provider", "数据来源单位", "Source department"),
            Column("uscc", "统一社会信用代码", "USCC"),
            Column("records", "记录数", "Records", True),
        ),
        [
            {"provider": r.name or r.source_uscc, "uscc": r.source_uscc, "records": int(r.n)}
            for r in conn.execute(query)
        ],
        {"type": "bar", "x": "provider", "y": ["records"]},
    )


def records_by_month(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    month = month_of(records.c.first_seen, conn.dialect.name).label("month")
    query = sa.select(month, sa.func.count().label("n")).where(_in(period, records.c.first_seen))
    if organisation is not None:
        query = query.where(records.c.source_uscc == organisation)
    rows = conn.execute(query.group_by(month).order_by(month)).all()
    return Figure(
        "records_by_month",
        "按月统计的归集记录数",
        "Records received by month",
        (Column("month", "月份", "Month"), Column("records", "记录数", "Records", True)),
        [{"month": r.month, "records": int(r.n)} for r in rows],
        {"type": "line", "x": "month", "y": ["records"]},
    )


# ------------------------------------------------------------------------------ timeliness and quality


def timeliness_ranking(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    """Each source department's share of records received within the working days of the rule, best
    first; its batches' rejection rate beside it (rows rejected / rows received, by submitter)."""
    found = timeliness_by_provider(conn, since=period.start_at, until=period.end_at, source_uscc=organisation)
    rejection = rejection_by_submitter(conn, period, organisation)
    rows = []
    for t in found:
        on_time = t.measured - t.late
        received, rejected = rejection.get(t.source_uscc, (0, 0))
        rows.append(
            {
                "provider": t.source_name or t.source_uscc,
                "uscc": t.source_uscc,
                "records": t.records,
                "measured": t.measured,
                "on_time": on_time,
                "timeliness": _rate(on_time, t.measured),
                "rows_received": received,
                "rows_rejected": rejected,
                "rejection_rate": _rate(rejected, received),
            }
        )
    rows.sort(key=lambda r: (-(r["timeliness"] if r["timeliness"] is not None else -1), r["uscc"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return Figure(
        "timeliness",
        "报送及时率与退回率排名",
        "Timeliness and rejection rate, ranked",
        (
            Column("rank", "名次", "Rank", True),
            Column("provider", "数据来源单位", "Source department"),
            Column("uscc", "统一社会信用代码", "USCC"),
            Column("records", "记录数", "Records", True),
            Column("measured", "可计算时限的记录", "Measured", True),
            Column("on_time", "按时报送", "On time", True),
            Column("timeliness", "及时率", "Timeliness", True),
            Column("rows_received", "报送行数", "Rows sent", True),
            Column("rows_rejected", "退回行数", "Rows rejected", True),
            Column("rejection_rate", "退回率", "Rejection rate", True),
        ),
        rows,
        {"type": "bar", "x": "provider", "y": ["timeliness", "rejection_rate"]},
    )


def rejection_by_submitter(
    conn: sa.Connection, period: Period, organisation: str | None
) -> dict[str, tuple[int, int]]:
    """USCC → (rows received, rows rejected) over the batches that organisation sent in the period."""
    query = (
        sa.select(
            organisations.c.uscc,
            sa.func.coalesce(sa.func.sum(batches.c.received), 0).label("received"),
            sa.func.coalesce(sa.func.sum(batches.c.rejected), 0).label("rejected"),
        )
        .join(organisations, organisations.c.id == batches.c.submitter_id)
        .where(_in(period, batches.c.created_at), batches.c.status != "refused")
        .group_by(organisations.c.uscc)
    )
    if organisation is not None:
        query = query.where(organisations.c.uscc == organisation)
    return {r.uscc: (int(r.received), int(r.rejected)) for r in conn.execute(query)}


def batches_by_submitter_item(
    conn: sa.Connection, period: Period, organisation: str | None
) -> dict[tuple[str, str], int]:
    """(submitter USCC, item) → batches that loaded in the period (a refused file is not a delivery)."""
    query = (
        sa.select(organisations.c.uscc, batches.c.item_code, sa.func.count().label("n"))
        .join(organisations, organisations.c.id == batches.c.submitter_id)
        .where(_in(period, batches.c.created_at), batches.c.status == "done")
        .group_by(organisations.c.uscc, batches.c.item_code)
    )
    if organisation is not None:
        query = query.where(organisations.c.uscc == organisation)
    return {(r.uscc, r.item_code): int(r.n) for r in conn.execute(query)}


def coverage(
    conn: sa.Connection, period: Period, organisation: str | None, declared: list[tuple[str, str, str]]
) -> Figure:
    """Against the feed declarations: for each provider, how many of its declared feeds (provider, item)
    delivered at least one batch in the period. `declared` is (uscc, name, item) from collect/feeds.yaml."""
    delivered = batches_by_submitter_item(conn, period, organisation)
    per: dict[str, dict[str, Any]] = {}
    for uscc, name, item in declared:
        if organisation is not None and uscc != organisation:
            continue
        row = per.setdefault(
            uscc, {"provider": name, "uscc": uscc, "declared": 0, "received": 0, "missing": []}
        )
        row["declared"] += 1
        if delivered.get((uscc, item)):
            row["received"] += 1
        else:
            row["missing"].append(item)
    rows = []
    for row in per.values():
        rows.append(
            {**row, "coverage": _rate(row["received"], row["declared"]), "missing": "、".join(row["missing"])}
        )
    rows.sort(key=lambda r: (-(r["coverage"] or 0), r["uscc"]))
    return Figure(
        "coverage",
        "报送覆盖率（对照报送声明）",
        "Coverage against the feed declarations",
        (
            Column("provider", "信息提供单位", "Provider"),
            Column("uscc", "统一社会信用代码", "USCC"),
            Column("declared", "声明事项", "Declared feeds", True),
            Column("received", "已报送", "Delivered", True),
            Column("coverage", "覆盖率", "Coverage", True),
            Column("missing", "未报送事项", "Not delivered"),
        ),
        rows,
        {"type": "bar", "x": "provider", "y": ["coverage"]},
    )


# ------------------------------------------------------------------------- the other chapters' figures


def tasks_on_time(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    """Objections, repairs and list notices (the deadline engine's tasks) due in the period: done on time,
    done late, overdue, still open."""
    t = deadline_tasks
    kind = t.c.matter_kind
    on_time = sa.func.sum(sa.case((sa.and_(t.c.state == "done", t.c.late.is_not(True)), 1), else_=0))
    late = sa.func.sum(sa.case((sa.and_(t.c.state == "done", t.c.late.is_(True)), 1), else_=0))
    overdue = sa.func.sum(sa.case((t.c.state == "overdue", 1), else_=0))
    still_open = sa.func.sum(sa.case((t.c.state == "open", 1), else_=0))
    query = (
        sa.select(
            kind,
            sa.func.count().label("n"),
            on_time.label("on_time"),
            late.label("late"),
            overdue.label("overdue"),
            still_open.label("open"),
        )
        .where(t.c.due_on >= period.start, t.c.due_on < period.end, t.c.state != "cancelled")
        .group_by(kind)
        .order_by(kind)
    )
    if organisation is not None:
        query = query.where(t.c.owner_kind == "organisation", t.c.owner_uscc == organisation)
    rows = [
        {
            "kind": r.matter_kind,
            "tasks": int(r.n),
            "on_time": int(r.on_time or 0),
            "late": int(r.late or 0),
            "overdue": int(r.overdue or 0),
            "open": int(r.open or 0),
            "on_time_rate": _rate(int(r.on_time or 0), int(r.n)),
        }
        for r in conn.execute(query)
    ]
    return Figure(
        "tasks",
        "异议、修复、名单告知按期办理情况",
        "Objections, repairs and list notices handled on time",
        (
            Column("kind", "事项", "Matter"),
            Column("tasks", "到期任务", "Tasks due", True),
            Column("on_time", "按期办结", "Done on time", True),
            Column("late", "逾期办结", "Done late", True),
            Column("overdue", "已超期", "Overdue", True),
            Column("open", "办理中", "Open", True),
            Column("on_time_rate", "按期率", "On-time rate", True),
        ),
        rows,
        {"type": "bar", "x": "kind", "y": ["on_time", "late", "overdue", "open"]},
    )


def list_entries_by_type(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    e = list_entries
    query = (
        sa.select(e.c.list_type, e.c.state, sa.func.count().label("n"))
        .where(e.c.noticed_on >= period.start, e.c.noticed_on < period.end)
        .group_by(e.c.list_type, e.c.state)
        .order_by(e.c.list_type, e.c.state)
    )
    if organisation is not None:
        query = query.where(e.c.proposed_by_uscc == organisation)
    rows = [{"list_type": r.list_type, "state": r.state, "entries": int(r.n)} for r in conn.execute(query)]
    return Figure(
        "list_entries",
        "红黑名单条目（按告知日期）",
        "Red and black list entries (by notice date)",
        (
            Column("list_type", "名单类型", "List"),
            Column("state", "状态", "State"),
            Column("entries", "条目数", "Entries", True),
        ),
        rows,
        {"type": "bar", "x": "list_type", "y": ["entries"]},
    )


def queries_by_audience(conn: sa.Connection, period: Period, organisation: str | None) -> Figure:
    q = query_log
    query = (
        sa.select(q.c.audience, q.c.channel, sa.func.count().label("n"))
        .where(_in(period, q.c.at))
        .group_by(q.c.audience, q.c.channel)
        .order_by(q.c.audience, q.c.channel)
    )
    if organisation is not None:
        query = query.where(
            q.c.organisation_id
            == sa.select(organisations.c.id).where(organisations.c.uscc == organisation).scalar_subquery()
        )
    rows = [{"audience": r.audience, "channel": r.channel, "queries": int(r.n)} for r in conn.execute(query)]
    return Figure(
        "queries",
        "按查询对象统计的查询量",
        "Queries by audience",
        (
            Column("audience", "查询对象", "Audience"),
            Column("channel", "渠道", "Channel"),
            Column("queries", "查询次数", "Queries", True),
        ),
        rows,
        {"type": "pie", "x": "audience", "y": ["queries"]},
    )


def corrections(conn: sa.Connection, period: Period, organisation: str | None) -> dict[str, tuple[int, int]]:
    """USCC → (rows rejected in the period's batches, of which corrected by a batch sent before the
    period's end). Counting only corrections up to the end keeps a past month's figure the same later."""
    correcting = batches.alias("correcting")
    corrected = sa.func.sum(
        sa.case(
            (
                sa.and_(
                    rejected_rows.c.status == "corrected",
                    correcting.c.created_at < _moment(period.end_at, correcting.c.created_at),
                ),
                1,
            ),
            else_=0,
        )
    )
    query = (
        sa.select(organisations.c.uscc, sa.func.count().label("n"), corrected.label("corrected"))
        .select_from(rejected_rows)
        .join(batches, batches.c.id == rejected_rows.c.batch_id)
        .join(organisations, organisations.c.id == batches.c.submitter_id)
        .outerjoin(correcting, correcting.c.id == rejected_rows.c.corrected_by_batch_id)
        .where(_in(period, batches.c.created_at))
        .group_by(organisations.c.uscc)
    )
    if organisation is not None:
        query = query.where(organisations.c.uscc == organisation)
    return {r.uscc: (int(r.n), int(r.corrected or 0)) for r in conn.execute(query)}


def tasks_by_owner(conn: sa.Connection, period: Period) -> dict[str, tuple[int, int]]:
    """Organisation USCC → (its deadline tasks due in the period, of which done on time by the period's
    end). A task still open at the end counts as not on time only once its due day has passed."""
    t = deadline_tasks
    on_time = sa.func.sum(
        sa.case((sa.and_(t.c.state == "done", t.c.late.is_not(True), t.c.done_on < period.end), 1), else_=0)
    )
    query = (
        sa.select(t.c.owner_uscc, sa.func.count().label("n"), on_time.label("on_time"))
        .where(
            t.c.owner_kind == "organisation",
            t.c.due_on >= period.start,
            t.c.due_on < period.end,
            t.c.state != "cancelled",
        )
        .group_by(t.c.owner_uscc)
    )
    return {r.owner_uscc: (int(r.n), int(r.on_time or 0)) for r in conn.execute(query)}


# The application chapter's figures (checks by matter, the feedback rate) are built in apply/figures.py by
# another change; when it lands, its functions are added here with the same signature and appear on the
# dashboard page. Until then the page says the figure is not available yet.
APPLY_FIGURES: tuple[Callable[[sa.Connection, Period, str | None], Figure], ...] = ()

DASHBOARDS: dict[str, Callable[..., Figure]] = {
    "records_by_item": records_by_item,
    "records_by_provider": records_by_provider,
    "records_by_month": records_by_month,
    "timeliness": timeliness_ranking,
    "tasks": tasks_on_time,
    "list_entries": list_entries_by_type,
    "queries": queries_by_audience,
}
