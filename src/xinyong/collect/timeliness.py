"""双公示 timeliness: working days from the decision to the platform's receipt, for a whole column at once.

The calendar is asked once per distinct day (a few thousand), never once per row; a day the calendar
does not know (a year with no holiday data) leaves the figure empty rather than guessing.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from xinyong.policy.workdays import WorkdayCalendar


def working_days_to(decisions: pl.Series, receipt: dt.date, calendar: WorkdayCalendar) -> pl.Series:
    """Working days in (decision, receipt] for each decision date (null where unknown or after receipt)."""
    days = decisions.drop_nulls().unique()
    if days.is_empty():
        return pl.Series(decisions.name, [None] * len(decisions), dtype=pl.Int32)
    start = min(days.min(), receipt)  # type: ignore[type-var]
    ordinal: dict[dt.date, int] = {}
    count = 0
    day = start
    while day <= receipt:
        if not calendar.knows(day.year):
            ordinal.clear()  # a gap in the calendar: only days after it can be counted
            count = 0
        elif calendar.is_workday(day):
            count += 1
        ordinal[day] = count
        day += dt.timedelta(days=1)
    if receipt not in ordinal:
        return pl.Series(decisions.name, [None] * len(decisions), dtype=pl.Int32)
    at_receipt = ordinal[receipt]
    table = pl.DataFrame(
        {"day": list(ordinal), "n": [at_receipt - v for v in ordinal.values()]},
        schema={"day": pl.Date, "n": pl.Int32},
    )
    joined = pl.DataFrame({"day": decisions}).join(table, on="day", how="left", maintain_order="left")
    return joined["n"].alias(decisions.name)
