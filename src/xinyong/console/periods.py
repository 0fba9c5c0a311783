"""The period a figure covers: a calendar month by default, any span of days on request, in China time.

A period is [start, end) in legal days; its moments are the China Standard Time midnights, so a record
received at 23:30 on the last day of a month (15:30 UTC) counts in that month on every database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from xinyong.clock import CHINA
from xinyong.problems import Problem, ProblemError

_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, included
    end: dt.date  # first day after the period

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(0), tzinfo=CHINA)

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(0), tzinfo=CHINA)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.start.day == 1 and self.end == _next_month(self.start):
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}—{self.last_day.isoformat()}"

    @property
    def month(self) -> str | None:
        return f"{self.start:%Y-%m}" if self.start.day == 1 and self.end == _next_month(self.start) else None


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_period(text: str) -> Period:
    """`YYYY-MM` as a period; a bilingual refusal otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1949:
        raise ProblemError(
            Problem(
                "console.month",
                f"月份格式应为 YYYY-MM：{text[:20]}",
                f"a month is written YYYY-MM: {text[:20]}",
                field="month",
            )
        )
    start = dt.date(int(found.group(1)), int(found.group(2)), 1)
    return Period(start, _next_month(start))


def day_period(start: str, end: str) -> Period:
    """From `start` to `end`, both included, YYYY-MM-DD."""
    try:
        first, last = dt.date.fromisoformat(start.strip()), dt.date.fromisoformat(end.strip())
    except ValueError:
        raise ProblemError(
            Problem(
                "console.dates",
                "日期格式应为 YYYY-MM-DD",
                "dates are written YYYY-MM-DD",
                field="from",
            )
        ) from None
    if last < first or (last - first).days > 3660:
        raise ProblemError(
            Problem(
                "console.dates",
                "结束日期须不早于开始日期，且跨度不超过十年",
                "the end must not come before the start, and the span is at most ten years",
                field="to",
            )
        )
    return Period(first, last + dt.timedelta(days=1))


def this_month(clock_now: dt.datetime) -> Period:
    return month_period(f"{clock_now.astimezone(CHINA):%Y-%m}")


def previous_month(clock_now: dt.datetime) -> Period:
    first = clock_now.astimezone(CHINA).date().replace(day=1)
    return month_period(f"{first - dt.timedelta(days=1):%Y-%m}")
