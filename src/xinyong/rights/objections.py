"""Objections (异议): filed by a subject against one record, marked at once, decided by the platform or,
once forwarded, by the record's source department — every step held to the policy's working days.

    file      the record is marked 异议处理中 in the same transaction (every channel reads its state);
              tasks: mark (done at once), platform decides, forward
    forward   the platform sends it to the record's source department; task: the provider decides
    decide    upheld (维持: the mark is lifted), corrected (a new version of the record, validated as
              collection validates, its provenance naming the objection) or removed (撤销: the record's state
              becomes withdrawn; its versions stay)

A provider that misses its deadline loses the right to keep showing the record: `xinyong deadlines run`
suspends its disclosure (consequences.py) until the objection is decided. Every step is audited and writes
an event to the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from xinyong import deadlines
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.clock import CHINA
from xinyong.deadlines import Matter, Owner
from xinyong.events import emit
from xinyong.policy import Policy, WorkdayCalendar, load_policy
from xinyong.problems import Problem
from xinyong.rights import attachments as files
from xinyong.rights import records as rec
from xinyong.rights.actors import acting_subject, is_platform, record_ref, subject_code
from xinyong.rights.corrections import correct
from xinyong.rights.errors import Refused
from xinyong.rights.models import OBJECTION_KINDS, OBJECTION_OUTCOMES, objections
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.errors import AccessDenied
from xinyong.security.masking import mask_ids_in_text
from xinyong.security.principal import Principal

STEP_MARK = "objection.mark"
STEP_PLATFORM = "objection.platform_decide"
STEP_FORWARD = "objection.forward"
STEP_PROVIDER = "objection.provider_decide"
MAX_REASON = 2000

KIND_LABELS = {
    "wrong": ("信息有误", "the information is wrong"),
    "incomplete": ("信息遗漏", "the information is incomplete"),
    "not_mine": ("非本主体信息", "the information is not about this subject"),
    "unlawful": ("违规披露", "the information is disclosed unlawfully"),
}
OUTCOME_LABELS = {
    "upheld": ("维持", "upheld"),
    "corrected": ("更正", "corrected"),
    "removed": ("撤销（删除）", "removed"),
}
STATE_LABELS = {
    "open": ("异议处理中（平台受理）", "being handled by the platform"),
    "forwarded": ("已转交信息提供单位核查", "forwarded to the providing department"),
    "decided": ("已办结", "decided"),
}


def free_text(text: str) -> str:
    """What an applicant or a clerk writes, kept with any ID number in it masked (never stored in clear)."""
    return mask_ids_in_text(text.strip())[:MAX_REASON]


def rule_path(policy: Policy, name: str) -> str:
    """The active profile's rule, named in full so a task says which jurisdiction's deadline held it."""
    return f"objection.profiles.{policy.objection.active_profile}.{name}"


# ------------------------------------------------------------------------------------------------ file


def file_objection(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    record_id: int,
    reason: str,
    kind: str = "wrong",
    subject: str | None = None,
    attachment_ids: tuple[int, ...] = (),
    policy: Policy | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    """File an objection to one record and mark it 异议处理中 at once; returns `show()`'s answer.

    `attachment_ids`: files stored with `attachments.store` (evidence: a receipt, a court ruling)."""
    policy = policy or load_policy()
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    text = (reason or "").strip()
    problems = []
    if kind not in OBJECTION_KINDS:
        problems.append(
            Problem(
                "objection.kind",
                f"异议类型“{kind}”无效，可选：{'、'.join(OBJECTION_KINDS)}",
                f"unknown objection kind {kind!r}; one of {', '.join(OBJECTION_KINDS)}",
                field="kind",
            )
        )
    if not text:
        problems.append(
            Problem("objection.reason", "请写明异议理由", "an objection states its reason", field="reason")
        )
    if problems:
        raise Refused(*problems)
    record = rec.require_record(conn, record_id)
    subject_id, via = acting_subject(conn, runtime, principal, record=record, subject_code=subject)
    if _open_on(conn, record.id) is not None:
        raise _already_open(record.id)
    if record.state not in rec.DISCLOSED_STATES:
        raise Refused.one(
            "objection.record_state",
            f"该记录当前状态为“{record.state}”，已不再对外披露，无需提出异议",
            f"the record is in state {record.state!r} and no longer disclosed: there is nothing to object to",
            status=409,
            field="record",
        )
    now = clock.now()
    try:
        with conn.begin_nested():
            objection_id = conn.execute(
                objections.insert()
                .values(
                    record_id=record.id,
                    subject_id=subject_id,
                    open_record_id=record.id,
                    kind=kind,
                    reason=free_text(text),
                    state="open",
                    record_state_before=record.state,
                    filed_by=principal.actor[:100],
                    filed_via=via,
                    created_at=now,
                )
                .returning(objections.c.id)
            ).scalar_one()
    except sa.exc.IntegrityError:
        raise _already_open(record.id) from None  # filed by someone else at the same moment
    rec.change_state(conn, record=record, to="disputed", reason=f"objection:{objection_id}:filed", now=now)
    files.attach_to(conn, list(attachment_ids), matter_kind="objection", matter_id=objection_id)

    matter = Matter("objection", objection_id)
    today = now.astimezone(CHINA).date()
    common = {
        "matter": matter,
        "policy": policy,
        "calendar": calendar,
        "clock": clock,
        "record_id": record.id,
    }
    deadlines.record_done(
        conn,
        step=STEP_MARK,
        rule=rule_path(policy, "mark_disputed_within"),
        owner=Owner.platform(),
        starts_on=today,
        actor=principal.actor,
        **common,
    )
    for step, name in (
        (STEP_PLATFORM, "platform_decides_within"),
        (STEP_FORWARD, "forward_to_provider_within"),
    ):
        deadlines.open_task(
            conn, step=step, rule=rule_path(policy, name), owner=Owner.platform(), starts_on=today, **common
        )
    emit(
        conn,
        event_type="record.disputed",
        clock=clock,
        subject_id=subject_id,
        record_id=record.id,
        payload={
            "objection_id": objection_id,
            "record": record_ref(record),
            "subject": subject_code(conn, subject_id),
            "state": "disputed",
            "kind": kind,
        },
    )
    audit.record(
        conn,
        principal=principal,
        action="objection.file",
        clock=clock,
        object_type="objection",
        object_id=objection_id,
        subject=audit.SubjectRef.of_subject(conn, subject_id),
        detail={"record_id": record.id, "kind": kind, "via": via},
    )
    return show(conn, objection_id=objection_id)


def _open_on(conn: sa.Connection, record_id: int) -> int | None:
    return conn.execute(sa.select(objections.c.id).where(objections.c.open_record_id == record_id)).scalar()


def _already_open(record_id: int) -> Refused:
    return Refused.one(
        "objection.already_open",
        f"信用记录 {record_id} 已有正在处理的异议，请等待处理结果，不能重复提出",
        f"credit record {record_id} already has an objection being handled; wait for its outcome",
        status=409,
        field="record",
    )


# --------------------------------------------------------------------------------------------- forward


def forward(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    objection_id: int,
    policy: Policy | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    """The platform sends the objection to the record's source department, which then has its deadline."""
    policy = policy or load_policy()
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    row = _require(conn, objection_id)
    if not is_platform(principal):
        raise AccessDenied(
            Problem(
                "objection.not_platform",
                "只有信用信息平台可以转交异议",
                "only the platform forwards objections",
            )
        )
    record = rec.require_record(conn, row.record_id)
    now = clock.now()
    moved = conn.execute(
        objections.update()
        .where(objections.c.id == objection_id, objections.c.state == "open")
        .values(
            state="forwarded",
            forwarded_at=now,
            forwarded_by=principal.actor[:100],
            forwarded_to_uscc=record.source_uscc,
        )
    )
    if moved.rowcount != 1:
        raise _not_in_state(objection_id, row.state, "open")
    matter = Matter("objection", objection_id)
    deadlines.complete(
        conn, matter=matter, step=STEP_FORWARD, calendar=calendar, clock=clock, actor=principal.actor
    )
    deadlines.cancel(conn, matter=matter, step=STEP_PLATFORM, clock=clock, actor=principal.actor)
    deadlines.open_task(
        conn,
        matter=matter,
        step=STEP_PROVIDER,
        rule=rule_path(policy, "provider_decides_within"),
        owner=Owner.organisation(record.source_uscc),
        starts_on=now.astimezone(CHINA).date(),
        policy=policy,
        calendar=calendar,
        clock=clock,
        record_id=record.id,
    )
    emit(
        conn,
        event_type="objection.forwarded",
        clock=clock,
        subject_id=row.subject_id,
        record_id=record.id,
        payload={"objection_id": objection_id, "record": record_ref(record), "to": record.source_uscc},
    )
    audit.record(
        conn,
        principal=principal,
        action="objection.forward",
        clock=clock,
        object_type="objection",
        object_id=objection_id,
        subject=audit.SubjectRef.of_subject(conn, row.subject_id),
        detail={"record_id": record.id, "to": record.source_uscc},
    )
    return show(conn, objection_id=objection_id)


