"""Credit repair (信用修复): eligibility computed from the policy, never hand-judged; an application held to
the policy's working days; an approval that takes the record out of public disclosure in the same
transaction. Repair is free: no step of this flow asks for, or records, a payment to the platform.

Eligibility (《信用修复管理办法》, 令第36号, all required):
    the record is adverse information, disclosed as collected (not under objection, revoked, already
        repaired or archived), with no other application pending;
    the minimum publicity period of its penalty class has passed (轻微: as soon as the duty is fulfilled);
    no repair of the same item for the same subject within the policy's repeat window;
    and, when applying: every duty fulfilled (the fine paid where there was one, the act rectified), the
        credit commitment (信用承诺书), and the materials the policy lists for the class.

`check()` without materials answers what the platform can tell from its own data (can the subject apply,
and from what day); `apply()` adds what the applicant declares and attaches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from xinyong import deadlines
from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.models import Item
from xinyong.clock import CHINA
from xinyong.deadlines import Matter, Owner
from xinyong.disclose.periods import RecordFacts, penalty_class
from xinyong.events import emit
from xinyong.policy import Policy, WorkdayCalendar, add_period, load_policy
from xinyong.problems import Problem
from xinyong.rights import attachments as files
from xinyong.rights import records as rec
from xinyong.rights.actors import acting_subject, is_platform, record_ref, subject_code
from xinyong.rights.errors import Refused
from xinyong.rights.models import repair_applications
from xinyong.rights.objections import free_text
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.errors import AccessDenied
from xinyong.security.principal import Principal
from xinyong.subjects.models import subjects

STEP_DECIDE = "repair.decide"
STEP_LEAVE = "repair.leave_public"
PENALTY_RULES = ("penalty_by_class", "penalty_samr")
# Materials the application itself supplies (the form is the 申请书).
IMPLIED_MATERIALS = frozenset({"application"})


@dataclass(frozen=True)
class Materials:
    """What the applicant declares and attaches: flags, and attachment ids by the policy's material code."""

    commitment: bool = False
    paid: bool = False
    rectified: bool = False
    attached: Mapping[str, list[int]] = field(default_factory=dict)


@dataclass
class Eligibility:
    record_id: int
    as_of: dt.date
    penalty_class: str | None
    earliest: dt.date | None
    missing: list[Problem] = field(default_factory=list)
    materials: list[dict[str, Any]] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "as_of": self.as_of.isoformat(),
            "eligible": self.eligible,
            "earliest": self.earliest.isoformat() if self.earliest else None,
            "class": self.penalty_class,
            "missing": [
                {"code": p.code.removeprefix("repair."), "zh": p.message_zh, "en": p.message_en}
                for p in self.missing
            ],
            "materials": self.materials,
        }


# ----------------------------------------------------------------------------------------------- check


