"""Read-only questions about collection, shared by the command line and the API.

Nothing here writes: the batches a provider sent (a page of them, or one batch as it polls after an upload),
the rejected rows behind its feedback file, and the timeliness figures (双公示, docs/domain.md §1) per source
department that later statistics build on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.clock import CHINA
from xinyong.store.tables import batches, organisations, records, rejected_rows, row_warnings


def batch_view(conn: sa.Connection, batch_id: int) -> dict[str, Any] | None:
    """A batch as its submitter sees it: status, counts, warnings and problems; None when unknown.

    Only figures and file-level messages: the rejected rows themselves (which may hold personal data)
    come from `rejected_for_batch`, behind a stronger permission.
    """
    row = (
        conn.execute(
            sa.select(
                batches,
                organisations.c.uscc.label("submitter_uscc"),
                organisations.c.name.label("submitter_name"),
            )
            .join(organisations, organisations.c.id == batches.c.submitter_id)
            .where(batches.c.id == batch_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    report = row["report"] or {}
    states = dict(
        conn.execute(
            sa.select(rejected_rows.c.status, sa.func.count())
            .where(rejected_rows.c.batch_id == batch_id)
            .group_by(rejected_rows.c.status)
        ).all()
    )
    return {
        **_counts(row),
        "encoding": row["encoding"],
        "seconds": report.get("seconds"),
        "rejected_open": int(states.get("open", 0)),
        "rejected_corrected": int(states.get("corrected", 0)),
        "warned_rows": int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(row_warnings)
                .where(row_warnings.c.batch_id == batch_id)
            ).scalar_one()
        ),
        "problems": report.get("problems", []),
        "warnings": report.get("warnings", []),
        "unknown_columns": report.get("unknown_columns", []),
        "finished_at": row["finished_at"],
    }


def _counts(row: sa.RowMapping) -> dict[str, Any]:
    """What every listing of a batch shows: who sent what, when, and how its rows came out."""
    return {
        "batch_id": row["id"],
        "item": row["item_code"],
        "status": row["status"],
        "submitter": {"uscc": row["submitter_uscc"], "name": row["submitter_name"]},
        "filename": row["filename"],
        "format": row["format"],
        "received": row["received"],
        "inserted": row["inserted"],
        "updated": row["updated"],
        "unchanged": row["unchanged"],
        "rejected": row["rejected"],
        "late": (row["report"] or {}).get("late", 0),
        "reconciles": row["received"]
        == row["inserted"] + row["updated"] + row["unchanged"] + row["rejected"],
        "created_at": row["created_at"],
    }


@dataclass(frozen=True)
class BatchPage:
    items: list[dict[str, Any]]  # newest first, each as `_counts` describes it
    next_cursor: int | None  # pass as `before` for the next (older) page; None on the last page
    total: int  # batches matching the filter, over all pages


def list_batches(
    conn: sa.Connection,
    *,
    submitter_uscc: str | None = None,
    item: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> BatchPage:
    """The batches sent by one organisation (None: by every organisation), newest first, a page at a time.

    Keyset paging on the batch id, which only grows: `before` is the previous page's `next_cursor`, so a
    batch arriving while a provider pages through never shifts or repeats a row. An organisation that is
    not registered has sent nothing: an empty page, not an error.
    """
    matching = sa.true()
    if submitter_uscc is not None:
        matching = sa.and_(matching, organisations.c.uscc == submitter_uscc)
    if item is not None:
        matching = sa.and_(matching, batches.c.item_code == item)
    joined = batches.join(organisations, organisations.c.id == batches.c.submitter_id)
    total = conn.execute(sa.select(sa.func.count()).select_from(joined).where(matching)).scalar_one()
    query = (
        sa.select(
            batches,
            organisations.c.uscc.label("submitter_uscc"),
            organisations.c.name.label("submitter_name"),
        )
        .select_from(joined)
        .where(matching)
        .order_by(batches.c.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(batches.c.id < before)
    rows = conn.execute(query).mappings().all()
    page = [_counts(r) for r in rows[:limit]]
    return BatchPage(
        items=page, next_cursor=page[-1]["batch_id"] if len(rows) > limit else None, total=int(total)
    )


def batch_submitter(conn: sa.Connection, batch_id: int) -> str | None:
    """The USCC of the organisation that sent the batch (the owner for permission checks)."""
    return conn.execute(
        sa.select(organisations.c.uscc)
        .join(batches, batches.c.submitter_id == organisations.c.id)
        .where(batches.c.id == batch_id)
    ).scalar()


@dataclass(frozen=True)
class RejectedRow:
    row_number: int
    raw: dict[str, Any]  # the provider's own cells; personal ID numbers still encrypted ("enc:…")
    reasons: list[dict[str, str]]
    status: str
    corrected_by_batch_id: int | None


def rejected_for_batch(conn: sa.Connection, batch_id: int, *, status: str | None = None) -> list[RejectedRow]:
    query = sa.select(rejected_rows).where(rejected_rows.c.batch_id == batch_id)
    if status is not None:
        query = query.where(rejected_rows.c.status == status)
    return [
        RejectedRow(
            row_number=r.row_number,
            raw=dict(r.raw or {}),
            reasons=list(r.reasons or []),
            status=r.status,
            corrected_by_batch_id=r.corrected_by_batch_id,
        )
        for r in conn.execute(query.order_by(rejected_rows.c.row_number, rejected_rows.c.id))
    ]


@dataclass(frozen=True)
class WarnedRow:
    row_number: int
    raw: dict[str, Any]  # the provider's own cells; cells holding an ID number still encrypted ("enc:…")
    reasons: list[dict[str, str]]


def warned_for_batch(conn: sa.Connection, batch_id: int) -> list[WarnedRow]:
    """Rows of the batch that loaded with a warning for the clerk to check (row_warnings)."""
    query = (
        sa.select(row_warnings)
        .where(row_warnings.c.batch_id == batch_id)
        .order_by(row_warnings.c.row_number, row_warnings.c.id)
    )
    return [
        WarnedRow(row_number=r.row_number, raw=dict(r.raw or {}), reasons=list(r.reasons or []))
        for r in conn.execute(query)
    ]


@dataclass(frozen=True)
class Timeliness:
    source_uscc: str
    source_name: str | None  # the organisation's name when it is registered on the platform
    records: int  # records of this source (in the selection)
    measured: int  # of which the working days from decision to receipt are known
    late: int  # of which received after the item's deadline (双公示: 7 working days)
    average_working_days: float | None

    @property
    def late_rate(self) -> float | None:
        return self.late / self.measured if self.measured else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_uscc": self.source_uscc,
            "source_name": self.source_name,
            "records": self.records,
            "measured": self.measured,
            "late": self.late,
            "late_rate": None if self.late_rate is None else round(self.late_rate, 4),
            "average_working_days": (
                None if self.average_working_days is None else round(self.average_working_days, 2)
            ),
        }


def timeliness_by_provider(
    conn: sa.Connection,
    *,
    item: str | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.datetime | None = None,
    source_uscc: str | None = None,
) -> list[Timeliness]:
    """Per source department (数据来源单位, the record's source — not whoever forwarded it): how many records,
    how many late, and the average working days from decision to first receipt.

    `since` selects records first received on or after that day (China Standard Time) or moment, `until`
    before that moment; `source_uscc` one source department. Figures are fixed at first receipt: re-sending
    a record later does not make it late, nor on time.
    """
    r = records
    late = sa.func.sum(sa.case((r.c.late.is_(True), 1), else_=0))
    measured = sa.func.count(r.c.receipt_working_days)
    query = (
        sa.select(
            r.c.source_uscc,
            organisations.c.name,
            sa.func.count().label("records"),
            measured.label("measured"),
            late.label("late"),
            sa.func.avg(r.c.receipt_working_days).label("average"),
        )
        .outerjoin(organisations, organisations.c.uscc == r.c.source_uscc)
        .group_by(r.c.source_uscc, organisations.c.name)
        .order_by(r.c.source_uscc)
    )
    if item is not None:
        query = query.where(r.c.item_code == item)
    if since is not None:
        moment = (
            since if isinstance(since, dt.datetime) else dt.datetime.combine(since, dt.time(0), tzinfo=CHINA)
        )
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA)
        query = query.where(r.c.first_seen >= sa.bindparam("since", moment, type_=r.c.first_seen.type))
    if until is not None:
        query = query.where(r.c.first_seen < sa.bindparam("until", until, type_=r.c.first_seen.type))
    if source_uscc is not None:
        query = query.where(r.c.source_uscc == source_uscc)
    return [
        Timeliness(
            source_uscc=row.source_uscc,
            source_name=row.name,
            records=int(row.records),
            measured=int(row.measured),
            late=int(row.late or 0),
            average_working_days=None if row.average is None else float(row.average),
        )
        for row in conn.execute(query)
    ]
