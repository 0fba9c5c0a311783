"""发起响应: a department proposes a memorandum (or measures added to one), the departments it names respond,
the credit office publishes it — and `active_catalogue` is the one place a check learns of it.

    propose(conn, draft={...}, ...)         → state `responding`; one pending response per named department,
                                              each a task of the deadline engine (`lists.respond_within`)
    respond(conn, proposal_id=…, accept=…)  → that department's answer (once; a decline needs a reason)
    publish(conn, proposal_id=…)            → state `published` once every department has answered;
                                              a measure every named department declined is left out
    withdraw(conn, proposal_id=…, reason=…) → state `withdrawn`; pending responses cancelled

A draft has the shape of a memorandum in apply/data/memoranda.yaml; `extends: CODE` instead of `code`,
`name_zh`, `document` and `targets` adds its measures to an existing memorandum. A measure's `departments`
name registered organisations (by USCC or by registered name): they are the departments asked to respond.
Every step is audited; publication writes `memorandum.published` to the outbox.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from pydantic import Field, ValidationError, model_validator

from xinyong import deadlines
from xinyong.apply.catalogue import ApplyCatalogue, Measure, Memorandum, Sourced, load_catalogue
from xinyong.apply.errors import Refused
from xinyong.apply.models import memo_proposals, memo_responses
from xinyong.clock import CHINA, Clock
from xinyong.deadlines import Matter, Owner
from xinyong.events import emit
from xinyong.policy import Policy, WorkdayCalendar
from xinyong.policy.errors import Bilingual, problems_from_validation
from xinyong.security import audit
from xinyong.security.principal import Principal
from xinyong.store.tables import organisations

RESPOND_STEP = "memo.respond"
RESPOND_RULE = "lists.respond_within"
RESPONSE_MATTER = "memo_response"


class Draft(Sourced):
    """A proposed memorandum, or (with `extends`) measures for an existing one."""

    code: str | None = Field(default=None, min_length=2, max_length=32)
    extends: str | None = Field(default=None, min_length=2, max_length=32)
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
    document: str | None = Field(default=None, min_length=1, max_length=200)
    targets: tuple[str, ...] = ()
    measures: tuple[Measure, ...] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _memorandum_or_extension(self) -> Draft:
        if self.extends is None and not (self.code and self.name_zh and self.document and self.targets):
            raise Bilingual(
                "新备忘录须有 code、name_zh、document、targets；为已有备忘录增加措施请用 extends",
                "a new memorandum needs code, name_zh, document and targets; "
                "use `extends` to add measures to an existing one",
            )
        if self.extends is not None and (self.code or self.targets):
            raise Bilingual(
                "extends 与 code、targets 不能同时填写（沿用所扩展备忘录的代码和对象名单）",
                "`extends` takes the extended memorandum's code and targets: give neither code nor targets",
            )
        return self


# ------------------------------------------------------------------------------- the active memoranda

_cache: dict[str, Any] = {}


def active_catalogue(conn: sa.Connection, base: ApplyCatalogue | None = None) -> ApplyCatalogue:
    """The catalogue every check reads: the YAML memoranda plus every published proposal (a published
    extension's measures joined to their memorandum). One small indexed query per call; the merged
    catalogue is rebuilt only when the published drafts differ from the last call's (keyed by content, so
    two databases served by one process never share an answer)."""
    base = base or load_catalogue()
    drafts = conn.execute(
        sa.select(memo_proposals.c.draft)
        .where(memo_proposals.c.state == "published")
        .order_by(memo_proposals.c.id)
    ).scalars()
    key = (id(base), tuple(json.dumps(d, sort_keys=True, ensure_ascii=False) for d in drafts))
    if not key[1]:
        return base
    if _cache.get("key") != key:
        merged = base
        for text in key[1]:
            merged = _merge(merged, Draft.model_validate_json(text))
        _cache.update(key=key, catalogue=merged)
    return _cache["catalogue"]


def _merge(catalogue: ApplyCatalogue, draft: Draft) -> ApplyCatalogue:
    """`catalogue` with the draft's memorandum added, or its measures joined to the memorandum it extends;
    validated like the YAML (unknown lists or matters, a measure code used twice are refused)."""
    memoranda = list(catalogue.memoranda)
    if draft.extends is not None:
        at = next((i for i, m in enumerate(memoranda) if m.code == draft.extends), None)
        if at is None:
            raise Refused.one(
                "memo.extends_unknown",
                f"要扩展的备忘录 {draft.extends} 不存在",
                f"no memorandum {draft.extends} to extend",
                field="extends",
            )
        memoranda[at] = memoranda[at].model_copy(update={"measures": memoranda[at].measures + draft.measures})
    else:
        memoranda.append(
            Memorandum(
                code=draft.code or "",
                name_zh=draft.name_zh or "",
                document=draft.document or "",
                targets=draft.targets,
                measures=draft.measures,
                source=draft.source,
                confirmed=draft.confirmed,
                note=draft.note,
            )
        )
    try:
        return ApplyCatalogue(
            list_types=catalogue.list_types, matters=catalogue.matters, memoranda=tuple(memoranda)
        )
    except ValidationError as exc:
        raise Refused(*problems_from_validation(exc, code="memo.invalid", file="draft"), status=422) from exc


# ------------------------------------------------------------------------------------------ writing


def propose(
    conn: sa.Connection,
    *,
    draft: dict[str, Any],
    principal: Principal,
    clock: Clock,
    policy: Policy,
    calendar: WorkdayCalendar,
) -> dict[str, Any]:
    """A department proposes (发起) a memorandum or measures; every other department it names must respond."""
    if not isinstance(draft, dict):
        raise Refused.one("memo.invalid", "草案应为键值映射", "the draft must be a mapping")
    try:
        parsed = Draft.model_validate(draft)
    except ValidationError as exc:
        raise Refused(*problems_from_validation(exc, code="memo.invalid", file="draft"), status=422) from exc
    active = active_catalogue(conn)
    _refuse_unknown_references(parsed, active)
    named = _departments(conn, parsed)
    parsed = parsed.model_copy(
        update={
            "measures": tuple(
                m.model_copy(update={"departments": tuple(named[d]["name"] for d in m.departments)})
                for m in parsed.measures
            )
        }
    )
    _refuse_code_in_use(conn, parsed, active)
    _merge(active, parsed)  # the whole catalogue still validates with it
    code = parsed.extends or parsed.code or ""
    now, day = clock.now(), clock.now().astimezone(CHINA).date()
    proposal_id = conn.execute(
        memo_proposals.insert()
        .values(
            code=code,
            extends=parsed.extends,
            draft=parsed.model_dump(mode="json", exclude_none=True),
            state="responding",
            proposed_by=principal.actor[:100],
            proposed_by_uscc=principal.organisation_uscc,
            created_at=now,
            updated_at=now,
        )
        .returning(memo_proposals.c.id)
    ).scalar_one()
    responders = {o["uscc"]: o for o in named.values() if o["uscc"] != principal.organisation_uscc}
    for uscc, org in sorted(responders.items()):
        response_id = conn.execute(
            memo_responses.insert()
            .values(proposal_id=proposal_id, org_uscc=uscc, org_name=org["name"], answer="pending")
            .returning(memo_responses.c.id)
        ).scalar_one()
        deadlines.open_task(
            conn,
            matter=Matter(RESPONSE_MATTER, response_id),
            step=RESPOND_STEP,
            rule=RESPOND_RULE,
            owner=Owner.organisation(uscc),
            starts_on=day,
            policy=policy,
            calendar=calendar,
            clock=clock,
        )
    shown = show(conn, proposal_id=proposal_id)
    _audit(conn, principal, "memo.propose", shown, clock, detail={"responders": sorted(responders)})
    return shown


def respond(
    conn: sa.Connection,
    *,
    proposal_id: int,
    accept: bool,
    principal: Principal,
    clock: Clock,
    calendar: WorkdayCalendar,
    reason: str | None = None,
) -> dict[str, Any]:
    """A named department's answer (响应): accept, or decline with a reason. Once per department."""
    proposal = _proposal(conn, proposal_id)
    r = memo_responses
    mine = conn.execute(
        sa.select(r).where(r.c.proposal_id == proposal_id, r.c.org_uscc == principal.organisation_uscc)
    ).first()
    if principal.organisation_uscc is None or mine is None:
        raise Refused.one(
            "memo.not_named",
            f"贵单位不是备忘录草案 {proposal_id} 点名的响应部门",
            f"your organisation is not a department proposal {proposal_id} asks to respond",
            status=403,
        )
    if mine.answer != "pending":
        raise Refused.one(
            "memo.already_answered",
            f"贵单位已于 {_day(mine.answered_at)} 响应备忘录草案 {proposal_id}（{mine.answer}）",
            f"your organisation already answered proposal {proposal_id} ({mine.answer})",
            status=409,
        )
    if proposal.state != "responding":
        raise Refused.one(
            "memo.closed",
            f"备忘录草案 {proposal_id} 已{_STATE_ZH[proposal.state]}，不再接受响应",
            f"proposal {proposal_id} is {proposal.state}: no more responses",
            status=409,
        )
    text = (reason or "").strip()
    if not accept and not text:
        raise Refused.one(
            "memo.reason_required", "不同意的，应说明理由", "a decline needs a reason", field="reason"
        )
    updated = conn.execute(
        r.update()
        .where(r.c.id == mine.id, r.c.answer == "pending")
        .values(
            answer="accepted" if accept else "declined",
            reason=text[:2000] or None,
            answered_by=principal.actor[:100],
            answered_at=clock.now(),
        )
    )
    if updated.rowcount != 1:
        raise Refused.one(
            "memo.already_answered", "该响应刚被提交", "the response was just given", status=409
        )
    deadlines.complete(
        conn, matter=Matter(RESPONSE_MATTER, mine.id), step=RESPOND_STEP, calendar=calendar, clock=clock,
        actor=principal.actor,
    )  # fmt: skip
    shown = show(conn, proposal_id=proposal_id)
    _audit(conn, principal, "memo.respond", shown, clock, detail={"accept": accept})
    return shown