# ---------------------------------------------------------------------------------------------- decide


def decide(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    objection_id: int,
    outcome: str,
    reason: str,
    values: Mapping[str, str | None] | None = None,
    catalog: Catalog | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    """Decide an objection: upheld, corrected (with `values`), or removed. Only the platform, or the record's
    source department once the objection was forwarded to it, decides; of two deciding at once, one wins."""
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    values = dict(values or {})
    row = _require(conn, objection_id)
    if row.state == "decided":
        raise _not_in_state(objection_id, row.state, "open")
    record = rec.require_record(conn, row.record_id)
    decider = _decider(principal, record, row)
    _check_decision(outcome, reason, values)
    correction = None
    if outcome == "corrected":
        item = (catalog or load_catalog()).item(record.item_code)
        correction = correct(item, record, values, today=clock.now().astimezone(CHINA).date())

    now = clock.now()
    o = objections
    taken = conn.execute(
        o.update()
        .where(o.c.id == objection_id, o.c.state == row.state)
        .values(
            state="decided",
            open_record_id=None,
            outcome=outcome,
            decision_reason=free_text(reason),
            decided_at=now,
            decided_by=principal.actor[:100],
            decided_by_uscc=decider,
        )
    )
    if taken.rowcount != 1:
        raise _not_in_state(objection_id, "decided", row.state)

    current = rec.require_record(conn, record.id)
    held = current.state in rec.OBJECTION_STATES
    why = f"objection:{objection_id}:{outcome}"
    event_type, version = "record.dispute_closed", None
    if outcome == "upheld" and held:
        rec.change_state(conn, record=current, to=row.record_state_before, reason=why, now=now)
    elif outcome == "corrected":
        assert correction is not None
        version = rec.new_version(
            conn,
            record=current,
            data=correction.data,
            original=correction.original,
            content_hash=correction.content_hash,
            dates=correction.dates,
            state="corrected" if held else current.state,
            reason=why,
            now=now,
        )
        conn.execute(o.update().where(o.c.id == objection_id).values(corrected_version=version))
        event_type = "record.corrected"
    elif outcome == "removed":
        if held or current.state in rec.DISCLOSED_STATES:
            rec.change_state(conn, record=current, to="withdrawn", reason=why, now=now)
        event_type = "record.removed"

    matter = Matter("objection", objection_id)
    actor = principal.actor
    if row.state == "open":
        deadlines.complete(
            conn, matter=matter, step=STEP_PLATFORM, calendar=calendar, clock=clock, actor=actor
        )
        deadlines.cancel(conn, matter=matter, step=STEP_FORWARD, clock=clock, actor=actor)
    elif decider is not None:
        deadlines.complete(
            conn, matter=matter, step=STEP_PROVIDER, calendar=calendar, clock=clock, actor=actor
        )
    else:  # the platform decided what it had forwarded: the provider's task is closed, not done by it
        deadlines.cancel(conn, matter=matter, step=STEP_PROVIDER, clock=clock, actor=actor)

    after = rec.require_record(conn, record.id)
    emit(
        conn,
        event_type=event_type,
        clock=clock,
        subject_id=row.subject_id,
        record_id=record.id,
        payload={
            "objection_id": objection_id,
            "record": record_ref(record),
            "subject": subject_code(conn, row.subject_id),
            "outcome": outcome,
            "state": after.state,
            "version": after.version,
            "changed": list(correction.changed) if correction else [],
        },
    )
    audit.record(
        conn,
        principal=principal,
        action="objection.decide",
        clock=clock,
        object_type="objection",
        object_id=objection_id,
        subject=audit.SubjectRef.of_subject(conn, row.subject_id),
        detail={
            "record_id": record.id,
            "outcome": outcome,
            "decided_by": decider or "platform",
            "changed": list(correction.changed) if correction else [],
        },
    )
    return show(conn, objection_id=objection_id)


def _closer(
    conn: sa.Connection, matter: Matter, *, calendar: WorkdayCalendar, runtime: Runtime, actor: str
) -> Any:
    """close(step, done=True) marks a step done; done=False cancels it (it no longer needs doing)."""

    def close(step: str, *, done: bool) -> None:
        if done:
            deadlines.complete(
                conn, matter=matter, step=step, calendar=calendar, clock=runtime.clock, actor=actor
            )
        else:
            deadlines.cancel(conn, matter=matter, step=step, clock=runtime.clock, actor=actor)

    return close


def _decider(principal: Principal, record: Any, row: Any) -> str | None:
    """None when the platform decides; the department's USCC when the record's source decides."""
    if is_platform(principal):
        return None
    own = principal.organisation_uscc
    if own is not None and own == record.source_uscc:
        if row.state == "forwarded":
            return own
        raise Refused.one(
            "objection.not_forwarded",
            "该异议尚未转交本单位核查，由信用信息平台处理",
            "this objection has not been forwarded to your department; the platform is handling it",
            status=409,
        )
    raise AccessDenied(
        Problem(
            "objection.not_decider",
            "只有该记录的数据来源单位或信用信息平台可以作出异议处理决定",
            "only the record's source department or the platform may decide this objection",
        )
    )


def _check_decision(outcome: str, reason: str, values: Mapping[str, Any]) -> None:
    problems = []
    if outcome not in OBJECTION_OUTCOMES:
        problems.append(
            Problem(
                "objection.outcome",
                f"处理结果“{outcome}”无效，可选：{'、'.join(OBJECTION_OUTCOMES)}",
                f"unknown outcome {outcome!r}; one of {', '.join(OBJECTION_OUTCOMES)}",
                field="outcome",
            )
        )
    if not (reason or "").strip():
        problems.append(
            Problem(
                "objection.decision_reason",
                "请写明处理理由（将告知申请人）",
                "a decision states its reason (the applicant is told)",
                field="reason",
            )
        )
    if outcome == "corrected" and not values:
        problems.append(
            Problem(
                "objection.no_values",
                "更正须给出更正后的字段值（--set 字段=值）",
                "a correction gives the corrected values (--set FIELD=VALUE)",
                field="set",
            )
        )
    if outcome in ("upheld", "removed") and values:
        problems.append(
            Problem(
                "objection.values_unexpected",
                "只有“更正”需要字段值",
                "only a correction takes field values",
                field="set",
            )
        )
    if problems:
        raise Refused(*problems)


def _not_in_state(objection_id: int, state: str, expected: str) -> Refused:
    zh, en = STATE_LABELS.get(state, (state, state))
    return Refused.one(
        "objection.state",
        f"异议 {objection_id} 当前为“{zh}”，不能执行此操作（可能已被他人处理）",
        f"objection {objection_id} is {en}: this step no longer applies (someone may have acted on it)",
        status=409,
    )


# ------------------------------------------------------------------------------------------------ read


def _require(conn: sa.Connection, objection_id: int) -> Any:
    row = conn.execute(sa.select(objections).where(objections.c.id == objection_id)).first()
    if row is None:
        raise Refused.one(
            "objection.not_found",
            f"没有编号为 {objection_id} 的异议",
            f"no objection {objection_id}",
            status=404,
        )
    return row


def show(conn: sa.Connection, *, objection_id: int) -> dict[str, Any]:
    """An objection with its record, each step's deadline and what happened (the applicant's view too)."""
    row = _require(conn, objection_id)
    record = rec.require_record(conn, row.record_id)
    tasks = deadlines.tasks_of(conn, Matter("objection", objection_id))
    state_zh, state_en = STATE_LABELS[row.state]
    outcome = OUTCOME_LABELS.get(row.outcome) if row.outcome else None
    return {
        "id": row.id,
        "state": row.state,
        "state_label": {"zh": state_zh, "en": state_en},
        "record_id": row.record_id,
        "record": {**record_ref(record), "state": record.state, "version": record.version},
        "subject": subject_code(conn, row.subject_id),
        "kind": row.kind,
        "reason": row.reason,
        "filed_at": row.created_at.astimezone(CHINA).isoformat(),
        "filed_via": row.filed_via,
        "forwarded_to": row.forwarded_to_uscc,
        "outcome": row.outcome,
        "outcome_label": {"zh": outcome[0], "en": outcome[1]} if outcome else None,
        "decision_reason": row.decision_reason,
        "decided_at": row.decided_at.astimezone(CHINA).isoformat() if row.decided_at else None,
        "decided_by": row.decided_by_uscc or ("platform" if row.decided_at else None),
        "corrected_version": row.corrected_version,
        "attachments": files.listed(conn, matter_kind="objection", matter_id=row.id),
        "due": {
            t.step.removeprefix("objection."): {
                "due_on": t.due_on.isoformat(),
                "state": t.state,
                "owner": t.owner.as_dict(),
                "rule": t.rule,
                "done_on": t.done_on.isoformat() if t.done_on else None,
                "late": t.late,
            }
            for t in tasks
        },
    }
