"""Time is a parameter: everything that depends on "today" takes a Clock.

The platform's legal day is the China Standard Time day (Asia/Shanghai), whatever the server's zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date: ...


class SystemClock:
    """The real clock, in China Standard Time."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(CHINA)

    def today(self) -> dt.date:
        return self.now().date()


class FixedClock:
    """A clock that stands still until moved; tests and replays use it."""

    def __init__(self, at: dt.datetime | dt.date | str) -> None:
        self._now = _as_datetime(at)

    def now(self) -> dt.datetime:
        return self._now

    def today(self) -> dt.date:
        return self._now.date()

    def set(self, at: dt.datetime | dt.date | str) -> None:
        self._now = _as_datetime(at)

    def advance(self, **delta: float) -> None:
        self._now = self._now + dt.timedelta(**delta)


def _as_datetime(at: dt.datetime | dt.date | str) -> dt.datetime:
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at) if "T" in at or " " in at else dt.date.fromisoformat(at)
    if isinstance(at, dt.datetime):
        return at if at.tzinfo else at.replace(tzinfo=CHINA)
    return dt.datetime.combine(at, dt.time(9, 0), tzinfo=CHINA)