def check(
    conn: sa.Connection,
    *,
    record_id: int,
    as_of: dt.date,
    policy: Policy | None = None,
    catalog: Catalog | None = None,
    materials: Materials | None = None,
) -> Eligibility:
    """May this record be repaired on `as_of`, and if not, what is missing and from when."""
    policy = policy or load_policy()
    catalog = catalog or load_catalog()
    record = rec.require_record(conn, record_id)
    item = catalog.item(record.item_code)
    result = Eligibility(record_id=record.id, as_of=as_of, penalty_class=None, earliest=None)
    if not item.category.is_adverse:
        result.missing.append(
            _problem(
                "not_adverse",
                f"该记录属于“{item.category}”信息，不是失信（不良）信息，无需信用修复",
                f"the record is {item.category} information, not adverse information: nothing to repair",
            )
        )
        return result
    blocked = _state_problem(record.state)
    if blocked is not None:
        result.missing.append(blocked)
        return result
    if _pending(conn, record.id) is not None:
        result.missing.append(
            _problem(
                "application_open",
                "该记录已有待决定的信用修复申请，请等待结果",
                "a repair application for this record is awaiting its decision",
            )
        )
    natural = _natural_person(conn, record.subject_id)
    klass, minimum = _minimum(record, item, policy, natural_person=natural)
    result.penalty_class = klass
    result.earliest = minimum
    if minimum is not None and as_of < minimum:
        name = _condition(policy, "minimum_period_passed")
        of_class = f" of a {klass} penalty" if klass else ""
        last = minimum - dt.timedelta(days=1)
        result.missing.append(
            _problem(
                "minimum_period_passed",
                f"未满足“{name[0]}”：{klass or ''}最短公示期至 {last} 届满，{minimum} 起可申请",
                f"not met: {name[1]} — the minimum publicity period{of_class} ends on {last}; "
                f"apply from {minimum}",
            )
        )
    repeat_until = _repeat_window_end(conn, record, as_of, policy)
    if repeat_until is not None:
        again = repeat_until + dt.timedelta(days=1)
        result.earliest = max(minimum, again) if minimum else again
        result.missing.append(
            _problem(
                "repeat_within_window",
                f"该主体此前已就同类信息（{record.item_code}）完成信用修复，"
                f"{_window_zh(policy)}内不予再次修复，{again} 起可再申请",
                f"this subject had a record of the same kind ({record.item_code}) repaired within "
                f"{policy.repair.repeat_refusal_window.describe()}; it may apply again from {again}",
            )
        )
    result.materials = _required_materials(policy, klass, materials)
    if materials is not None:
        result.missing += _declared_problems(policy, record, item, materials, result.materials)
    return result


def _state_problem(state: str) -> Problem | None:
    words = {
        "disputed": (
            "该记录异议处理中，请待异议办结后再申请",
            "the record is under objection; apply once it is decided",
        ),
        "suspended": (
            "该记录异议处理中，请待异议办结后再申请",
            "the record is under objection; apply once it is decided",
        ),
        "repaired": ("该记录已完成信用修复", "the record is already repaired"),
        "withdrawn": (
            "该记录已撤销，不再披露，无需修复",
            "the record was revoked and is not disclosed: nothing to repair",
        ),
        "expired": (
            "该记录已过披露期限，已转为档案保存，无需修复",
            "the record's disclosure period is over: nothing to repair",
        ),
    }
    if state in rec.DISCLOSED_STATES:
        return None
    zh, en = words.get(
        state, (f"记录状态为 {state}，不能申请修复", f"a record in state {state} cannot be repaired")
    )
    return _problem("record_state", zh, en)


def _minimum(
    record: Any, item: Item, policy: Policy, *, natural_person: bool
) -> tuple[str | None, dt.date | None]:
    """(令第36号 class, first day the minimum publicity period has passed) for a penalty; for other adverse
    information the policy sets no minimum, so the first day is the decision (or first collection)."""
    start = record.decision_date or record.first_seen.astimezone(CHINA).date()
    if item.disclosure_period not in PENALTY_RULES:
        return None, start
    facts = RecordFacts(
        item_code=record.item_code,
        decision_date=record.decision_date,
        valid_until=record.valid_until,
        act_end_date=record.act_end_date,
        first_seen=record.first_seen.astimezone(CHINA).date(),
        source_uscc=record.source_uscc,
        source_name=None,
        natural_person=natural_person,
        data=record.data or {},
    )
    name = penalty_class(facts, policy)
    klass = policy.disclosure.penalty_classes[name]
    if klass.repair_after == "duty_fulfilled" or not klass.min_months:
        return name, start
    return name, add_period(start, klass.min_period) + dt.timedelta(days=1)


def _repeat_window_end(conn: sa.Connection, record: Any, as_of: dt.date, policy: Policy) -> dt.date | None:
    """The last day of the repeat window opened by an earlier approved repair of the same kind, if running."""
    a = repair_applications
    decided = conn.execute(
        sa.select(sa.func.max(a.c.decided_at)).where(
            a.c.subject_id == record.subject_id,
            a.c.item_code == record.item_code,
            a.c.state == "approved",
        )
    ).scalar()
    if decided is None:
        return None
    end = add_period(decided.astimezone(CHINA).date(), policy.repair.repeat_refusal_window)
    return end if as_of <= end else None


