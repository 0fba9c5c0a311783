"""Rules as data: disclosure periods, deadlines, repair eligibility; the working-day calendar.

from xinyong.policy import load_policy, add_period, WorkdayCalendar
policy = load_policy()                       # packaged file, or the one XINYONG_POLICY names
cal = WorkdayCalendar()                      # chinesecalendar + $XINYONG_HOME/calendar/*.yaml
due = policy.objection.mark_disputed_within.due(received, cal)
ends = add_period(decided, policy.disclosure.penalty_classes["一般"].max_period)
"""

from xinyong.policy.loader import (
    POLICY_ENV,
    clear_policy_cache,
    load_policy,
    packaged_policy_path,
    parse_policy_file,
    policy_path,
)
from xinyong.policy.masking import mask
from xinyong.policy.models import (
    PENALTY_CLASS_NAMES,
    Entry,
    MaskRule,
    PenaltyClass,
    PeriodEntry,
    Policy,
    WorkingDaysEntry,
)
from xinyong.policy.periods import PositiveSpan, Span, add_months, add_period
from xinyong.policy.workdays import (
    CALENDAR_ENV,
    LIBRARY_FIRST_YEAR,
    LIBRARY_LAST_YEAR,
    WorkdayCalendar,
)

__all__ = [
    "CALENDAR_ENV",
    "LIBRARY_FIRST_YEAR",
    "LIBRARY_LAST_YEAR",
    "PENALTY_CLASS_NAMES",
    "POLICY_ENV",
    "Entry",
    "MaskRule",
    "PenaltyClass",
    "PeriodEntry",
    "Policy",
    "PositiveSpan",
    "Span",
    "WorkdayCalendar",
    "WorkingDaysEntry",
    "add_months",
    "add_period",
    "clear_policy_cache",
    "load_policy",
    "mask",
    "packaged_policy_path",
    "parse_policy_file",
    "policy_path",
]
