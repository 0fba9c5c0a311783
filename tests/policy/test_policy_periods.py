"""Calendar periods, masking, and deadlines computed from policy entries."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.policy import Span, add_months, add_period, load_policy, mask
from xinyong.policy.models import MaskRule


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        ("2024-02-29", "1 year", "2025-02-28"),  # no 29 February: month end
        ("2024-02-29", "4 years", "2028-02-29"),
        ("2024-01-31", "1 month", "2024-02-29"),
        ("2023-01-31", "1 month", "2023-02-28"),
        ("2024-03-31", "1 month", "2024-04-30"),
        ("2024-03-15", "3 months", "2024-06-15"),
        ("2024-11-30", "3 months", "2025-02-28"),
        ("2024-12-31", "12 months", "2025-12-31"),
        ("2024-12-31", "30 days", "2025-01-30"),
        ("2024-05-05", "0 days", "2024-05-05"),
    ],
)
def test_add_period(start: str, period: str, expected: str) -> None:
    assert add_period(dt.date.fromisoformat(start), Span.parse(period)) == dt.date.fromisoformat(expected)


def test_add_period_reads_policy_entries_and_datetimes() -> None:
    policy = load_policy()
    act_end = dt.datetime(2021, 6, 30, 23, 0)
    assert add_period(act_end, policy.disclosure.adverse_default_5y) == dt.date(2026, 6, 30)
    decided = dt.date(2026, 4, 1)
    assert add_period(decided, policy.disclosure.penalty_classes["严重"].max_period) == dt.date(2029, 4, 1)
    assert add_period(decided, policy.disclosure.penalty_samr.short_period) == dt.date(2026, 7, 1)


def test_span_parse_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Span.parse("three weeks")


@given(st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31)), st.integers(-240, 240))
def test_add_months_properties(start: dt.date, months: int) -> None:
    result = add_months(start, months)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day <= start.day
    if result.day < start.day:  # clamped: must be the month's last day
        assert (result + dt.timedelta(days=1)).day == 1


def test_masking_rules_from_policy() -> None:
    m = load_policy().masking
    assert mask("420102199001011234", m.id_number) == "4201**********1234"
    assert mask("张三", m.name) == "张*"
    assert mask("欧阳娜娜", m.name) == "欧***"
    assert mask("13812345678", m.phone) == "138****5678"
    assert mask("", m.name) == ""
    assert mask("张", m.name) == "*"  # always hides something


def test_mask_fixed_length_hides_length() -> None:
    rule = MaskRule(keep_first=1, keep_last=0, mask_length=2, source="test", confirmed=True)
    assert mask("张三丰", rule) == "张**" and mask("张三", rule) == "张**"


def test_working_day_entries_compute_deadlines(library_calendar) -> None:
    policy = load_policy()
    received = dt.date(2026, 9, 30)  # Wednesday before National Day
    assert policy.objection.mark_disputed_within.due(received, library_calendar) == dt.date(2026, 10, 8)
    assert policy.timeliness.publish_within.due(received, library_calendar) == dt.date(2026, 10, 15)
