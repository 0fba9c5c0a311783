"""The 双公示 lists: every licence and penalty in publicity, newest first, filtered and paged by keyset.

Each row is judged by `service.assess`, the same per-record rule the subject page uses, so a record is in
the list exactly when it is on its subject's public page. Paging is by keyset on (decision date, id),
never OFFSET, so page 1,000 costs what page 1 does. The work per request is bounded: ids come from an
index in small batches, filters that no index serves (category, region, state) are applied to a batch at a
time, and a request stops after examining `scan` records — it then answers with what it found, says the
page is incomplete, and hands back a cursor to continue from. Nothing scans the whole table.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from xinyong.catalog.loader import Catalog
from xinyong.catalog.models import FieldType, Item
from xinyong.clock import Clock
from xinyong.codes.normalize import normalize_code
from xinyong.disclose.limits import QueryRefused
from xinyong.disclose.models import Audience, ShownRecord
from xinyong.disclose.service import (
    assess,
    audience_levels,
    display_config,
    level_of,
    public_code,
    record_facts,
    shown_record,
    shown_subject_name,
    source_names,
)
from xinyong.policy import Policy, add_months
from xinyong.store.tables import records
from xinyong.subjects.models import subjects

BATCH = 100
_REGION = re.compile(r"^\d{2}(\d{2}){0,2}$")
_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(\d{1,18})$")  # a record id fits a signed 64-bit integer


@dataclass(frozen=True)
class ListFilter:
    item: str
    provider: str | None = None  # 数据来源单位 USCC
    date_from: dt.date | None = None  # decision date, inclusive
    date_to: dt.date | None = None
    category: str | None = None  # a value of the item's category field (display.yaml `category`)
    region: str | None = None  # the department's division: 42, 4201 or 420102 (from its USCC)

    def query_params(self) -> dict[str, str]:
        """The filter as the query string of the page, the API and the exports (one vocabulary for all)."""
        params = {
            "item": self.item,
            "provider": self.provider,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "category": self.category,
            "region": self.region,
        }
        return {k: v for k, v in params.items() if v}


@dataclass
class ListRow:
    record: ShownRecord
    subject_code: str
    subject_name: str
    subject_kind: str

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.record.as_dict(),
            "subject": {"code": self.subject_code, "name": self.subject_name, "kind": self.subject_kind},
        }


@dataclass
class Page:
    rows: list[ListRow] = field(default_factory=list)
    next_cursor: str | None = None
    scanned: int = 0
    complete: bool = True  # False: the scan limit was reached before the page filled
    took_ms: float = 0.0


def check_filter(flt: ListFilter, catalog: Catalog, *, audience: Audience) -> Item:
    """The filter's item, or a refusal naming what is wrong (unknown item, not listable, bad values)."""
    try:
        item = catalog.item(flt.item)
    except KeyError:
        raise QueryRefused(
            "list.unknown_item",
            f"没有目录事项 {flt.item}；可选：{'、'.join(catalog.codes)}",
            f"no catalogue item {flt.item}; one of {', '.join(catalog.codes)}",
            status=404,
        ) from None
    if level_of(item) not in audience_levels(audience) or not item.date_fields.decision:
        raise QueryRefused(
            "list.not_listable",
            f"目录事项 {item.code}（{item.name_zh}）不向社会公众列表公示",
            f"catalogue item {item.code} ({item.name_en}) is not listed publicly",
            status=404,
        )
    if flt.region and not _REGION.match(flt.region):
        raise QueryRefused(
            "list.region", "地区须为 2、4 或 6 位行政区划代码", "region is a 2-, 4- or 6-digit division code"
        )
    if flt.date_from and flt.date_to and flt.date_from > flt.date_to:
        raise QueryRefused("list.dates", "起始日期晚于截止日期", "the start date is after the end date")
    category_field = display_config().get(item.code, {}).get("category")
    if flt.category:
        spec = item.get_field(category_field) if category_field else None
        if spec is None or flt.category not in (spec.enum or ()):
            allowed = "、".join(spec.enum or ()) if spec else ""
            raise QueryRefused(
                "list.category",
                f"类别“{flt.category}”不是该事项的取值{('：' + allowed) if allowed else ''}",
                f"category {flt.category!r} is not a value of this item",
            )
    return item


