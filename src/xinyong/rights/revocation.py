"""A provider reports that the decision behind a record was revoked or changed (撤销/变更): the record
leaves public view at once, and the policy's deadline for that (revoked_decision_removed_within, counted
from the day the decision was revoked) is measured and kept as a done task.

Only the record's source department, a collection system that forwarded the record, or the platform may
report it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from xinyong import deadlines
from xinyong.clock import CHINA
from xinyong.deadlines import Matter, Owner
from xinyong.events import emit
from xinyong.policy import Policy, WorkdayCalendar, load_policy
from xinyong.problems import Problem
from xinyong.rights import records as rec
from xinyong.rights.actors import is_platform, record_ref, subject_code
from xinyong.rights.errors import Refused
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.errors import AccessDenied
from xinyong.security.principal import Principal

STEP = "revocation.remove"
RULE = "objection.revoked_decision_removed_within"


def revoke(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    item_code: str,
    source_uscc: str,
    source_key: str,
    revoked_on: dt.date | None = None,
    reason: str | None = None,
    policy: Policy | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    policy = policy or load_policy()
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    now = clock.now()
    today = now.astimezone(CHINA).date()
    item, source, key = item_code.strip().upper(), source_uscc.strip().upper(), source_key.strip()
    record = rec.find_by_identity(conn, item_code=item, source_uscc=source, source_key=key)
    if record is None:
        raise Refused.one(
            "record.not_found",
            f"没有事项 {item}、来源单位 {source}、文书号“{key}”的信用记录",
            f"no {item} record from {source} with key {key!r}",
            status=404,
        )
    if not is_platform(principal) and principal.organisation_uscc not in rec.writers(conn, record):
        raise AccessDenied(
            Problem(
                "record.not_writer",
                "只有该记录的数据来源单位、报送它的归集系统或信用信息平台可以报告撤销",
                "only the record's source department, the collection system that sent it, or the platform "
                "may report it revoked",
            )
        )
    if record.state == "withdrawn":
        raise Refused.one(
            "record.already_withdrawn",
            f"该记录已于此前撤销（记录 {record.id}），无需重复报告",
            f"the record ({record.id}) is already withdrawn",
            status=409,
        )
    start = revoked_on or today
    if start > today:
        raise Refused.one(
            "record.revoked_in_future",
            f"撤销日期 {start} 晚于今天 {today}",
            f"the revocation date {start} is after today {today}",
            field="revoked_on",
        )
    rec.change_state(conn, record=record, to="withdrawn", reason="revoked", now=now)
    task = deadlines.record_done(
        conn,
        matter=Matter("record", record.id),
        step=STEP,
        rule=RULE,
        owner=Owner.platform(),
        starts_on=start,
        policy=policy,
        calendar=calendar,
        clock=clock,
        actor=principal.actor,
        record_id=record.id,
    )
    event_id = emit(
        conn,
        event_type="record.revoked",
        clock=clock,
        subject_id=record.subject_id,
        record_id=record.id,
        payload={
            "record": record_ref(record),
            "subject": subject_code(conn, record.subject_id),
            "state": "withdrawn",
            "previous_state": record.state,
            "revoked_on": start.isoformat(),
        },
    )
    audit.record(
        conn,
        principal=principal,
        action="record.revoke",
        clock=clock,
        object_type="record",
        object_id=record.id,
        subject=audit.SubjectRef.of_subject(conn, record.subject_id),
        detail={"revoked_on": start.isoformat(), "reason": (reason or "")[:200], "late": bool(task.late)},
    )
    return {
        "record_id": record.id,
        "record": record_ref(record),
        "state": "withdrawn",
        "previous_state": record.state,
        "revoked_on": start.isoformat(),
        "task": task.as_dict(),
        "event_id": event_id,
    }
