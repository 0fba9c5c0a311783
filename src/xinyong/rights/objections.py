"""Objections (异议): filed by a subject against one record, marked at once, decided by the platform or,
once forwarded, by the record's source department — every step held to the policy's working days.

    file      the record is marked 异议处理中 in the same transaction (every channel reads its state);
              tasks: mark (done at once), platform decides, forward
    forward   the platform sends it to the record's source department; task: the provider decides
    decide    upheld (维持: the mark is lifted), corrected (a new version of the record, validated as
              collection validates, its provenance naming the objection), removed (撤销: the record's state
              becomes withdrawn; its versions stay) or — a `not_mine` objection, decided by the platform —
              moved (移交: the record goes to the subject it is really about, with the registry's evidence
              in record_moves, and can be moved back with `undo_move`)

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
from xinyong.codes.normalize import normalize_code
from xinyong.collect.service import NameSeal
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
from xinyong.subjects import service as registry
from xinyong.subjects.models import subjects

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
    "moved": ("移交至正确的信用主体", "moved to the subject it is about"),
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
    to_subject: str | None = None,
    catalog: Catalog | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    """Decide an objection: upheld, corrected (with `values`), removed, or moved (`to_subject`: the code of
    the subject a `not_mine` record is really about; the platform only). Only the platform, or the record's
    source department once the objection was forwarded to it, decides; of two deciding at once, one wins."""
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    values = dict(values or {})
    row = _require(conn, objection_id)
    if row.state == "decided":
        raise _not_in_state(objection_id, row.state, "open")
    record = rec.require_record(conn, row.record_id)
    decider = _decider(principal, record, row)
    _check_decision(outcome, reason, values, to_subject)
    target = _move_target(conn, runtime, principal, row, record, to_subject) if outcome == "moved" else None
    correction = None
    if outcome == "corrected":
        item = (catalog or load_catalog()).item(record.item_code)
        today = clock.now().astimezone(CHINA).date()
        correction = correct(item, record, values, today=today, seal=NameSeal.of(runtime))

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
    event_type, version, move = "record.dispute_closed", None, None
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
    elif outcome == "moved":
        assert target is not None
        move = _move(conn, runtime, principal, row, current, target, reason=free_text(reason), why=why)
        event_type = "record.moved"

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
            **(move or {}),
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
            **(move or {}),
        },
    )
    return show(conn, objection_id=objection_id)


def _move_target(
    conn: sa.Connection, runtime: Runtime, principal: Principal, row: Any, record: Any, code: str | None
) -> int:
    """The registry subject a `not_mine` record moves to; every refusal before anything is written."""
    if not is_platform(principal):
        raise AccessDenied(
            Problem(
                "objection.move_not_platform",
                "只有信用信息平台可以将记录移交给另一信用主体（主体匹配错误由平台核实）",
                "only the platform moves a record to another subject (it checks a wrong match itself)",
            )
        )
    if row.kind != "not_mine":
        raise Refused.one(
            "objection.move_not_mine",
            "只有“非本主体信息”（not_mine）类异议可以以移交记录办结",
            "only a 'not_mine' objection (the record is not about this subject) is decided by moving it",
            field="outcome",
        )
    assert code is not None  # _check_decision asked for it
    typed = normalize_code(code)
    # A code is letters and digits (USCC 18, ID number 18, legacy codes shorter): anything else names no one,
    # and is not sent to the database (PostgreSQL refuses a NUL character in a query).
    plausible = typed.isascii() and typed.isalnum() and len(typed) <= 20
    found = registry.find_subject_id(conn, typed, protector=runtime.protector) if plausible else None
    status = (
        conn.execute(sa.select(subjects.c.status).where(subjects.c.id == found)).scalar() if found else None
    )
    if found is None or status != "active":
        raise Refused.one(
            "objection.move_unknown_subject",
            "主体库中没有该代码的信用主体，请先通过归集或主体登记使其入库后再移交",
            "no subject of the registry holds that code: register it (through collection) before moving",
            status=404,
            field="to_subject",
        )
    if int(found) == int(record.subject_id):
        raise Refused.one(
            "objection.move_same_subject",
            "该记录已属于这一信用主体，移交须指向另一主体",
            "the record is already about that subject: a move names another subject",
            field="to_subject",
        )
    return int(found)


def _move(
    conn: sa.Connection,
    runtime: Runtime,
    principal: Principal,
    row: Any,
    current: Any,
    target: int,
    *,
    reason: str,
    why: str,
) -> dict[str, Any]:
    """Lift the mark (the record is right, only about someone else), then re-attach it in the registry."""
    now = runtime.clock.now()
    if current.state in rec.OBJECTION_STATES:
        rec.change_state(conn, record=current, to=row.record_state_before, reason=why, now=now)
    try:
        move_id = registry.move_record(
            conn,
            record_id=current.id,
            to_subject_id=target,
            reason=reason,
            decided_by=principal.actor,
            clock=runtime.clock,
            requested_by=f"objection:{row.id}",
        )
    except registry.MoveRefused:
        raise rec.changed_meanwhile(current.id) from None
    conn.execute(objections.update().where(objections.c.id == row.id).values(move_id=move_id))
    audit.record(
        conn,
        principal=principal,
        action="record.move",
        clock=runtime.clock,
        object_type="record",
        object_id=current.id,
        subject=audit.SubjectRef.of_subject(conn, target),
        detail={"move_id": move_id, "from": current.subject_id, "to": target, "objection_id": row.id},
    )
    return {
        "move_id": move_id,
        "from_subject": subject_code(conn, current.subject_id),
        "to_subject": subject_code(conn, target),
    }


def undo_move(
    conn: sa.Connection, *, runtime: Runtime, principal: Principal, move_id: int, reason: str
) -> dict[str, Any]:
    """Put a moved record back on the subject it was moved from (the platform only); both the move and its
    undoing stay in record_moves. Returns the move as `move_view` shows it."""
    if not is_platform(principal):
        raise AccessDenied(
            Problem(
                "objection.move_not_platform",
                "只有信用信息平台可以撤回记录移交",
                "only the platform undoes a record move",
            )
        )
    if not (reason or "").strip():
        raise Refused.one(
            "objection.decision_reason", "请写明撤回理由", "an undo states its reason", field="reason"
        )
    try:
        move = registry.undo_record_move(
            conn, move_id=move_id, undone_by=principal.actor, reason=free_text(reason), clock=runtime.clock
        )
    except registry.MoveRefused as exc:
        missing = registry.record_move(conn, move_id) is None
        raise Refused.one(
            "objection.move_not_found" if missing else "objection.move_undone",
            f"没有编号为 {move_id} 的记录移交" if missing else f"记录移交 {move_id} 已撤回或记录已再次变动",
            f"no record move {move_id}" if missing else f"record move {move_id} cannot be undone: {exc}",
            status=404 if missing else 409,
        ) from None
    record = rec.require_record(conn, move["record_id"])
    payload = {
        "move_id": move_id,
        "record": record_ref(record),
        "from_subject": subject_code(conn, move["to_subject_id"]),
        "to_subject": subject_code(conn, move["from_subject_id"]),
        "undoes": move["requested_by"],
    }
    emit(
        conn,
        event_type="record.move_undone",
        clock=runtime.clock,
        subject_id=move["from_subject_id"],
        record_id=record.id,
        payload=payload,
    )
    audit.record(
        conn,
        principal=principal,
        action="record.move_undo",
        clock=runtime.clock,
        object_type="record",
        object_id=record.id,
        subject=audit.SubjectRef.of_subject(conn, move["from_subject_id"]),
        detail={"move_id": move_id, "from": move["to_subject_id"], "to": move["from_subject_id"]},
    )
    return move_view(conn, move_id)


def move_view(conn: sa.Connection, move_id: int) -> dict[str, Any]:
    move = registry.record_move(conn, move_id)
    assert move is not None
    return {
        "id": move["id"],
        "record_id": move["record_id"],
        "from_subject": subject_code(conn, move["from_subject_id"]),
        "to_subject": subject_code(conn, move["to_subject_id"]),
        "reason": move["reason"],
        "decided_by": move["decided_by"],
        "requested_by": move["requested_by"],
        "at": move["created_at"].astimezone(CHINA).isoformat(),
        "undone_at": move["undone_at"].astimezone(CHINA).isoformat() if move["undone_at"] else None,
        "undone_by": move["undone_by"],
        "undo_reason": move["undo_reason"],
    }


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


def _check_decision(outcome: str, reason: str, values: Mapping[str, Any], to_subject: str | None) -> None:
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
    if outcome == "moved" and not (to_subject or "").strip():
        problems.append(
            Problem(
                "objection.move_no_subject",
                "移交须指明记录真正所属的信用主体（--to-subject 代码）",
                "a move names the subject the record is really about (--to-subject CODE)",
                field="to_subject",
            )
        )
    if outcome != "moved" and (to_subject or "").strip():
        problems.append(
            Problem(
                "objection.subject_unexpected",
                "只有“移交”需要指明信用主体",
                "only a move names a subject",
                field="to_subject",
            )
        )
    if outcome in ("upheld", "removed", "moved") and values:
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
        "move": move_view(conn, row.move_id) if row.move_id else None,
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
