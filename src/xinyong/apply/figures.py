"""The application chapter's figures, for the statistics pages: every number an SQL aggregate, no per-row
Python (a province makes millions of checks a year).

    figures(conn, start=date(2026, 1, 1), end=date(2026, 12, 31))
      → {"period", "checks": {"total", "by_org_matter": [...]},
         "feedback": {"measures_offered", "measures_reported", "rate", "checks_with_measures",
                      "checks_with_feedback", "check_rate"},
         "measures": [{"measure", "applied", "not_applied"}],
         "entries": {"added": [{"list_type", "month", "count"}], "removed": [{"list_type", "reason", "month",
                     "count"}]},
         "push": {"delivered", "p50_ms", "p99_ms", "max_ms", "pending", "dead"}}

The period is days in China Standard Time, both ends included; omitted ends are open. Checks and feedback
count by when they were made; entries by the day they were decided (added) or removed; deliveries by when
they were delivered. The feedback rate is the seed report's "application" figure: of the measures the checks
offered, the share a department reported on (applied or not, with a reason).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from xinyong.apply.models import check_feedback, checks, deliveries, list_entries
from xinyong.clock import CHINA


def _bounds(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The period's days as instants: from `start` 00:00 to the day after `end` 00:00 (exclusive), in CST."""
    since = dt.datetime.combine(start, dt.time(0), tzinfo=CHINA) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=CHINA) if end else None
    return since, until


def _within(column: Any, since: Any, until: Any) -> list[Any]:
    found = []
    if since is not None:
        found.append(column >= since)
    if until is not None:
        found.append(column < until)
    return found


def _month(conn: sa.Connection, column: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def figures(
    conn: sa.Connection, *, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, Any]:
    since, until = _bounds(start, end)
    c, f, e, d = checks, check_feedback, list_entries, deliveries
    in_checks = _within(c.c.created_at, since, until)

    by_org_matter = [
        {"org_uscc": org, "matter": matter, "checks": n, "measures_offered": int(offered or 0)}
        for org, matter, n, offered in conn.execute(
            sa.select(c.c.org_uscc, c.c.matter, sa.func.count(), sa.func.sum(c.c.measure_count))
            .where(*in_checks)
            .group_by(c.c.org_uscc, c.c.matter)
            .order_by(c.c.org_uscc, c.c.matter)
        )
    ]
    total, offered, with_measures = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(c.c.measure_count), 0),
            sa.func.count().filter(c.c.measure_count > 0),
        ).where(*in_checks)
    ).one()
    # Feedback on the period's checks (whenever it was given): the rate answers "of what we offered".
    reported, with_feedback = conn.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(f.c.check_id)))
        .select_from(f.join(c, c.c.id == f.c.check_id))
        .where(*in_checks)
    ).one()
    measures = [
        {"measure": measure, "applied": int(applied), "not_applied": int(n - applied)}
        for measure, n, applied in conn.execute(
            sa.select(f.c.measure, sa.func.count(), sa.func.count().filter(f.c.applied.is_(True)))
            .select_from(f.join(c, c.c.id == f.c.check_id))
            .where(*in_checks)
            .group_by(f.c.measure)
            .order_by(f.c.measure)
        )
    ]
    added_month = _month(conn, e.c.decided_on)
    day_from, day_to = start, end
    added = [
        {"list_type": t, "month": m, "count": n}
        for t, m, n in conn.execute(
            sa.select(e.c.list_type, added_month, sa.func.count())
            .where(
                e.c.decided_on.is_not(None),
                *([e.c.decided_on >= day_from] if day_from else []),
                *([e.c.decided_on <= day_to] if day_to else []),
            )
            .group_by(e.c.list_type, added_month)
            .order_by(e.c.list_type, added_month)
        )
    ]
    removed_month = _month(conn, e.c.removed_on)
    removed = [
        {"list_type": t, "reason": r, "month": m, "count": n}
        for t, r, m, n in conn.execute(
            sa.select(e.c.list_type, e.c.removed_reason, removed_month, sa.func.count())
            .where(
                e.c.state == "removed",
                *([e.c.removed_on >= day_from] if day_from else []),
                *([e.c.removed_on <= day_to] if day_to else []),
            )
            .group_by(e.c.list_type, e.c.removed_reason, removed_month)
            .order_by(e.c.list_type, e.c.removed_reason, removed_month)
        )
    ]
    return {
        "period": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
        "checks": {"total": total, "by_org_matter": by_org_matter},
        "feedback": {
            "measures_offered": int(offered),
            "measures_reported": reported,
            "rate": round(reported / offered, 4) if offered else None,
            "checks_with_measures": with_measures,
            "checks_with_feedback": with_feedback,
            "check_rate": round(with_feedback / with_measures, 4) if with_measures else None,
        },
        "measures": measures,
        "entries": {"added": added, "removed": removed},
        "push": _push(conn, _within(d.c.delivered_at, since, until)),
    }


def _push(conn: sa.Connection, period: list[Any]) -> dict[str, Any]:
    """Delivery delays (change committed → receiver's 2xx): nearest-rank percentiles, read by offset in SQL
    (SQLite has no percentile function; both databases answer the same)."""
    d = deliveries
    delivered = [d.c.state == "delivered", d.c.delay_ms.is_not(None), *period]
    n = conn.execute(sa.select(sa.func.count()).where(*delivered)).scalar_one()
    waiting = dict(
        conn.execute(
            sa.select(d.c.state, sa.func.count())
            .where(d.c.state.in_(("pending", "dead")))
            .group_by(d.c.state)
        ).all()
    )

    def rank(p: float) -> int | None:
        if not n:
            return None
        at = max(1, -(-n * p // 100))  # nearest rank: ceil(p/100 × n), 1-based
        return conn.execute(
            sa.select(d.c.delay_ms).where(*delivered).order_by(d.c.delay_ms).offset(int(at) - 1).limit(1)
        ).scalar_one()

    return {
        "delivered": n,
        "p50_ms": rank(50),
        "p99_ms": rank(99),
        "max_ms": rank(100),
        "pending": waiting.get("pending", 0),
        "dead": waiting.get("dead", 0),
    }