def _required_materials(policy: Policy, klass: str | None, given: Materials | None) -> list[dict[str, Any]]:
    items = list(policy.repair.materials.items)
    if klass == "严重":
        items += policy.repair.materials_severe_extra.items
    attached = given.attached if given else {}
    out = []
    for m in items:
        supplied = m.code in IMPLIED_MATERIALS or (
            m.code == "commitment" and bool(given and given.commitment)
        )
        supplied = supplied or bool(attached.get(m.code))
        out.append({"code": m.code, "zh": m.name_zh, "en": m.name_en, "supplied": supplied})
    return out


def _declared_problems(
    policy: Policy, record: Any, item: Item, given: Materials, required: list[dict[str, Any]]
) -> list[Problem]:
    problems = []
    duties_zh, duties_en = [], []
    if _has_amount(record, policy) and not given.paid:
        duties_zh.append("罚款（没收金额）尚未缴清")
        duties_en.append("the fine (or confiscation) is not paid")
    if not given.rectified:
        duties_zh.append("违法行为尚未整改到位")
        duties_en.append("the act is not rectified")
    if duties_zh:
        name = _condition(policy, "duties_fulfilled")
        problems.append(
            _problem(
                "duties_fulfilled",
                f"未满足“{name[0]}”：{'；'.join(duties_zh)}",
                f"not met: {name[1]} — {'; '.join(duties_en)}",
            )
        )
    if not given.commitment:
        name = _condition(policy, "credit_commitment")
        problems.append(
            _problem("credit_commitment", f"未满足“{name[0]}”：请签署信用承诺书", f"not met: {name[1]}")
        )
    for m in required:
        if not m["supplied"] and m["code"] != "commitment":
            problems.append(
                _problem(f"material.{m['code']}", f"缺少材料：{m['zh']}", f"missing material: {m['en']}")
            )
    return problems


def _has_amount(record: Any, policy: Policy) -> bool:
    fields = policy.disclosure.penalty_class_inference.fields
    for code in (fields.fine, fields.confiscation):
        value = (record.data or {}).get(code) if code else None
        try:
            if value not in (None, "") and Decimal(str(value)) > 0:
                return True
        except InvalidOperation:
            continue
    return False


def _condition(policy: Policy, code: str) -> tuple[str, str]:
    found = next((i for i in policy.repair.conditions.items if i.code == code), None)
    return (found.name_zh, found.name_en) if found else (code, code)


def _window_zh(policy: Policy) -> str:
    w = policy.repair.repeat_refusal_window
    unit = {"days": "日", "months": "个月", "years": "年"}[w.unit]
    return f"{w.value}{unit}"


def _problem(code: str, zh: str, en: str) -> Problem:
    return Problem(f"repair.{code}", zh, en)


def _natural_person(conn: sa.Connection, subject_id: int) -> bool:
    kind = conn.execute(sa.select(subjects.c.kind).where(subjects.c.id == subject_id)).scalar()
    return kind == "natural_person"


def _pending(conn: sa.Connection, record_id: int) -> int | None:
    a = repair_applications
    return conn.execute(sa.select(a.c.id).where(a.c.open_record_id == record_id)).scalar()


# ----------------------------------------------------------------------------------------------- apply


