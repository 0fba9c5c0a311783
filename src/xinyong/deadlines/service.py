"""Opening, completing and timing out deadline tasks; the per-organisation queues.

Counting follows the calendar's convention (policy/workdays.py): a task that starts on day S with a rule of
N working days is due on `calendar.add(S, N)`, the Nth working day after S, and is overdue from the next
calendar day on. `run(as_of=D)` turns every open task due before D into an overdue one and applies its
consequence once; running it again for the same day (or a later one) finds nothing new to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from xinyong.clock import CHINA, Clock
from xinyong.deadlines.models import deadline_tasks
from xinyong.events import emit
from xinyong.policy import Policy, WorkdayCalendar, WorkingDaysEntry
from xinyong.problems import Problem, ProblemError

OwnerKind = Literal["platform", "organisation"]
View = Literal["due_today", "overdue", "done", "open"]
VIEWS: tuple[View, ...] = ("due_today", "overdue", "done", "open")
# Consequences the engine applies itself; the others are passed to run() by the chapter that owns them.
BUILT_IN = ("flag_assessment",)


@dataclass(frozen=True, slots=True)
class Matter:
    """What a task belongs to: ("objection", 12), ("repair", 3), ("record", 881)…"""

    kind: str
    id: int


@dataclass(frozen=True, slots=True)
class Owner:
    """Who must act: the platform (the credit information centre), or one organisation by its USCC."""

    kind: OwnerKind
    uscc: str | None = None

    @classmethod
    def platform(cls) -> Owner:
        return cls("platform")

    @classmethod
    def organisation(cls, uscc: str) -> Owner:
        return cls("organisation", uscc)

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "uscc": self.uscc}


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    matter: Matter
    step: str
    owner: Owner
    record_id: int | None
    rule: str
    working_days: int
    starts_on: dt.date
    due_on: dt.date
    remind_on: dt.date
    consequence: str | None
    state: str
    done_on: dt.date | None
    taken_working_days: int | None
    late: bool | None
    overdue_on: dt.date | None
    reminded_on: dt.date | None
    consequence_on: dt.date | None
    flagged: bool
    closed_by: str | None

    @classmethod
    def of(cls, row: Any) -> Task:
        return cls(
            id=row.id,
            matter=Matter(row.matter_kind, row.matter_id),
            step=row.step,
            owner=Owner(row.owner_kind, row.owner_uscc),
            record_id=row.record_id,
            rule=row.rule,
            working_days=row.working_days,
            starts_on=row.starts_on,
            due_on=row.due_on,
            remind_on=row.remind_on,
            consequence=row.consequence,
            state=row.state,
            done_on=row.done_on,
            taken_working_days=row.taken_working_days,
            late=row.late,
            overdue_on=row.overdue_on,
            reminded_on=row.reminded_on,
            consequence_on=row.consequence_on,
            flagged=bool(row.flagged),
            closed_by=row.closed_by,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "matter": {"kind": self.matter.kind, "id": self.matter.id},
            "step": self.step,
            "owner": self.owner.as_dict(),
            "record_id": self.record_id,
            "rule": self.rule,
            "working_days": self.working_days,
            "starts_on": self.starts_on.isoformat(),
            "due_on": self.due_on.isoformat(),
            "state": self.state,
            "consequence": self.consequence,
            "done_on": _iso(self.done_on),
            "taken_working_days": self.taken_working_days,
            "late": self.late,
            "overdue_on": _iso(self.overdue_on),
            "reminded_on": _iso(self.reminded_on),
            "flagged": self.flagged,
        }


# A consequence acts on a task that has just become overdue and says what it did (None: nothing to do,
# e.g. the record had already left disclosure); `reports_as` is the key of `deadlines run`'s answer.
ApplyConsequence = Callable[[sa.Connection, Task, dt.date, Clock], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Consequence:
    name: str
    reports_as: str
    apply: ApplyConsequence


@dataclass
class RunReport:
    """What one run did: tasks that went overdue, consequences applied (by `reports_as`), reminders."""

    as_of: dt.date
    overdue: list[dict[str, Any]] = field(default_factory=list)
    reminded: list[dict[str, Any]] = field(default_factory=list)
    applied: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {"suspended": [], **self.applied, "overdue": self.overdue, "reminded": self.reminded}

    @property
    def changed(self) -> bool:
        return bool(self.overdue or self.reminded or any(self.applied.values()))


# ---------------------------------------------------------------------------------------- the rules


def resolve_rule(policy: Policy, path: str) -> WorkingDaysEntry:
    """The working-day rule at a dotted policy path, e.g.
    "objection.profiles.shanghai.forward_to_provider_within"."""
    node: Any = policy
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else getattr(node, part, None)
        if node is None:
            break
    if not isinstance(node, WorkingDaysEntry):
        raise ProblemError(
            Problem(
                "deadlines.unknown_rule",
                f"政策文件中没有以工作日计的时限规则 {path}",
                f"the policy has no working-day rule at {path}",
                field="rule",
            )
        )
    return node


# ---------------------------------------------------------------------------------------- writing


def open_task(
    conn: sa.Connection,
    *,
    matter: Matter,
    step: str,
    rule: str,
    owner: Owner,
    starts_on: dt.date,
    policy: Policy,
    calendar: WorkdayCalendar,
    clock: Clock,
    record_id: int | None = None,
) -> Task:
    """Open a task due `rule`'s working days after `starts_on`."""
    entry = resolve_rule(policy, rule)
    due = entry.due(starts_on, calendar)
    remind = max(calendar.add(due, -policy.deadlines.remind_before.working_days), starts_on)
    new_id = conn.execute(
        deadline_tasks.insert()
        .values(
            matter_kind=matter.kind,
            matter_id=matter.id,
            step=step,
            owner_kind=owner.kind,
            owner_uscc=owner.uscc,
            record_id=record_id,
            rule=rule,
            working_days=entry.working_days,
            starts_on=starts_on,
            due_on=due,
            remind_on=remind,
            consequence=entry.on_timeout.consequence if entry.on_timeout else None,
            state="open",
            created_at=clock.now(),
        )
        .returning(deadline_tasks.c.id)
    ).scalar_one()
    return _by_id(conn, new_id)


