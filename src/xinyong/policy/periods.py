"""Calendar periods (days, months, years) and how to add them to a date.

Chinese law counts a period of months or years to the *corresponding day* of the final month, and to
the last day of that month when there is no corresponding day (民法典 第二百零二条:
"按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，为月末日").
The start day itself is not counted (第二百零一条), which is what plain date arithmetic gives:
2024-03-15 + 3 months = 2024-06-15, the period's last day.

Examples of the month-end clamp: 2024-02-29 + 1 year = 2025-02-28; 2024-01-31 + 1 month = 2024-02-29;
2023-01-31 + 1 month = 2023-02-28.

Working days are not a calendar period: they need the statutory holiday schedule, see
`xinyong.policy.workdays.WorkdayCalendar.add`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PeriodUnit = Literal["days", "months", "years"]

_SPAN_TEXT = re.compile(r"^\s*(\d+)\s*(days?|months?|years?)\s*$")


class Span(BaseModel):
    """A length of calendar time: `value` `unit` (days, months or years). Never negative."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: int = Field(ge=0)
    unit: PeriodUnit

    @classmethod
    def parse(cls, text: str) -> Span:
        """Read "5 years", "3 months", "1 day" (the form `describe()` writes)."""
        match = _SPAN_TEXT.match(text)
        if not match:
            raise ValueError(f"not a period: {text!r} (expected e.g. '3 months')")
        unit = match.group(2)
        return cls(value=int(match.group(1)), unit=unit if unit.endswith("s") else unit + "s")  # type: ignore[arg-type]

    @property
    def months(self) -> int | None:
        """The span in whole months, for years and months; None for days (they don't convert)."""
        if self.unit == "years":
            return self.value * 12
        if self.unit == "months":
            return self.value
        return None

    def describe(self) -> str:
        return f"{self.value} {self.unit}"


class PositiveSpan(Span):
    """A span that must be at least one unit long (a publicity period of zero is a typo, not a rule)."""

    value: int = Field(ge=1)


def add_months(start: dt.date, months: int) -> dt.date:
    """`start` plus `months` calendar months, clamped to the end of the target month (may be negative)."""
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(start.day, last))


def add_period(start: dt.date, period: Span) -> dt.date:
    """The last day of a period of `period` that starts the day after `start` (民法典 201–202).

    Days add plainly; months and years add by the calendar with the month-end clamp described in the module
    docstring. Accepts any `Span`, including policy entries that carry a value and a unit.
    """
    if isinstance(start, dt.datetime):  # a datetime is a date subclass; the legal day is what counts
        start = start.date()
    if period.unit == "days":
        return start + dt.timedelta(days=period.value)
    months = period.value * 12 if period.unit == "years" else period.value
    return add_months(start, months)