def apply(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    record_id: int,
    materials: Materials,
    subject: str | None = None,
    to_source: bool = False,
    policy: Policy | None = None,
    catalog: Catalog | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    """Apply for repair of one record, to the platform (default) or to the department that decided it
    (`to_source`). Refused with every missing condition and material when not eligible today."""
    policy = policy or load_policy()
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    now = clock.now()
    today = now.astimezone(CHINA).date()
    record = rec.require_record(conn, record_id)
    subject_id, via = acting_subject(conn, runtime, principal, record=record, subject_code=subject)
    _check_attachments(conn, materials)
    answer = check(
        conn, record_id=record.id, as_of=today, policy=policy, catalog=catalog, materials=materials
    )
    if not answer.eligible:
        raise Refused(*answer.missing, status=422)
    decider = record.source_uscc if to_source else None
    attached = sorted({i for ids in materials.attached.values() for i in ids})
    try:
        with conn.begin_nested():
            application_id = conn.execute(
                repair_applications.insert()
                .values(
                    record_id=record.id,
                    subject_id=subject_id,
                    open_record_id=record.id,
                    item_code=record.item_code,
                    penalty_class=answer.penalty_class,
                    state="submitted",
                    commitment=materials.commitment,
                    paid=materials.paid,
                    rectified=materials.rectified,
                    materials={code: list(ids) for code, ids in materials.attached.items()},
                    decider_uscc=decider,
                    applied_by=principal.actor[:100],
                    applied_via=via,
                    created_at=now,
                )
                .returning(repair_applications.c.id)
            ).scalar_one()
    except sa.exc.IntegrityError:
        raise Refused(
            _problem("application_open", "该记录已有待决定的信用修复申请", "a repair application is pending"),
            status=409,
        ) from None
    files.attach_to(conn, attached, matter_kind="repair", matter_id=application_id)
    deadlines.open_task(
        conn,
        matter=Matter("repair", application_id),
        step=STEP_DECIDE,
        rule="repair.decide_within",
        owner=Owner.organisation(decider) if decider else Owner.platform(),
        starts_on=today,
        policy=policy,
        calendar=calendar,
        clock=clock,
        record_id=record.id,
    )
    emit(
        conn,
        event_type="repair.applied",
        clock=clock,
        subject_id=subject_id,
        record_id=record.id,
        payload={
            "repair_id": application_id,
            "record": record_ref(record),
            "subject": subject_code(conn, subject_id),
            "decider": decider or "platform",
        },
    )
    audit.record(
        conn,
        principal=principal,
        action="repair.apply",
        clock=clock,
        object_type="repair",
        object_id=application_id,
        subject=audit.SubjectRef.of_subject(conn, subject_id),
        detail={"record_id": record.id, "via": via, "class": answer.penalty_class, "attachments": attached},
    )
    return show(conn, application_id=application_id)


def _check_attachments(conn: sa.Connection, materials: Materials) -> None:
    ids = sorted({i for ids in materials.attached.values() for i in ids})
    if not ids:
        return
    a = files.attachments
    free = set(conn.execute(sa.select(a.c.id).where(a.c.id.in_(ids), a.c.matter_id.is_(None))).scalars())
    unknown = [i for i in ids if i not in free]
    if unknown:
        raise Refused.one(
            "repair.attachment",
            f"附件 {unknown} 不存在或已用于其他申请",
            f"attachments {unknown} do not exist or belong to another application",
            field="attachments",
        )


# ---------------------------------------------------------------------------------------------- decide


def decide(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    application_id: int,
    approve: bool,
    reason: str,
    policy: Policy | None = None,
    calendar: WorkdayCalendar | None = None,
) -> dict[str, Any]:
    """Approve or refuse, with a reason. Approval repairs the record: it leaves public disclosure (every
    channel reads its state) and an event is written, in this transaction. Of two deciding at once, one
    wins."""
    policy = policy or load_policy()
    calendar = calendar or WorkdayCalendar.for_home(runtime.settings.home)
    clock = runtime.clock
    row = _require(conn, application_id)
    record = rec.require_record(conn, row.record_id)
    decided_by = _decider(principal, record, row)
    if not (reason or "").strip():
        raise Refused.one(
            "repair.decision_reason",
            "请写明决定理由（将告知申请人）",
            "a decision states its reason (the applicant is told)",
            field="reason",
        )
    now = clock.now()
    a = repair_applications
    taken = conn.execute(
        a.update()
        .where(a.c.id == application_id, a.c.state == "submitted")
        .values(
            state="approved" if approve else "refused",
            open_record_id=None,
            decision_reason=free_text(reason),
            decided_at=now,
            decided_by=principal.actor[:100],
            decided_by_uscc=decided_by,
        )
    )
    if taken.rowcount != 1:
        raise Refused.one(
            "repair.already_decided",
            f"信用修复申请 {application_id} 已有决定（可能已被他人处理）",
            f"repair application {application_id} is already decided (someone may have acted on it)",
            status=409,
        )
    matter = Matter("repair", application_id)
    deadlines.complete(
        conn, matter=matter, step=STEP_DECIDE, calendar=calendar, clock=clock, actor=principal.actor
    )
    if approve:
        current = rec.require_record(conn, record.id)
        blocked = _state_problem(current.state)
        if blocked is not None:
            raise Refused(blocked, status=409)  # the transaction rolls back: the application stays submitted
        rec.change_state(conn, record=current, to="repaired", reason=f"repair:{application_id}", now=now)
        deadlines.record_done(
            conn,
            matter=matter,
            step=STEP_LEAVE,
            rule="repair.leave_public_query_within",
            owner=Owner.platform(),
            starts_on=now.astimezone(CHINA).date(),
            policy=policy,
            calendar=calendar,
            clock=clock,
            actor=principal.actor,
            record_id=record.id,
        )
        emit(
            conn,
            event_type="record.repaired",
            clock=clock,
            subject_id=row.subject_id,
            record_id=record.id,
            payload={
                "repair_id": application_id,
                "record": record_ref(record),
                "subject": subject_code(conn, row.subject_id),
                "state": "repaired",
                "decided_by": decided_by or "platform",
            },
        )
    else:
        emit(
            conn,
            event_type="repair.refused",
            clock=clock,
            subject_id=row.subject_id,
            record_id=record.id,
            payload={
                "repair_id": application_id,
                "record": record_ref(record),
                "subject": subject_code(conn, row.subject_id),
                "decided_by": decided_by or "platform",
            },
        )
    audit.record(
        conn,
        principal=principal,
        action="repair.approve" if approve else "repair.refuse",
        clock=clock,
        object_type="repair",
        object_id=application_id,
        subject=audit.SubjectRef.of_subject(conn, row.subject_id),
        detail={"record_id": record.id, "decided_by": decided_by or "platform"},
    )
    return show(conn, application_id=application_id)


def _decider(principal: Principal, record: Any, row: Any) -> str | None:
    if is_platform(principal):
        return None
    own = principal.organisation_uscc
    if own is not None and own in {record.source_uscc, row.decider_uscc}:
        return own
    raise AccessDenied(
        Problem(
            "repair.not_decider",
            "只有作出该决定的部门或信用信息平台可以决定信用修复",
            "only the body that made the decision, or the platform, decides on its repair",
        )
    )


# ------------------------------------------------------------------------------------------------ read


def _require(conn: sa.Connection, application_id: int) -> Any:
    row = conn.execute(
        sa.select(repair_applications).where(repair_applications.c.id == application_id)
    ).first()
    if row is None:
        raise Refused.one(
            "repair.not_found",
            f"没有编号为 {application_id} 的信用修复申请",
            f"no repair application {application_id}",
            status=404,
        )
    return row


def show(conn: sa.Connection, *, application_id: int) -> dict[str, Any]:
    row = _require(conn, application_id)
    record = rec.require_record(conn, row.record_id)
    tasks = deadlines.tasks_of(conn, Matter("repair", application_id))
    return {
        "id": row.id,
        "state": row.state,
        "record_id": row.record_id,
        "record": {**record_ref(record), "state": record.state},
        "subject": subject_code(conn, row.subject_id),
        "class": row.penalty_class,
        "declared": {"commitment": row.commitment, "paid": row.paid, "rectified": row.rectified},
        "attachments": files.listed(conn, matter_kind="repair", matter_id=row.id),
        "applied_at": row.created_at.astimezone(CHINA).isoformat(),
        "applied_via": row.applied_via,
        "decider": row.decider_uscc or "platform",
        "decision_reason": row.decision_reason,
        "decided_at": row.decided_at.astimezone(CHINA).isoformat() if row.decided_at else None,
        "decided_by": row.decided_by_uscc or ("platform" if row.decided_at else None),
        "fee": 0,
        "due": {
            t.step.removeprefix("repair."): {
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