def publicity_list(
    conn: sa.Connection,
    flt: ListFilter,
    *,
    catalog: Catalog,
    policy: Policy,
    clock: Clock,
    audience: Audience = "public",
    limit: int = 20,
    cursor: str | None = None,
    scan: int = 2000,
    text_limit: int | None = None,
) -> Page:
    """One page of the list; each text field cut at `text_limit` characters (the notice shows it whole)."""
    started = time.perf_counter()
    item = check_filter(flt, catalog, audience=audience)
    today = clock.today()
    floor = public_floor(item, policy, today, audience)
    page = Page()
    position = _parse_cursor(cursor)
    up_to = level_of(item)
    exhausted = False
    while len(page.rows) < limit and not exhausted:
        if page.scanned >= scan:
            page.complete = False
            break
        want = min(BATCH, scan - page.scanned)
        batch = _ids(conn, flt, position, want, floor)
        exhausted = len(batch) < want
        if not batch:
            break
        page.scanned += len(batch)
        position = batch[-1]
        rows = _details(conn, flt, item, [i for _, i in batch])
        names = source_names(conn, rows, catalog)
        for row in rows:
            facts_person = row.kind == "natural_person"
            facts = record_facts(
                row, item, natural_person=facts_person, source_name=names.get(row.source_uscc)
            )
            verdict = assess(
                facts, item, row.state, audience=audience, up_to=up_to, today=today, policy=policy
            )
            if not verdict.visible:
                continue
            shown = shown_record(
                row,
                item,
                facts,
                verdict,
                audience=audience,
                subject_kind=row.kind,
                policy=policy,
                text_limit=text_limit,
            )
            name = shown_subject_name(row.name, row.kind, audience, policy)
            code = public_code({"uscc": row.uscc, "public_ref": row.public_ref})
            page.rows.append(ListRow(shown, code, name or "", row.kind))
            if len(page.rows) >= limit:
                # Continue after this row: the rest of the batch is examined again by the next page.
                position = (row.decision_date, row.id)
                exhausted = False
                break
    if exhausted or position is None:
        page.next_cursor = None
    else:
        page.next_cursor = f"{position[0].isoformat()}.{position[1]}"
    page.took_ms = (time.perf_counter() - started) * 1000
    return page


@dataclass(frozen=True)
class Total:
    """How many records a list holds today: `count` exactly, or at least `count` when `exact` is False (the
    count stops after examining its budget of records)."""

    count: int
    exact: bool

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.count, "total_exact": self.exact}


_TOTALS: dict[tuple[Any, ...], tuple[float, Total]] = {}
TOTALS_TTL = 60.0


def count_list(
    conn: sa.Connection,
    flt: ListFilter,
    *,
    catalog: Catalog,
    policy: Policy,
    clock: Clock,
    audience: Audience = "public",
    budget: int = 10_000,
) -> Total:
    """The number of records in the list for this filter today, judged one by one as the pages are (so the
    count and the pages agree), examining at most `budget` records; cached a minute per filter, day and
    newest record."""
    item = check_filter(flt, catalog, audience=audience)
    today = clock.today()
    newest = conn.execute(sa.select(sa.func.max(records.c.id))).scalar()
    key = (str(conn.engine.url), tuple(sorted(flt.query_params().items())), audience, today, newest, budget)
    cached = _TOTALS.get(key)
    if cached and time.monotonic() - cached[0] < TOTALS_TTL:
        return cached[1]
    if len(_TOTALS) > 256:
        _TOTALS.clear()
    up_to = level_of(item)
    floor = public_floor(item, policy, today, audience)
    position: tuple[dt.date, int] | None = None
    count = examined = 0
    exact = False
    while True:
        batch = _ids(conn, flt, position, BATCH, floor)
        examined += len(batch)
        rows = _details(conn, flt, item, [i for _, i in batch]) if batch else []
        names = source_names(conn, rows, catalog)
        for row in rows:
            person = row.kind == "natural_person"
            facts = record_facts(row, item, natural_person=person, source_name=names.get(row.source_uscc))
            verdict = assess(
                facts, item, row.state, audience=audience, up_to=up_to, today=today, policy=policy
            )
            count += verdict.visible
        if len(batch) < BATCH:
            exact = True
            break
        if examined >= budget:
            break
        position = batch[-1]
    total = Total(count, exact)
    _TOTALS[key] = (time.monotonic(), total)
    return total


