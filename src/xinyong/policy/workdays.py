"""The working-day calendar (工作日): the State Council's holiday schedule, including 调休 weekend workdays.

Counting convention — the one Chinese administrative deadlines use (e.g. 行政许可法 第八十二条 counts
working days excluding statutory holidays; 民法典 第二百零一条: the start day is not counted):

* `add(d, n)` is the Nth working day *after* d; d itself is never counted, whether or not it is a working
  day. "Within 5 working days of receipt on Friday 2026-09-25" means by `add(2026-09-25, 5)`. `add(d, 0)`
  is d. A negative n counts backwards: the |n|th working day before d.
* `between(d1, d2)` is the number of working days in the half-open interval (d1, d2]: d1 excluded, d2
  included, so `between(d, add(d, n)) == n` for every n >= 0. If d2 is before d1 the count is negated:
  `between(d2, d1) == -between(d1, d2)`.

Data: the `chinesecalendar` package (import `chinese_calendar`) knows the years its release carries
(1.11.0: 2004–2026, read from its data at import, not assumed). An operator's override file adds later
years and may correct dates of known ones (see `calendar_overrides`). A date in a year neither knows is an
error (`calendar.year_unknown`) that says how to load the year — never a silent weekday guess.

Where override files are looked for, first match wins:
  1. the `overrides_path` argument (a file or a directory of *.yaml);
  2. the XINYONG_CALENDAR environment variable (file or directory);
  3. $XINYONG_HOME/calendar/*.yaml (XINYONG_HOME defaults to ./var); a missing directory means no overrides.
A path given explicitly (1 or 2) that does not exist is an error, since the operator meant something by it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import chinese_calendar

from xinyong.policy.calendar_overrides import Overrides, load_overrides, override_files
from xinyong.problems import Problem, ProblemError

CALENDAR_ENV = "XINYONG_CALENDAR"
HOME_ENV = "XINYONG_HOME"
DEFAULT_HOME = "./var"

LIBRARY_VERSION: str = chinese_calendar.__version__
# The package's own range check uses the years of its holiday table; so do we.
LIBRARY_FIRST_YEAR: int = min(chinese_calendar.holidays).year
LIBRARY_LAST_YEAR: int = max(chinese_calendar.holidays).year

_ONE_DAY = dt.timedelta(days=1)


def _holiday_name_zh(english: str) -> str:
    try:
        return chinese_calendar.Holiday(english).chinese
    except ValueError:
        return english


def _as_date(d: dt.date) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


class WorkdayCalendar:
    """Statutory working days from `chinesecalendar` plus the operator's override files."""

    def __init__(self, overrides_path: str | Path | None = None, *, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        location, origin = _override_location(overrides_path, env)
        self.override_location: Path = location
        self.override_origin: str = origin  # "argument", "XINYONG_CALENDAR" or "XINYONG_HOME"
        if origin != HOME_ENV and not location.exists():
            raise ProblemError(
                Problem(
                    "calendar.override_missing",
                    f"工作日历覆盖文件不存在：{location}（由{_origin_zh(origin)}指定）",
                    f"calendar override path does not exist: {location} (given by {_origin_en(origin)})",
                )
            )
        files = override_files(location) if location.exists() else []
        self.overrides: Overrides = load_overrides(files)

    @classmethod
    def for_home(cls, home: str | Path, *, environ: Mapping[str, str] | None = None) -> WorkdayCalendar:
        """The calendar of a platform whose XINYONG_HOME is `home` (XINYONG_CALENDAR, if set, still wins)."""
        env = dict(os.environ if environ is None else environ)
        env[HOME_ENV] = str(home)
        return cls(environ=env)

    # --- what the calendar knows ---------------------------------------------------------------------

    def knows(self, year: int) -> bool:
        return LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR or year in self.overrides.years

    def known_years(self) -> list[tuple[int, str]]:
        """Every known year with where its schedule comes from, in order."""
        years = {
            y: f"chinesecalendar {LIBRARY_VERSION}" for y in range(LIBRARY_FIRST_YEAR, LIBRARY_LAST_YEAR + 1)
        }
        for year, (source, path) in self.overrides.years.items():
            years[year] = f"{path} — {source}" + (" (overrides chinesecalendar)" if year in years else "")
        return sorted(years.items())

    def _require(self, d: dt.date) -> None:
        if not self.knows(d.year):
            raise ProblemError(self._unknown_year(d.year))

    def _unknown_year(self, year: int) -> Problem:
        example = (
            f'{{{year}: {{source: "国务院办公厅关于{year}年部分节假日安排的通知", '
            f'holidays: [{year}-01-01, "{year}-02-06..{year}-02-12"], workdays: [{year}-02-14]}}}}'
        )
        location = self.override_location
        if location.is_file():
            where_zh = f"把 {year} 年的安排加入覆盖文件 {location}"
            where_en = f"add the {year} schedule to the override file {location}"
        else:
            target = location / f"{year}.yaml"
            where_zh = f"新建文件 {target}"
            where_en = f"create the file {target}"
            if self.override_origin == HOME_ENV:
                where_zh += f"（或用环境变量 {CALENDAR_ENV} 指向一个覆盖文件）"
                where_en += f" (or point the {CALENDAR_ENV} environment variable at an override file)"
        known = f"{LIBRARY_FIRST_YEAR}–{LIBRARY_LAST_YEAR}"
        extra = sorted(y for y in self.overrides.years if not LIBRARY_FIRST_YEAR <= y <= LIBRARY_LAST_YEAR)
        if extra:
            known += "，" + "、".join(str(y) for y in extra)
        known_en = known.replace("，", ", ").replace("、", ", ")
        return Problem(
            "calendar.year_unknown",
            f"工作日历没有 {year} 年的法定节假日安排"
            f"（chinesecalendar {LIBRARY_VERSION} 及覆盖文件已知年份：{known}），无法计算工作日。"
            f"国务院办公厅每年 11–12 月公布下一年的放假安排；请按通知{where_zh}，"
            f"内容格式（YAML，日期仅为示例）：{example}，"
            f"然后运行 `xinyong workdays years` 核对。详见 docs/policy.md。",
            f"the working-day calendar has no statutory holiday schedule for {year} (chinesecalendar "
            f"{LIBRARY_VERSION} and override files know: {known_en}), so working days cannot be counted. "
            f"The State Council publishes next year's schedule each November/December; from that notice, "
            f"{where_en} with YAML content like this (dates are only an example): {example}, "
            f"then check with `xinyong workdays years`. See docs/policy.md.",
            field=str(year),
        )

    # --- single days -----------------------------------------------------------------------------------

    def is_workday(self, d: dt.date) -> bool:
        """A working day: a weekday that is not a holiday, or a 调休 weekend day. Overrides win."""
        d = _as_date(d)
        self._require(d)
        if d in self.overrides.workdays:
            return True
        if d in self.overrides.holidays:
            return False
        if LIBRARY_FIRST_YEAR <= d.year <= LIBRARY_LAST_YEAR:
            if d in chinese_calendar.workdays:
                return True
            if d in chinese_calendar.holidays:
                return False
        return d.weekday() < 5

    def holiday_name(self, d: dt.date) -> str | None:
        """The statutory holiday `d` belongs to (e.g. 国庆节), "" if an override left it unnamed, else None.

        Ordinary weekends are not holidays here; a weekend inside a holiday block is.
        """
        d = _as_date(d)
        self._require(d)
        if d in self.overrides.workdays:
            return None
        if d in self.overrides.holidays:
            return self.overrides.holidays[d]
        if LIBRARY_FIRST_YEAR <= d.year <= LIBRARY_LAST_YEAR and d in chinese_calendar.holidays:
            if d in chinese_calendar.workdays:
                return None
            return _holiday_name_zh(chinese_calendar.holidays[d])
        return None

    # --- counting --------------------------------------------------------------------------------------

    def add(self, d: dt.date, n: int) -> dt.date:
        """The nth working day after d (d not counted); n < 0 counts back; add(d, 0) == d."""
        d = _as_date(d)
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        day = d
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def between(self, d1: dt.date, d2: dt.date) -> int:
        """Working days in (d1, d2]; negative when d2 < d1 (then it is -between(d2, d1))."""
        d1, d2 = _as_date(d1), _as_date(d2)
        if d2 < d1:
            return -self.between(d2, d1)
        count = 0
        day = d1
        while day < d2:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count

    def holidays_between(self, d1: dt.date, d2: dt.date) -> list[tuple[dt.date, str]]:
        """Statutory holiday days in (d1, d2] (either order), with their names, oldest first."""
        d1, d2 = _as_date(d1), _as_date(d2)
        low, high = (d1, d2) if d1 <= d2 else (d2, d1)
        found = []
        day = low
        while day < high:
            day += _ONE_DAY
            name = self.holiday_name(day)
            if name is not None:
                found.append((day, name))
        return found


def _override_location(explicit: str | Path | None, env: Mapping[str, str]) -> tuple[Path, str]:
    if explicit is not None and str(explicit).strip():
        return Path(explicit), "argument"
    named = env.get(CALENDAR_ENV, "").strip()
    if named:
        return Path(named), CALENDAR_ENV
    home = env.get(HOME_ENV, "").strip() or DEFAULT_HOME
    return Path(home).resolve() / "calendar", HOME_ENV


def _origin_zh(origin: str) -> str:
    return "调用参数" if origin == "argument" else f"环境变量 {origin}"


def _origin_en(origin: str) -> str:
    return "the overrides_path argument" if origin == "argument" else f"the {origin} environment variable"