def record_done(
    conn: sa.Connection,
    *,
    matter: Matter,
    step: str,
    rule: str,
    owner: Owner,
    starts_on: dt.date,
    policy: Policy,
    calendar: WorkdayCalendar,
    clock: Clock,
    actor: str,
    record_id: int | None = None,
) -> Task:
    """A step done at once (the mark on an objection, a revoked record leaving view): the task is written
    done today, with the deadline it was held to and the working days it took since `starts_on`."""
    opened = open_task(
        conn,
        matter=matter,
        step=step,
        rule=rule,
        owner=owner,
        starts_on=starts_on,
        policy=policy,
        calendar=calendar,
        clock=clock,
        record_id=record_id,
    )
    done = complete(conn, matter=matter, step=step, calendar=calendar, clock=clock, actor=actor)
    assert done is not None and done.id == opened.id
    return done


def complete(
    conn: sa.Connection, *, matter: Matter, step: str, calendar: WorkdayCalendar, clock: Clock, actor: str
) -> Task | None:
    """Mark the step done today (late when after its due day); None when it is not open or overdue."""
    found = task(conn, matter, step)
    if found is None or found.state not in ("open", "overdue"):
        return None
    today = _today(clock)
    t = deadline_tasks
    done = conn.execute(
        t.update()
        .where(t.c.id == found.id, t.c.state == found.state)
        .values(
            state="done",
            done_at=clock.now(),
            done_on=today,
            taken_working_days=calendar.between(found.starts_on, today),
            late=today > found.due_on,
            closed_by=actor[:100],
        )
    )
    return _by_id(conn, found.id) if done.rowcount == 1 else None


def cancel(conn: sa.Connection, *, matter: Matter, step: str, clock: Clock, actor: str) -> Task | None:
    """Close a step that no longer needs doing (the platform decided itself, so nothing is forwarded)."""
    found = task(conn, matter, step)
    if found is None or found.state not in ("open", "overdue"):
        return None
    t = deadline_tasks
    done = conn.execute(
        t.update()
        .where(t.c.id == found.id, t.c.state == found.state)
        .values(state="cancelled", done_at=clock.now(), done_on=_today(clock), closed_by=actor[:100])
    )
    return _by_id(conn, found.id) if done.rowcount == 1 else None


# ---------------------------------------------------------------------------------------- reading


def task(conn: sa.Connection, matter: Matter, step: str) -> Task | None:
    t = deadline_tasks
    row = conn.execute(
        sa.select(t).where(t.c.matter_kind == matter.kind, t.c.matter_id == matter.id, t.c.step == step)
    ).first()
    return Task.of(row) if row is not None else None


def tasks_of(conn: sa.Connection, matter: Matter) -> list[Task]:
    t = deadline_tasks
    rows = conn.execute(
        sa.select(t).where(t.c.matter_kind == matter.kind, t.c.matter_id == matter.id).order_by(t.c.id)
    )
    return [Task.of(r) for r in rows]


def tasks_for(
    conn: sa.Connection, *, owner: Owner, view: View, as_of: dt.date, limit: int = 500
) -> list[Task]:
    """One owner's queue. due_today: open and due on `as_of`; overdue: not done and due before `as_of`
    (whether or not a run has marked it yet); done: finished, newest first; open: every open task."""
    t = deadline_tasks
    query = sa.select(t).where(t.c.owner_kind == owner.kind)
    query = query.where(t.c.owner_uscc == owner.uscc if owner.uscc else t.c.owner_uscc.is_(None))
    if view == "due_today":
        query = query.where(t.c.state == "open", t.c.due_on == as_of).order_by(t.c.id)
    elif view == "overdue":
        query = query.where(t.c.state.in_(("open", "overdue")), t.c.due_on < as_of).order_by(
            t.c.due_on, t.c.id
        )
    elif view == "done":
        query = query.where(t.c.state == "done").order_by(t.c.done_at.desc(), t.c.id.desc())
    elif view == "open":
        query = query.where(t.c.state.in_(("open", "overdue"))).order_by(t.c.due_on, t.c.id)
    else:
        raise ProblemError(
            Problem(
                "deadlines.view",
                f"未知的待办视图 {view}，可选：{'、'.join(VIEWS)}",
                f"unknown queue view {view}; one of {', '.join(VIEWS)}",
                field="view",
            )
        )
    return [Task.of(r) for r in conn.execute(query.limit(limit))]