def publish(conn: sa.Connection, *, proposal_id: int, principal: Principal, clock: Clock) -> dict[str, Any]:
    """The credit office publishes a proposal every named department has answered. Declining departments
    leave the measures; a measure all of whose named departments declined is not published."""
    proposal = _open(conn, proposal_id)
    responses = _responses(conn, proposal_id)
    if waiting := [x["org_name"] for x in responses if x["answer"] == "pending"]:
        raise Refused.one(
            "memo.responses_pending",
            f"尚有部门未响应：{'、'.join(waiting)}；全部响应后方可发布",
            f"{len(waiting)} department(s) have not answered yet; publish once all have",
            status=409,
        )
    declined = {x["org_name"] for x in responses if x["answer"] == "declined"}
    draft = Draft.model_validate(proposal.draft)
    kept = []
    for measure in draft.measures:
        left = tuple(d for d in measure.departments if d not in declined)
        if left:
            kept.append(measure.model_copy(update={"departments": left}))
    if not kept:
        raise Refused.one(
            "memo.nothing_accepted",
            "所有措施的实施部门均不同意，无可发布的措施；请撤回",
            "every measure was declined by all its departments: nothing to publish; withdraw it",
            status=409,
        )
    final = draft.model_copy(update={"measures": tuple(kept)})
    active = active_catalogue(conn)
    _refuse_code_in_use(conn, final, active, proposal_id=proposal_id)
    _merge(active, final)  # still valid against what was published meanwhile
    conn.execute(
        memo_proposals.update()
        .where(memo_proposals.c.id == proposal_id, memo_proposals.c.state == "responding")
        .values(
            state="published",
            draft=final.model_dump(mode="json", exclude_none=True),
            decided_by=principal.actor[:100],
            decided_on=clock.now().astimezone(CHINA).date(),
            updated_at=clock.now(),
        )
    )
    shown = show(conn, proposal_id=proposal_id)
    _audit(conn, principal, "memo.publish", shown, clock, detail={"measures": [m.code for m in kept]})
    emit(
        conn,
        event_type="memorandum.published",
        clock=clock,
        payload={
            "proposal_id": proposal_id,
            "memorandum": shown["code"],
            "extends": final.extends,
            "list_types": list(final.targets),
            "measures": [m.code for m in kept],
        },
    )
    return shown


