"""What the rights chapter does when one of its deadlines passes (`on_timeout` in the policy).

suspend_disclosure   the provider did not decide an objection in time: the disputed record leaves every
                     audience but the subject and the platform (policy `disclosure.states.suspended`) until
                     the objection is decided. Written as a state change with its version kept, an event
                     and an audit entry, in the run's transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.deadlines import Consequence, Task
from xinyong.events import emit
from xinyong.rights import records as rec
from xinyong.rights.actors import record_ref, subject_code
from xinyong.security import audit
from xinyong.security.principal import Principal

DEADLINES_ACTOR = Principal.system("deadlines")


def suspend_disclosure(
    conn: sa.Connection, task: Task, as_of: dt.date, clock: Clock
) -> dict[str, Any] | None:
    """Suspend the disputed record's disclosure; None when it is no longer disputed (decided, revoked…)."""
    if task.record_id is None:
        return None
    record = rec.record_row(conn, task.record_id)
    if record is None or record.state != "disputed":
        return None
    reason = f"{task.matter.kind}:{task.matter.id}:suspended"
    rec.change_state(conn, record=record, to="suspended", reason=reason, now=clock.now())
    emit(
        conn,
        event_type="record.suspended",
        clock=clock,
        subject_id=record.subject_id,
        record_id=record.id,
        payload={
            f"{task.matter.kind}_id": task.matter.id,
            "record": record_ref(record),
            "subject": subject_code(conn, record.subject_id),
            "state": "suspended",
            "late": {"owner": task.owner.uscc, "due_on": task.due_on.isoformat(), "rule": task.rule},
        },
    )
    audit.record(
        conn,
        principal=DEADLINES_ACTOR,
        action="record.suspend",
        clock=clock,
        object_type="record",
        object_id=record.id,
        subject=audit.SubjectRef.of_subject(conn, record.subject_id),
        detail={"task_id": task.id, "rule": task.rule, "due_on": task.due_on.isoformat()},
    )
    return {"record_id": record.id, "owner": task.owner.uscc, "due_on": task.due_on.isoformat()}


CONSEQUENCES: dict[str, Consequence] = {
    "suspend_disclosure": Consequence("suspend_disclosure", "suspended", suspend_disclosure),
}
