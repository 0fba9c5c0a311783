"""Read-only questions of the console's 数据归集 pages: a batch's problems grouped by code, the feed
declarations of a provider, and which declared feeds are overdue.

Overdue: a feed declared `daily`, `weekly`, `monthly` or `quarterly` is overdue when its last complete
period (yesterday, last ISO week, last month, last quarter, in China time) saw no batch of that item from
that provider that loaded (status `done`; a refused file is not a delivery). `on_change` feeds have no
period and are never overdue. The figures come from one GROUP BY per period length.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from xinyong.clock import CHINA
from xinyong.collect.feeds import Feed, load_feeds
from xinyong.console.periods import Period
from xinyong.console.stats import batches_by_submitter_item
from xinyong.store.tables import batches, organisations, rejected_rows


@dataclass(frozen=True)
class ProblemGroup:
    code: str
    message_zh: str  # the first row's message for this code (a sample: messages name the row's values)
    message_en: str
    rows: int  # rejected rows with at least one problem of this code
    open_rows: int  # of which not yet corrected by a later batch


def problem_groups(conn: sa.Connection, batch_id: int) -> list[ProblemGroup]:
    """The rejected rows of one batch grouped by problem code, most frequent first (only the reasons
    column of one batch is read, a page of rows at a time)."""
    counts: Counter[str] = Counter()
    still_open: Counter[str] = Counter()
    sample: dict[str, tuple[str, str]] = {}
    # Streamed in pages; the option is the statement's (on the connection it would outlive this query).
    result = conn.execute(
        sa.select(rejected_rows.c.reasons, rejected_rows.c.status)
        .where(rejected_rows.c.batch_id == batch_id)
        .execution_options(yield_per=2000)
    )
    for reasons, status in result:
        codes = set()
        for reason in reasons or []:
            code = str(reason.get("code", "?"))
            codes.add(code)
            sample.setdefault(code, (str(reason.get("message_zh", "")), str(reason.get("message_en", ""))))
        counts.update(codes)
        if status == "open":
            still_open.update(codes)
    return [
        ProblemGroup(code, *sample[code], rows=n, open_rows=still_open[code])
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


# --------------------------------------------------------------------------------- feed declarations


def declared_feeds(home: Path | None, organisation: str | None) -> list[tuple[str, str, Feed]]:
    """(provider USCC, provider name, feed) for one provider, or for every declared provider."""
    found = []
    for provider in load_feeds(home).providers:
        if organisation is None or provider.uscc == organisation:
            found += [(provider.uscc, provider.name, feed) for feed in provider.feeds]
    return found


def last_complete_period(frequency: str, today: dt.date) -> Period | None:
    if frequency == "daily":
        return Period(today - dt.timedelta(days=1), today)
    if frequency == "weekly":
        monday = today - dt.timedelta(days=today.weekday())
        return Period(monday - dt.timedelta(days=7), monday)
    if frequency == "monthly":
        first = today.replace(day=1)
        return Period((first - dt.timedelta(days=1)).replace(day=1), first)
    if frequency == "quarterly":
        first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        return Period(dt.date(previous.year, 3 * ((previous.month - 1) // 3) + 1, 1), first)
    return None  # on_change: no period


@dataclass(frozen=True)
class FeedState:
    uscc: str
    name: str
    feed: Feed
    period: Period | None  # the last complete period checked (None for on_change)
    delivered: int | None  # batches that loaded in it
    last_batch_at: dt.datetime | None  # the provider's latest loaded batch of this item, ever

    @property
    def overdue(self) -> bool:
        return self.period is not None and not self.delivered

    def as_dict(self) -> dict[str, Any]:
        return {
            "uscc": self.uscc,
            "name": self.name,
            "item": self.feed.item,
            "frequency": self.feed.frequency,
            "period": self.period.label if self.period else None,
            "delivered": self.delivered,
            "overdue": self.overdue,
            "last_batch_at": self.last_batch_at.isoformat() if self.last_batch_at else None,
        }


def feed_states(
    conn: sa.Connection, *, home: Path | None, organisation: str | None, now: dt.datetime
) -> list[FeedState]:
    """Every declared feed (of one provider, or all) with whether it is overdue today."""
    today = now.astimezone(CHINA).date()
    feeds = declared_feeds(home, organisation)
    delivered_by_period: dict[Period, dict[tuple[str, str], int]] = {}
    for _, _, feed in feeds:
        period = last_complete_period(feed.frequency, today)
        if period is not None and period not in delivered_by_period:
            delivered_by_period[period] = batches_by_submitter_item(conn, period, organisation)
    last = _last_batches(conn, organisation)
    states = []
    for uscc, name, feed in feeds:
        period = last_complete_period(feed.frequency, today)
        delivered = delivered_by_period[period].get((uscc, feed.item), 0) if period else None
        states.append(FeedState(uscc, name, feed, period, delivered, last.get((uscc, feed.item))))
    return states


def _last_batches(conn: sa.Connection, organisation: str | None) -> dict[tuple[str, str], dt.datetime]:
    query = (
        sa.select(organisations.c.uscc, batches.c.item_code, sa.func.max(batches.c.created_at).label("at"))
        .join(organisations, organisations.c.id == batches.c.submitter_id)
        .where(batches.c.status == "done")
        .group_by(organisations.c.uscc, batches.c.item_code)
    )
    if organisation is not None:
        query = query.where(organisations.c.uscc == organisation)
    found = {}
    for row in conn.execute(query):
        at = row.at
        if isinstance(at, str):  # SQLite returns max() of a datetime column as text
            at = dt.datetime.fromisoformat(at)
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        found[(row.uscc, row.item_code)] = at
    return found