def withdraw(
    conn: sa.Connection, *, proposal_id: int, reason: str, principal: Principal, clock: Clock
) -> dict[str, Any]:
    """The credit office withdraws a proposal (撤回): it is never published; pending responses close."""
    _open(conn, proposal_id)
    text = (reason or "").strip()
    if not text:
        raise Refused.one(
            "memo.reason_required", "撤回应说明理由", "a withdrawal needs a reason", field="reason"
        )
    conn.execute(
        memo_proposals.update()
        .where(memo_proposals.c.id == proposal_id, memo_proposals.c.state == "responding")
        .values(
            state="withdrawn",
            decision_reason=text[:2000],
            decided_by=principal.actor[:100],
            decided_on=clock.now().astimezone(CHINA).date(),
            updated_at=clock.now(),
        )
    )
    for response in _responses(conn, proposal_id):
        if response["answer"] == "pending":
            deadlines.cancel(conn, matter=Matter(RESPONSE_MATTER, response["id"]), step=RESPOND_STEP,
                             clock=clock, actor=principal.actor)  # fmt: skip
    shown = show(conn, proposal_id=proposal_id)
    _audit(conn, principal, "memo.withdraw", shown, clock, detail={})
    return shown


# ------------------------------------------------------------------------------------------ reading


def show(conn: sa.Connection, *, proposal_id: int) -> dict[str, Any]:
    row = _proposal(conn, proposal_id)
    return {
        "id": row.id,
        "code": row.code,
        "extends": row.extends,
        "state": row.state,
        "draft": row.draft,
        "proposed_by_uscc": row.proposed_by_uscc,
        "proposed_on": _day(row.created_at),
        "decided_on": row.decided_on.isoformat() if row.decided_on else None,
        "decision_reason": row.decision_reason,
        "responses": _responses(conn, proposal_id),
    }


