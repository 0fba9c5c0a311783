"""The working-day calendar: holidays, 调休 workdays, the counting convention, unknown years, overrides."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from xinyong.policy import LIBRARY_FIRST_YEAR, LIBRARY_LAST_YEAR, WorkdayCalendar
from xinyong.problems import ProblemError

FIXTURES = Path(__file__).parent / "fixtures"

D = dt.date.fromisoformat


def test_library_range_is_read_from_the_package() -> None:
    # chinesecalendar 1.11.0's holiday table runs from 2004 to 2026; the range is read, not assumed.
    assert chinese_calendar.__version__ == "1.11.0"
    assert (LIBRARY_FIRST_YEAR, LIBRARY_LAST_YEAR) == (2004, 2026)
    assert max(chinese_calendar.holidays).year == LIBRARY_LAST_YEAR


def test_national_day_2026_with_its_saturday_workday(library_calendar: WorkdayCalendar) -> None:
    cal = library_calendar
    # 2026: 1–7 October off; Sunday 20 September and Saturday 10 October are 调休 working days.
    assert all(not cal.is_workday(D(f"2026-10-0{i}")) for i in range(1, 8))
    assert D("2026-10-10").weekday() == 5 and cal.is_workday(D("2026-10-10"))
    assert D("2026-09-20").weekday() == 6 and cal.is_workday(D("2026-09-20"))
    assert cal.add(D("2026-09-30"), 3) == D("2026-10-10")
    assert cal.add(D("2026-09-30"), 1) == D("2026-10-08")
    assert cal.add(D("2026-09-30"), 4) == D("2026-10-12")


def test_spring_festival_2026(library_calendar: WorkdayCalendar) -> None:
    cal = library_calendar
    assert cal.is_workday(D("2026-02-14"))  # Saturday 调休
    assert cal.add(D("2026-02-13"), 1) == D("2026-02-14")
    assert cal.add(D("2026-02-14"), 1) == D("2026-02-24")
    assert cal.holiday_name(D("2026-02-17")) == "春节"
    assert cal.holiday_name(D("2026-10-01")) == "国庆节"
    assert cal.holiday_name(D("2026-10-10")) is None  # a workday, though named for National Day upstream
    assert cal.holiday_name(D("2026-03-07")) is None  # an ordinary Saturday is not a holiday


def test_start_day_is_not_counted(library_calendar: WorkdayCalendar) -> None:
    cal = library_calendar
    assert cal.add(D("2026-09-29"), 1) == D("2026-09-30")  # start on a workday
    assert cal.add(D("2026-10-03"), 1) == D("2026-10-08")  # start inside a holiday
    assert cal.add(D("2026-10-03"), 0) == D("2026-10-03")
    assert cal.add(D("2026-10-08"), -1) == D("2026-09-30")
    assert cal.add(dt.datetime(2026, 9, 30, 18, 30), 3) == D("2026-10-10")


def test_between_known_cases(library_calendar: WorkdayCalendar) -> None:
    cal = library_calendar
    assert cal.between(D("2026-09-30"), D("2026-10-10")) == 3
    assert cal.between(D("2026-10-10"), D("2026-09-30")) == -3
    assert cal.between(D("2026-09-30"), D("2026-09-30")) == 0
    assert cal.between(D("2026-09-18"), D("2026-09-21")) == 2  # Sunday 20 (调休) + Monday 21
    assert cal.between(D("2026-10-01"), D("2026-10-07")) == 0
    # The whole of 2025–2026 agrees with the package's own counting.
    expected = len(chinese_calendar.get_workdays(D("2025-01-01"), D("2026-12-31")))
    assert cal.between(D("2024-12-31"), D("2026-12-31")) == expected


def test_holidays_between(library_calendar: WorkdayCalendar) -> None:
    found = library_calendar.holidays_between(D("2026-09-30"), D("2026-10-10"))
    assert [d.day for d, _ in found] == [1, 2, 3, 4, 5, 6, 7]
    assert {name for _, name in found} == {"国庆节"}


@settings(max_examples=300, deadline=None)
@given(st.dates(D("2025-01-01"), D("2026-10-31")), st.integers(0, 30))
def test_between_inverts_add(library_calendar: WorkdayCalendar, start: dt.date, n: int) -> None:
    cal = library_calendar
    end = cal.add(start, n)
    assert cal.between(start, end) == n
    assert cal.between(end, start) == -n
    if n:
        assert cal.is_workday(end) and end > start


@settings(max_examples=150, deadline=None)
@given(st.dates(D("2025-03-01"), D("2026-12-31")), st.integers(1, 30))
def test_counting_back_from_a_workday(library_calendar: WorkdayCalendar, start: dt.date, n: int) -> None:
    assume(library_calendar.is_workday(start))
    earlier = library_calendar.add(start, -n)
    assert library_calendar.between(earlier, start) == n


def test_unknown_year_is_a_clear_error(tmp_path: Path) -> None:
    cal = WorkdayCalendar(environ={"XINYONG_HOME": str(tmp_path)})
    with pytest.raises(ProblemError) as info:
        cal.add(D("2026-12-30"), 3)  # runs into 2027
    (problem,) = info.value.problems
    assert problem.code == "calendar.year_unknown" and problem.field == "2027"
    target = str(tmp_path.resolve() / "calendar" / "2027.yaml")
    for text in (problem.message_zh, problem.message_en):
        assert "2027" in text and target in text and "holidays" in text and "workdays" in text
    assert "国务院" in problem.message_zh and "State Council" in problem.message_en
    assert "XINYONG_CALENDAR" in problem.message_en
    with pytest.raises(ProblemError):
        cal.is_workday(D("2003-12-31"))  # before the package's first year too
    assert not cal.knows(2027) and cal.knows(2026)


def test_the_example_in_the_error_message_is_a_valid_override(tmp_path: Path) -> None:
    cal = WorkdayCalendar(environ={"XINYONG_HOME": str(tmp_path)})
    with pytest.raises(ProblemError) as info:
        cal.is_workday(D("2031-05-01"))
    example = re.search(r"(\{2031: .*\}\})", info.value.problems[0].message_en).group(1)
    (tmp_path / "calendar").mkdir()
    (tmp_path / "calendar" / "2031.yaml").write_text(example, encoding="utf-8")
    assert WorkdayCalendar(environ={"XINYONG_HOME": str(tmp_path)}).knows(2031)


def test_override_file_makes_2027_known(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "calendar", tmp_path / "calendar")
    for cal in (
        WorkdayCalendar(environ={"XINYONG_HOME": str(tmp_path)}),
        WorkdayCalendar(environ={"XINYONG_CALENDAR": str(FIXTURES / "calendar" / "2027.yaml")}),
        WorkdayCalendar(FIXTURES / "calendar", environ={}),
    ):
        assert cal.knows(2027)
        assert cal.add(D("2027-09-30"), 3) == D("2027-10-11")  # 8 Oct, Saturday 9 Oct (调休), 11 Oct
        assert cal.is_workday(D("2027-09-26"))  # Sunday 调休
        assert cal.add(D("2026-12-30"), 3) == D("2027-01-05")  # across the year boundary
        assert cal.holiday_name(D("2027-02-08")) == "春节"
        assert cal.holiday_name(D("2027-04-05")) == ""  # unnamed in the file
        assert not cal.is_workday(D("2027-05-03"))  # from the [start, end] list form
        assert cal.is_workday(D("2027-03-01"))  # an ordinary Monday
        assert any(year == 2027 and "2027.yaml" in source for year, source in cal.known_years())


def test_explicit_argument_beats_environment(tmp_path: Path) -> None:
    cal = WorkdayCalendar(
        FIXTURES / "calendar",
        environ={"XINYONG_CALENDAR": str(tmp_path / "nope"), "XINYONG_HOME": "/nonexistent"},
    )
    assert cal.override_origin == "argument" and cal.knows(2027)


def test_override_takes_precedence_for_a_known_year(tmp_path: Path) -> None:
    path = tmp_path / "2026-fix.yaml"
    path.write_text(
        "2026:\n  source: correction for tests\n  holidays: [2026-10-09]\n  workdays: [2026-10-07]\n",
        encoding="utf-8",
    )
    cal = WorkdayCalendar(path, environ={})
    assert not cal.is_workday(D("2026-10-09"))  # a Friday made a holiday
    assert cal.is_workday(D("2026-10-07"))  # a library holiday made a workday
    assert not cal.is_workday(D("2026-10-01"))  # dates the override doesn't name are the library's
    assert cal.is_workday(D("2026-10-10"))


def test_missing_explicit_location_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProblemError) as info:
        WorkdayCalendar(environ={"XINYONG_CALENDAR": str(tmp_path / "missing.yaml")})
    assert info.value.problems[0].code == "calendar.override_missing"
    # ...but a missing $XINYONG_HOME/calendar directory simply means "no overrides".
    assert WorkdayCalendar(environ={"XINYONG_HOME": str(tmp_path / "fresh")}).knows(2026)


def _calendar_problems(tmp_path: Path, text: str, name: str = "x.yaml") -> list:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemError) as info:
        WorkdayCalendar(path, environ={})
    assert all(p.code == "calendar.invalid" for p in info.value.problems)
    return info.value.problems


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (
            "2027:\n  source: s\n  holidays: [2027-10-07..2027-10-01]\n",
            "2027.holidays[0]",
            "before its start",
        ),
        ("2027:\n  source: s\n  holidays: [2028-01-01]\n", "2027", "may only name dates"),
        ("2027:\n  source: s\n  holidays: [2027-02-20]\n  workdays: [2027-02-20]\n", "2027", "both"),
        ("2027:\n  holidays: [2027-01-01]\n", "2027.source", "Field required"),
        ("2027:\n  source: s\n  holiday: [2027-01-01]\n", "2027.holiday", "Extra inputs"),
        ("2027:\n  source: s\n  workdays: [2027-02-30]\n", None, "not a real date"),
    ],
)
def test_invalid_override_files(tmp_path: Path, text: str, field: str, words: str) -> None:
    problems = _calendar_problems(tmp_path, text)
    assert any(p.field == field and words in p.message_en for p in problems), problems


def test_a_year_in_two_files_is_refused(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "calendar" / "2027.yaml", tmp_path / "a.yaml")
    shutil.copy(FIXTURES / "calendar" / "2027.yaml", tmp_path / "b.yml")
    with pytest.raises(ProblemError) as info:
        WorkdayCalendar(tmp_path, environ={})
    (problem,) = info.value.problems
    assert "a.yaml" in problem.message_en and "b.yml" in problem.message_en


def test_override_dates_may_reach_into_previous_december(tmp_path: Path) -> None:
    path = tmp_path / "2027.yaml"
    path.write_text("2027:\n  source: s\n  workdays: [2026-12-26]\n", encoding="utf-8")  # a Saturday
    assert WorkdayCalendar(path, environ={}).is_workday(D("2026-12-26"))