def _parse_cursor(cursor: str | None) -> tuple[dt.date, int] | None:
    if not cursor:
        return None
    match = _CURSOR.match(cursor)
    try:
        if match:
            return dt.date.fromisoformat(match.group(1)), int(match.group(2))
    except ValueError:  # 2026-13-45, 0000-01-01: the shape of a date, not a date
        pass
    raise QueryRefused(
        "list.cursor",
        "翻页参数（cursor）无效：请从列表第一页重新翻页，使用上一页返回的“下一页”链接",
        "The cursor is not valid: start again from the first page and follow the 'next' link it returns",
    )


def public_floor(item: Item, policy: Policy, today: dt.date, audience: Audience) -> dt.date | None:
    """The earliest decision date a record the public sees can have: the 5-year adverse limit binds every
    period rule (periods.py), so a penalty decided before it is archived whatever its rule — the list never
    wades through years of archive. None where no such bound holds (an item whose act may go on)."""
    if audience != "public" or not item.category.is_adverse or item.date_fields.act_end is not None:
        return None
    months = policy.disclosure.adverse_default_5y.months
    if months is None:  # a limit in days
        return today - dt.timedelta(days=policy.disclosure.adverse_default_5y.value + 1)
    return add_months(today, -months) - dt.timedelta(days=1)  # a day early: the month-end clamp


def _ids(
    conn: sa.Connection,
    flt: ListFilter,
    after: tuple[dt.date, int] | None,
    n: int,
    floor: dt.date | None = None,
) -> list[tuple[dt.date, int]]:
    """The next `n` record ids in list order, from an index alone (item or department, decision date)."""
    r = records
    query = sa.select(r.c.decision_date, r.c.id).where(
        r.c.item_code == flt.item, r.c.decision_date.is_not(None)
    )
    if floor is not None:
        query = query.where(r.c.decision_date >= floor)
    if flt.provider:
        query = query.where(r.c.source_uscc == normalize_code(flt.provider))
    if flt.date_from:
        query = query.where(r.c.decision_date >= flt.date_from)
    if flt.date_to:
        query = query.where(r.c.decision_date <= flt.date_to)
    if after:
        query = query.where(
            sa.or_(r.c.decision_date < after[0], sa.and_(r.c.decision_date == after[0], r.c.id < after[1]))
        )
    query = query.order_by(r.c.decision_date.desc(), r.c.id.desc()).limit(n)
    return [(d, i) for d, i in conn.execute(query)]