def list_proposals(
    conn: sa.Connection,
    *,
    state: str | None = None,
    awaiting: str | None = None,
    proposed_by: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Proposals, newest first; `awaiting=USCC`: those still waiting for that department's answer;
    `proposed_by=USCC`: those that organisation proposed."""
    p, r = memo_proposals, memo_responses
    query = sa.select(p.c.id)
    if state:
        query = query.where(p.c.state == state)
    if proposed_by:
        query = query.where(p.c.proposed_by_uscc == proposed_by)
    if awaiting:
        query = query.where(
            p.c.state == "responding",
            p.c.id.in_(sa.select(r.c.proposal_id).where(r.c.org_uscc == awaiting, r.c.answer == "pending")),
        )
    ids = conn.execute(query.order_by(p.c.id.desc()).limit(limit)).scalars()
    return [show(conn, proposal_id=i) for i in list(ids)]


def _responses(conn: sa.Connection, proposal_id: int) -> list[dict[str, Any]]:
    r = memo_responses
    rows = conn.execute(sa.select(r).where(r.c.proposal_id == proposal_id).order_by(r.c.id))
    return [
        {
            "id": x.id,
            "org_uscc": x.org_uscc,
            "org_name": x.org_name,
            "answer": x.answer,
            "reason": x.reason,
            "answered_on": _day(x.answered_at),
        }
        for x in rows
    ]


# ------------------------------------------------------------------------------------------ checks

_STATE_ZH = {"responding": "在响应中", "published": "发布", "withdrawn": "撤回"}


def _proposal(conn: sa.Connection, proposal_id: int) -> Any:
    row = conn.execute(sa.select(memo_proposals).where(memo_proposals.c.id == proposal_id)).first()
    if row is None:
        raise Refused.one(
            "memo.not_found",
            f"没有编号为 {proposal_id} 的备忘录草案",
            f"no proposal {proposal_id}",
            status=404,
        )
    return row


def _open(conn: sa.Connection, proposal_id: int) -> Any:
    row = _proposal(conn, proposal_id)
    if row.state != "responding":
        raise Refused.one(
            "memo.closed",
            f"备忘录草案 {proposal_id} 已{_STATE_ZH[row.state]}",
            f"proposal {proposal_id} is already {row.state}",
            status=409,
        )
    return row


def _refuse_unknown_references(draft: Draft, catalogue: ApplyCatalogue) -> None:
    lists = {t.code for t in catalogue.list_types}
    matters = {m.code for m in catalogue.matters}
    if unknown := sorted(set(draft.targets) - lists):
        raise Refused.one(
            "memo.list_type_unknown",
            f"对象名单类型不存在：{'、'.join(unknown)}（见 xinyong lists types）",
            f"unknown list types {', '.join(unknown)} (see xinyong lists types)",
            field="targets",
        )
    for measure in draft.measures:
        if unknown := sorted(set(measure.matters) - matters):
            raise Refused.one(
                "memo.matter_unknown",
                f"措施 {measure.code} 的业务事项不存在：{'、'.join(unknown)}（见 xinyong matters）",
                f"measure {measure.code} names unknown matters {', '.join(unknown)} (see xinyong matters)",
                field="measures",
            )
    if draft.extends and not any(m.code == draft.extends for m in catalogue.memoranda):
        raise Refused.one(
            "memo.extends_unknown",
            f"要扩展的备忘录 {draft.extends} 不存在或尚未发布",
            f"no published memorandum {draft.extends} to extend",
            field="extends",
        )


def _refuse_code_in_use(
    conn: sa.Connection, draft: Draft, catalogue: ApplyCatalogue, proposal_id: int | None = None
) -> None:
    """A new memorandum's code, and every measure code, are not those of a memorandum or measure in force
    or of another proposal still awaiting responses."""
    taken_memos = {m.code for m in catalogue.memoranda}
    taken_measures = {x.code for m in catalogue.memoranda for x in m.measures}
    others = conn.execute(
        sa.select(memo_proposals.c.id, memo_proposals.c.draft).where(
            memo_proposals.c.state == "responding", memo_proposals.c.id != (proposal_id or 0)
        )
    ).all()
    for _, other in others:
        if not other.get("extends"):
            taken_memos.add(other.get("code"))
        taken_measures |= {m["code"] for m in other.get("measures", [])}
    if draft.code and draft.code in taken_memos:
        raise Refused.one(
            "memo.code_taken",
            f"备忘录代码 {draft.code} 已被使用",
            f"the memorandum code {draft.code} is already in use",
            status=409,
            field="code",
        )
    if twice := sorted({m.code for m in draft.measures} & taken_measures):
        raise Refused.one(
            "memo.code_taken",
            f"措施代码已被使用：{'、'.join(twice)}",
            f"measure codes already in use: {', '.join(twice)}",
            status=409,
            field="measures",
        )
    codes = [m.code for m in draft.measures]
    if len(codes) != len(set(codes)):
        raise Refused.one(
            "memo.code_taken",
            "草案中措施代码重复",
            "a measure code is used twice in the draft",
            field="measures",
        )


def _departments(conn: sa.Connection, draft: Draft) -> dict[str, dict[str, str]]:
    """Each named department (USCC or registered name) → the registered organisation; unknown: refused."""
    wanted = sorted({d.strip() for m in draft.measures for d in m.departments})
    o = organisations
    rows = conn.execute(
        sa.select(o.c.uscc, o.c.name).where(
            sa.or_(o.c.uscc.in_([w.upper() for w in wanted]), o.c.name.in_(wanted))
        )
    ).all()
    found: dict[str, dict[str, str]] = {}
    for want in wanted:
        match = next((r for r in rows if r.uscc == want.upper() or r.name == want), None)
        if match is not None:
            found[want] = {"uscc": match.uscc, "name": match.name}
    if unknown := [w for w in wanted if w not in found]:
        raise Refused.one(
            "memo.department_unknown",
            f"实施部门未在平台登记：{'、'.join(unknown)}（请填写统一社会信用代码或登记名称）",
            f"implementing departments not registered: {', '.join(unknown)} (give a USCC or registered name)",
            field="departments",
        )
    # Measures keep the names as written in the draft: map each spelling to its organisation.
    return {d: found[d.strip()] for m in draft.measures for d in m.departments}


def _audit(
    conn: sa.Connection, principal: Principal, action: str, shown: dict[str, Any], clock: Clock,
    detail: dict[str, Any],
) -> None:  # fmt: skip
    audit.record(
        conn,
        principal=principal,
        action=action,
        clock=clock,
        object_type="memo_proposal",
        object_id=shown["id"],
        detail={"code": shown["code"], "state": shown["state"], **detail},
    )


def _day(value: Any) -> str | None:
    return value.astimezone(CHINA).date().isoformat() if value is not None else None