# ---------------------------------------------------------------------------------------- timeouts


def run(
    conn: sa.Connection,
    *,
    as_of: dt.date,
    clock: Clock,
    consequences: Mapping[str, Consequence],
) -> RunReport:
    """Time out every open task due before `as_of` and apply its consequence; send due reminders.

    Idempotent: a task goes from open to overdue once (a conditional update, so two runs at the same
    moment cannot both take it), and its consequence is applied in the same transaction. `as_of` may be a
    past day (catching up after an outage) but not a future one: a deadline cannot pass before it does.
    """
    today = _today(clock)
    if as_of > today:
        raise ProblemError(
            Problem(
                "deadlines.future",
                f"不能按未来日期 {as_of} 处理时限（今天是 {today}）",
                f"deadlines cannot be run as of a future day {as_of} (today is {today})",
                field="as_of",
            )
        )
    t = deadline_tasks
    due = [
        Task.of(r)
        for r in conn.execute(
            sa.select(t).where(t.c.state == "open", t.c.due_on < as_of).order_by(t.c.due_on, t.c.id)
        )
    ]
    _require_handlers((task.consequence for task in due), consequences)
    report = RunReport(as_of=as_of)
    for late in due:
        taken = conn.execute(
            t.update().where(t.c.id == late.id, t.c.state == "open").values(state="overdue", overdue_on=as_of)
        )
        if taken.rowcount != 1:
            continue  # another run took it
        entry = late.as_dict() | {"state": "overdue", "overdue_on": as_of.isoformat()}
        if late.consequence in BUILT_IN:
            conn.execute(t.update().where(t.c.id == late.id).values(flagged=True, consequence_on=as_of))
            entry["flagged"] = True
        elif late.consequence is not None:
            handler = consequences[late.consequence]
            outcome = handler.apply(conn, late, as_of, clock)
            conn.execute(t.update().where(t.c.id == late.id).values(consequence_on=as_of))
            if outcome is not None:
                report.applied.setdefault(handler.reports_as, []).append(
                    {"task_id": late.id, "matter": entry["matter"], **outcome}
                )
        report.overdue.append(entry)

    reminders = conn.execute(
        sa.select(t).where(
            t.c.state == "open", t.c.reminded_on.is_(None), t.c.remind_on <= as_of, t.c.due_on >= as_of
        )
    ).all()
    for row in reminders:
        sent = conn.execute(
            t.update().where(t.c.id == row.id, t.c.reminded_on.is_(None)).values(reminded_on=as_of)
        )
        if sent.rowcount == 1:
            reminded = Task.of(row)
            report.reminded.append(reminded.as_dict() | {"reminded_on": as_of.isoformat()})
            _emit_reminder(conn, reminded, clock=clock)
    return report


def _emit_reminder(conn: sa.Connection, task: Task, *, clock: Clock) -> None:
    """A reminder goes to the outbox like every step, so the task's owner is told the way every party is
    (the rights chapter's notifier writes the inbox and the e-mail from it)."""
    emit(
        conn,
        event_type="deadline.reminder",
        clock=clock,
        record_id=task.record_id,
        payload={
            f"{task.matter.kind}_id": task.matter.id,
            "matter": {"kind": task.matter.kind, "id": task.matter.id},
            "task_id": task.id,
            "step": task.step,
            "due_on": task.due_on.isoformat(),
            "owner": task.owner.as_dict(),
            "rule": task.rule,
        },
    )


def _require_handlers(names: Iterable[str | None], consequences: Mapping[str, Consequence]) -> None:
    missing = sorted({n for n in names if n and n not in BUILT_IN and n not in consequences})
    if missing:
        raise ProblemError(
            Problem(
                "deadlines.consequence_missing",
                f"时限后果 {'、'.join(missing)} 没有执行者：请通过 `xinyong deadlines run` 运行",
                f"no handler for the timeout consequence(s) {', '.join(missing)}: "
                "run through `xinyong deadlines run`",
            )
        )


def _by_id(conn: sa.Connection, task_id: int) -> Task:
    return Task.of(conn.execute(sa.select(deadline_tasks).where(deadline_tasks.c.id == task_id)).one())


def _today(clock: Clock) -> dt.date:
    return clock.now().astimezone(CHINA).date()


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None
