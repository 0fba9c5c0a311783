"""One deadline engine for every chapter: tasks held to working-day deadlines from the policy.

A task has an owner (the platform, or one organisation by USCC), the matter it belongs to (an objection, a
repair application, a record, later a list entry or a case), a step, and a due day computed by the policy
rule it names on the statutory calendar (调休 included). A task still open after its due day becomes
overdue, and the consequence its rule names (`on_timeout`) is applied by `run()`, idempotently.

Chapters above use it; it imports none of them. A consequence that needs a chapter's tables (suspending a
record's disclosure) is passed to `run()` by the caller (`xinyong deadlines run`, `xinyong serve`).
"""

from xinyong.deadlines.models import TASK_STATES, deadline_tasks
from xinyong.deadlines.service import (
    Consequence,
    Matter,
    Owner,
    RunReport,
    Task,
    cancel,
    complete,
    open_task,
    record_done,
    resolve_rule,
    run,
    task,
    tasks_for,
    tasks_of,
)

__all__ = [
    "TASK_STATES",
    "Consequence",
    "Matter",
    "Owner",
    "RunReport",
    "Task",
    "cancel",
    "complete",
    "deadline_tasks",
    "open_task",
    "record_done",
    "resolve_rule",
    "run",
    "task",
    "tasks_for",
    "tasks_of",
]