def _details(conn: sa.Connection, flt: ListFilter, item: Item | None, ids: list[int]) -> list[Any]:
    r, s = records, subjects
    query = (
        sa.select(
            r.c.id,
            r.c.item_code,
            r.c.source_uscc,
            r.c.source_key,
            r.c.state,
            r.c.decision_date,
            r.c.valid_until,
            r.c.act_end_date,
            r.c.receipt_working_days,
            r.c.data,
            r.c.first_seen,
            r.c.updated_at,
            r.c.subject_id,
            s.c.kind,
            s.c.name,
            s.c.uscc,
            s.c.public_ref,
        )
        .join(s, s.c.id == r.c.subject_id)
        .where(r.c.id.in_(ids))
    )
    if flt.region:
        query = query.where(sa.func.substr(r.c.source_uscc, 3, len(flt.region)) == flt.region)
    category_field = display_config().get(item.code, {}).get("category") if item else None
    if item is not None and flt.category and category_field:
        value = r.c.data[category_field].as_string()
        spec = item.field(category_field)
        if spec.type is FieldType.MULTI_ENUM:
            query = query.where(sa.literal(";").concat(value).concat(";").contains(f";{flt.category};"))
        else:
            query = query.where(value == flt.category)
    rows = conn.execute(query).all()
    rows.sort(key=lambda row: (row.decision_date, row.id), reverse=True)
    return rows


_DEPARTMENTS: dict[tuple[str, str, int | None], tuple[float, list[dict[str, str]]]] = {}
DEPARTMENTS_TTL = 600.0


def departments(conn: sa.Connection, item: Item, catalog: Catalog) -> list[dict[str, str]]:
    """The departments that provided records of this item (for the list's filter), cached a few minutes.

    A loose index scan (one seek per department on ix_records_source_item_decision) instead of SELECT
    DISTINCT over millions of rows."""
    # Keyed by the newest record too: a new batch (or another database behind the same URL) is seen at once.
    newest = conn.execute(sa.select(sa.func.max(records.c.id))).scalar()
    key = (str(conn.engine.url), item.code, newest)
    cached = _DEPARTMENTS.get(key)
    if cached and time.monotonic() - cached[0] < DEPARTMENTS_TTL:
        return cached[1]
    if len(_DEPARTMENTS) > 64:
        _DEPARTMENTS.clear()
    found: list[dict[str, str]] = []
    current = conn.execute(sa.select(sa.func.min(records.c.source_uscc))).scalar()
    while current is not None:
        sample = conn.execute(
            sa.select(records.c.id, records.c.item_code, records.c.source_uscc, records.c.data)
            .where(records.c.source_uscc == current, records.c.item_code == item.code)
            .limit(1)
        ).first()
        if sample is not None:
            name = source_names(conn, [sample], catalog).get(current, current)
            found.append({"uscc": current, "name": name})
        current = conn.execute(
            sa.select(sa.func.min(records.c.source_uscc)).where(records.c.source_uscc > current)
        ).scalar()
    found.sort(key=lambda d: d["name"])
    _DEPARTMENTS[key] = (time.monotonic(), found)
    return found


def notice(
    conn: sa.Connection, record_id: int, *, catalog: Catalog, policy: Policy, clock: Clock
) -> dict[str, Any]:
    """One record as the public sees it (its 公示 notice); QueryRefused 404 when it is not in publicity."""
    rows = _details(conn, ListFilter(item=""), None, [record_id])
    row = rows[0] if rows else None
    item = catalog.item(row.item_code) if row is not None and row.item_code in catalog.codes else None
    if row is not None and item is not None:
        person = row.kind == "natural_person"
        names = source_names(conn, rows, catalog)
        facts = record_facts(row, item, natural_person=person, source_name=names.get(row.source_uscc))
        verdict = assess(
            facts, item, row.state, audience="public", up_to="public", today=clock.today(), policy=policy
        )
        if verdict.visible:
            shown = shown_record(
                row, item, facts, verdict, audience="public", subject_kind=row.kind, policy=policy
            )
            code = public_code({"uscc": row.uscc, "public_ref": row.public_ref})
            name = shown_subject_name(row.name, row.kind, "public", policy)
            return ListRow(shown, code, name or "", row.kind).as_dict()
    raise QueryRefused(
        "record.not_public",
        f"编号为 {record_id} 的记录不存在或不在公示期内",
        f"record {record_id} does not exist or is not in publicity",
        status=404,
    )
