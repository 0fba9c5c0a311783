"""The deadline engine on its own: due days from the policy calendar, queues, timeouts run once, on
SQLite and PostgreSQL. A consequence here is a small stand-in that records what it was asked to do."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from xinyong.clock import Clock, FixedClock
from xinyong.deadlines import (
    Consequence,
    Matter,
    Owner,
    Task,
    complete,
    open_task,
    record_done,
    resolve_rule,
    run,
    tasks_for,
)
from xinyong.policy import WorkdayCalendar, load_policy
from xinyong.problems import ProblemError

PROVIDER = "11420100Q01002015R"
PROVIDER_RULE = "objection.profiles.shanghai.provider_decides_within"
REPAIR_RULE = "repair.decide_within"


@pytest.fixture
def calendar() -> WorkdayCalendar:
    return WorkdayCalendar(environ={})


def open_(
    conn: sa.Connection, n: int, rule: str, owner: Owner, start: str, clock: Clock, cal: WorkdayCalendar
) -> Task:
    return open_task(
        conn,
        matter=Matter("test", n),
        step="decide",
        rule=rule,
        owner=owner,
        starts_on=dt.date.fromisoformat(start),
        policy=load_policy(),
        calendar=cal,
        clock=clock,
    )


def recorder(seen: list[int]) -> dict[str, Consequence]:
    def apply(conn: sa.Connection, task: Task, as_of: dt.date, clock: Clock) -> dict[str, Any] | None:
        seen.append(task.id)
        return {"record_id": task.record_id}

    return {"suspend_disclosure": Consequence("suspend_disclosure", "suspended", apply)}


def test_rules_resolve_by_their_policy_path_and_an_unknown_one_is_refused() -> None:
    policy = load_policy()
    assert resolve_rule(policy, PROVIDER_RULE).working_days == 5
    assert (
        resolve_rule(policy, "objection.provider_decides_within") is policy.objection.provider_decides_within
    )
    with pytest.raises(ProblemError, match=r"deadlines.unknown_rule"):
        resolve_rule(policy, "objection.profiles.shanghai.nonexistent_within")
    with pytest.raises(ProblemError, match=r"deadlines.unknown_rule"):
        resolve_rule(policy, "repair.repeat_refusal_window")  # a calendar period, not working days


def test_due_days_count_the_holiday_and_the_tiaoxiu_saturday(
    engine: sa.Engine, calendar: WorkdayCalendar
) -> None:
    clock = FixedClock("2026-09-30T10:00")
    with engine.begin() as conn:
        task = open_(conn, 1, PROVIDER_RULE, Owner.organisation(PROVIDER), "2026-09-30", clock, calendar)
    # 5 working days after Wed 30 Sep: Thu 8 Oct (1), Fri 9 (2), Sat 10 调休 (3), Mon 12 (4), Tue 13 (5).
    assert task.due_on == dt.date(2026, 10, 13)
    assert task.remind_on == dt.date(2026, 10, 12)  # remind_before: 1 working day
    assert (task.consequence, task.rule, task.working_days) == ("suspend_disclosure", PROVIDER_RULE, 5)


def test_run_times_out_once_applies_the_consequence_and_reminds(
    engine: sa.Engine, calendar: WorkdayCalendar
) -> None:
    clock = FixedClock("2026-09-30T10:00")
    with engine.begin() as conn:
        late = open_(conn, 1, PROVIDER_RULE, Owner.organisation(PROVIDER), "2026-09-30", clock, calendar)
        flagged = open_(conn, 2, REPAIR_RULE, Owner.platform(), "2026-09-30", clock, calendar)
        later = open_(conn, 3, PROVIDER_RULE, Owner.organisation(PROVIDER), "2026-10-09", clock, calendar)
    seen: list[int] = []
    clock.set("2026-10-13T18:00")  # the due day of tasks 1 and 2: not overdue yet
    with engine.begin() as conn:
        report = run(conn, as_of=dt.date(2026, 10, 13), clock=clock, consequences=recorder(seen))
    assert report.overdue == [] and seen == []
    assert {r["id"] for r in report.reminded} == {late.id, flagged.id}

    clock.set("2026-10-14T00:01")
    with engine.begin() as conn:
        report = run(conn, as_of=dt.date(2026, 10, 14), clock=clock, consequences=recorder(seen))
    assert [o["id"] for o in report.overdue] == [late.id, flagged.id]
    assert seen == [late.id]  # suspend_disclosure, passed in by the caller
    assert report.as_dict()["suspended"] == [
        {"task_id": late.id, "matter": {"kind": "test", "id": 1}, "record_id": None}
    ]
    assert [o["flagged"] for o in report.overdue] == [False, True]  # flag_assessment, built in
    with engine.begin() as conn:
        again = run(conn, as_of=dt.date(2026, 10, 14), clock=clock, consequences=recorder(seen))
    assert again.as_dict() == {"suspended": [], "overdue": [], "reminded": []} and seen == [late.id]

    with engine.connect() as conn:
        overdue = tasks_for(
            conn, owner=Owner.organisation(PROVIDER), view="overdue", as_of=dt.date(2026, 10, 14)
        )
        still_open = tasks_for(
            conn, owner=Owner.organisation(PROVIDER), view="open", as_of=dt.date(2026, 10, 14)
        )
    assert [t.id for t in overdue] == [late.id]
    assert [t.id for t in still_open] == [late.id, later.id]


def test_a_missing_consequence_stops_the_run_before_anything_changes(
    engine: sa.Engine, calendar: WorkdayCalendar
) -> None:
    clock = FixedClock("2026-09-30T10:00")
    with engine.begin() as conn:
        task = open_(conn, 1, PROVIDER_RULE, Owner.organisation(PROVIDER), "2026-09-30", clock, calendar)
    clock.set("2026-10-20T10:00")
    with pytest.raises(ProblemError, match=r"deadlines.consequence_missing"), engine.begin() as conn:
        run(conn, as_of=dt.date(2026, 10, 20), clock=clock, consequences={})
    with engine.connect() as conn:
        assert tasks_for(conn, owner=task.owner, view="open", as_of=dt.date(2026, 10, 20))[0].state == "open"
    with engine.begin() as conn:  # with the chapter's consequence passed in, the same run goes through
        assert (
            len(run(conn, as_of=dt.date(2026, 10, 20), clock=clock, consequences=recorder([])).overdue) == 1
        )


def test_a_future_day_is_refused_and_today_accepted(engine: sa.Engine) -> None:
    clock = FixedClock("2026-10-14T10:00")
    with pytest.raises(ProblemError, match=r"deadlines.future"), engine.begin() as conn:
        run(conn, as_of=dt.date(2026, 10, 15), clock=clock, consequences={})
    with engine.begin() as conn:
        assert not run(conn, as_of=dt.date(2026, 10, 14), clock=clock, consequences={}).changed


def test_queues_due_today_and_done_with_timing(engine: sa.Engine, calendar: WorkdayCalendar) -> None:
    clock = FixedClock("2026-10-09T10:00")
    owner = Owner.organisation(PROVIDER)
    with engine.begin() as conn:
        task = open_(conn, 1, PROVIDER_RULE, owner, "2026-10-09", clock, calendar)
        done_at_once = record_done(
            conn,
            matter=Matter("test", 2),
            step="decide",
            rule="objection.revoked_decision_removed_within",
            owner=owner,
            starts_on=dt.date(2026, 9, 30),
            policy=load_policy(),
            calendar=calendar,
            clock=clock,
            actor="test",
        )
    # Removed on Fri 9 Oct for a decision revoked Wed 30 Sep: Thu 8 (1), Fri 9 (2) — on time (due Sat 10).
    assert (done_at_once.taken_working_days, done_at_once.late, done_at_once.due_on) == (
        2,
        False,
        dt.date(2026, 10, 10),
    )
    day = dt.date(2026, 10, 15)
    with engine.connect() as conn:
        assert [t.id for t in tasks_for(conn, owner=owner, view="due_today", as_of=day)] == [task.id]
        assert tasks_for(conn, owner=Owner.platform(), view="due_today", as_of=day) == []
    clock.set("2026-10-15T17:00")
    with engine.begin() as conn:
        finished = complete(
            conn, matter=task.matter, step="decide", calendar=calendar, clock=clock, actor="test"
        )
        assert (
            complete(conn, matter=task.matter, step="decide", calendar=calendar, clock=clock, actor="x")
            is None
        )
    assert finished is not None and (finished.state, finished.taken_working_days, finished.late) == (
        "done",
        5,
        False,
    )
    with engine.connect() as conn:
        done = tasks_for(conn, owner=owner, view="done", as_of=day)
    assert {t.id for t in done} == {task.id, done_at_once.id}


def test_a_step_opens_once_per_matter(engine: sa.Engine, calendar: WorkdayCalendar) -> None:
    clock = FixedClock("2026-10-09T10:00")
    with engine.begin() as conn:
        open_(conn, 1, REPAIR_RULE, Owner.platform(), "2026-10-09", clock, calendar)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        open_(conn, 1, REPAIR_RULE, Owner.platform(), "2026-10-09", clock, calendar)
    with engine.begin() as conn:  # another matter's step is its own
        open_(conn, 2, REPAIR_RULE, Owner.platform(), "2026-10-09", clock, calendar)
