"""Operator override files for the statutory holiday calendar (法定节假日安排).

The State Council (国务院办公厅) publishes next year's holiday schedule each November or December; until a
`chinesecalendar` release carries it, an operator writes it down in a YAML file:

    # XINYONG_HOME/calendar/2027.yaml
    2027:
      source: 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕N号）
      holidays:
        - 2027-01-01                       # one day
        - 2027-02-06..2027-02-12           # a range, both ends included
        - {start: 2027-10-01, end: 2027-10-07, name: 国庆节}
      workdays:                            # 调休: weekend days that become working days
        - 2027-02-14

A file may hold several years. Dates of a year's notice may reach back into December of the year before
(a New Year holiday or 调休 day), never elsewhere. A year defined in two files is refused: which one is
right is a question for the operator, not for file order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
    model_validator,
)

from xinyong.policy.errors import Bilingual, problems_from_validation
from xinyong.policy.yamlio import YamlProblem, read_yaml
from xinyong.problems import Problem, ProblemError


class HolidaySpan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: dt.date
    end: dt.date
    name: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> HolidaySpan:
        if self.end < self.start:
            raise Bilingual(
                f"区间结束日 {self.end} 早于开始日 {self.start}",
                f"range end {self.end} is before its start {self.start}",
            )
        return self

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


def _as_span(item: Any) -> Any:
    """A holiday item may be a date, "A..B", [A, B] or {start, end, name}; all become a HolidaySpan."""
    if isinstance(item, dt.datetime):
        item = item.date()
    if isinstance(item, dt.date):
        return {"start": item, "end": item}
    if isinstance(item, str):
        if ".." in item:
            start, _, end = item.partition("..")
            return {"start": start.strip(), "end": end.strip()}
        return {"start": item.strip(), "end": item.strip()}
    if isinstance(item, list) and len(item) == 2:
        return {"start": item[0], "end": item[1]}
    return item


class YearSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    holidays: list[HolidaySpan] = Field(default_factory=list)
    workdays: list[dt.date] = Field(default_factory=list)
    note: str | None = None

    @field_validator("holidays", mode="before")
    @classmethod
    def _spans(cls, value: Any) -> Any:
        return [_as_span(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _no_day_both(self) -> YearSchedule:
        rest = {d for span in self.holidays for d in span.days()}
        both = sorted(rest.intersection(self.workdays))
        if both:
            days = ", ".join(d.isoformat() for d in both)
            raise Bilingual(
                f"同一天既是假日又是调休工作日：{days}", f"days listed both as holiday and workday: {days}"
            )
        return self


class OverrideFile(RootModel[dict[int, YearSchedule]]):
    """The whole file: year -> schedule. Year-level checks are in `_year_problems`, to name the year."""


def _year_problems(parsed: OverrideFile, path: Path) -> list[Problem]:
    problems = []
    for year, schedule in parsed.root.items():
        if not 1949 <= year <= 2200:
            problems.append(
                Problem(
                    "calendar.invalid",
                    f"{path}：年份 {year} 不合理",
                    f"{path}: year {year} is out of range",
                    str(year),
                )
            )
            continue
        first, last = dt.date(year - 1, 12, 1), dt.date(year, 12, 31)
        days = [d for s in schedule.holidays for d in (s.start, s.end)] + list(schedule.workdays)
        outside = sorted({d for d in days if not first <= d <= last})
        if outside:
            listed = ", ".join(d.isoformat() for d in outside)
            problems.append(
                Problem(
                    "calendar.invalid",
                    f"{path}：{year}：{year} 年的安排只能包含 {first} 至 {last} 的日期，不能包含：{listed}",
                    f"{path}: {year}: the {year} schedule may only name dates "
                    f"from {first} to {last}, not: {listed}",
                    str(year),
                )
            )
    return problems


@dataclass
class Overrides:
    """All override files merged: which years they make known, and the dates they name."""

    years: dict[int, tuple[str, Path]] = field(default_factory=dict)  # year -> (source notice, file)
    holidays: dict[dt.date, str] = field(default_factory=dict)  # date -> holiday name ("" when unnamed)
    workdays: set[dt.date] = field(default_factory=set)
    files: list[Path] = field(default_factory=list)


def parse_override_file(path: Path) -> OverrideFile:
    try:
        data = read_yaml(path)
    except YamlProblem as exc:
        raise ProblemError(
            Problem(
                "calendar.invalid",
                f"工作日历覆盖文件 {path}：{exc.message_zh}",
                f"calendar file {path}: {exc.message_en}",
            )
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProblemError(
            Problem(
                "calendar.invalid",
                f"工作日历覆盖文件 {path}：顶层必须是「年份: 安排」的映射",
                f"calendar file {path}: the top level must map a year to its schedule",
            )
        )
    try:
        parsed = OverrideFile.model_validate(data)
    except ValidationError as exc:
        raise ProblemError(*problems_from_validation(exc, code="calendar.invalid", file=path)) from None
    problems = _year_problems(parsed, path)
    if problems:
        raise ProblemError(*problems)
    return parsed


def override_files(location: Path) -> list[Path]:
    """The YAML files at `location`: the file itself, or *.yaml / *.yml in a directory, in name order."""
    if location.is_dir():
        return sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
    return [location]


def load_overrides(files: list[Path]) -> Overrides:
    merged = Overrides(files=list(files))
    for path in files:
        for year, schedule in parse_override_file(path).root.items():
            if year in merged.years:
                other = merged.years[year][1]
                raise ProblemError(
                    Problem(
                        "calendar.invalid",
                        f"{year} 年的节假日安排在两个文件中都有定义：{other} 和 {path}；请删除其中一个",
                        f"the {year} schedule is defined in two files: {other} and {path}; remove one",
                    )
                )
            merged.years[year] = (schedule.source, path)
            for span in schedule.holidays:
                for day in span.days():
                    merged.holidays[day] = span.name or ""
            merged.workdays.update(schedule.workdays)
    clash = sorted(set(merged.holidays) & merged.workdays)
    if clash:
        days = ", ".join(d.isoformat() for d in clash)
        raise ProblemError(
            Problem(
                "calendar.invalid",
                f"覆盖文件之间矛盾：以下日期在一个文件中是假日、在另一个文件中是调休工作日：{days}",
                f"override files disagree: these days are a holiday in one file "
                f"and a workday in another: {days}",
            )
        )
    return merged
