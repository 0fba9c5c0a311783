"""案例报送: a department reports a case of a reward or punishment it applied; the credit office reviews it
and publishes chosen ones on the portal (/cases), with personal data masked.

    report(conn, title=…, text=…, measure=…, list_type=…, check_id=…)  → state `submitted`
    review(conn, case_id=…, publish=True | False, reason=…)             → `published` | `returned`
    public_cases(conn, …), public_case(conn, case_id)                   → what the public sees (masked)

The measure must be one in force (the YAML memoranda and the published proposals: the same catalogue a
check reads) and belong to a memorandum targeting the list type. A check named as the case's origin must
be one the reporting department made; the case's subject is then the check's. Attachments (PDF, JPG, PNG,
judged by content, size-limited) are kept in the attachment store under matter `case`. Report and review
are audited; reading a case not yet published is for its department and the credit office, and audited.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.apply.errors import Refused
from xinyong.apply.models import case_reports, checks
from xinyong.apply.proposals import active_catalogue
from xinyong.apply.service import SUBJECT_REF_COLUMNS, subject_ref
from xinyong.clock import CHINA, Clock
from xinyong.disclose.service import shown_subject_name
from xinyong.policy import Policy
from xinyong.rights import attachments as files
from xinyong.security import audit
from xinyong.security.audit import SubjectRef
from xinyong.security.masking import mask_ids_in_text
from xinyong.security.principal import Principal
from xinyong.subjects.models import subjects

MATTER_KIND = "case"
PLATFORM_ROLES = ("credit_office", "system")


def report(
    conn: sa.Connection,
    *,
    title: str,
    text: str,
    measure: str,
    list_type: str,
    principal: Principal,
    clock: Clock,
    check_id: int | None = None,
    subject_id: int | None = None,
    attachment_ids: tuple[int, ...] = (),
) -> dict[str, Any]:
    """A department reports a case (案例报送); the credit office reviews it before anything is public."""
    title, text = _text(title, "title", "标题", 200), _text(text, "text", "案例内容", 20000)
    catalogue = active_catalogue(conn)
    code, kind = measure.strip().upper(), list_type.strip().upper()
    if catalogue.list_type(kind) is None:
        raise Refused.one(
            "case.list_type_unknown", f"未知的名单类型 {kind}", f"unknown list type {kind}", field="list_type"
        )
    found = [(memo, m) for memo in catalogue.memoranda for m in memo.measures if m.code == code]
    if not found:
        raise Refused.one(
            "case.measure_unknown", f"未知的奖惩措施 {code}", f"unknown measure {code}", field="measure"
        )
    memo, chosen = found[0]
    if kind not in memo.targets:
        raise Refused.one(
            "case.measure_not_for_list",
            f"措施 {code} 不适用于名单 {kind}（其备忘录对象为 {'、'.join(memo.targets)}）",
            f"measure {code} is not for list {kind} (its memorandum targets {', '.join(memo.targets)})",
            field="measure",
        )
    if check_id is not None:
        made = conn.execute(
            sa.select(checks.c.org_uscc, checks.c.subject_id).where(checks.c.id == check_id)
        ).first()
        if made is None:
            raise Refused.one(
                "case.check_unknown", f"没有编号为 {check_id} 的核查", f"no check {check_id}", status=404,
                field="check_id",
            )  # fmt: skip
        if made.org_uscc is None or made.org_uscc != principal.organisation_uscc:
            raise Refused.one(
                "case.check_not_yours",
                "只能引用本单位发起的核查",
                "a case may only cite a check your own organisation made",
                status=403,
                field="check_id",
            )
        subject_id = made.subject_id
    _check_attachments(conn, attachment_ids)
    now = clock.now()
    case_id = conn.execute(
        case_reports.insert()
        .values(
            title=title,
            body=text,
            measure=code,
            list_type=kind,
            effect=chosen.effect,
            check_id=check_id,
            subject_id=subject_id,
            state="submitted",
            reported_by=principal.actor[:100],
            org_uscc=principal.organisation_uscc,
            org_name=(principal.organisation_name or principal.display_name or "")[:200] or None,
            created_at=now,
            updated_at=now,
        )
        .returning(case_reports.c.id)
    ).scalar_one()
    files.attach_to(conn, list(attachment_ids), matter_kind=MATTER_KIND, matter_id=case_id)
    _audit(conn, principal, "case.report", case_id, subject_id, clock, {"measure": code, "list_type": kind})
    return _case(conn, _row(conn, case_id))


def review(
    conn: sa.Connection,
    *,
    case_id: int,
    publish: bool,
    principal: Principal,
    clock: Clock,
    reason: str | None = None,
) -> dict[str, Any]:
    """The credit office publishes a submitted case on the portal, or returns it with a reason."""
    row = _row(conn, case_id)
    if row.state != "submitted":
        raise Refused.one(
            "case.reviewed",
            f"案例 {case_id} 已审核（{row.state}）",
            f"case {case_id} was already reviewed ({row.state})",
            status=409,
        )
    text = (reason or "").strip()
    if not publish and not text:
        raise Refused.one(
            "case.reason_required", "退回应说明理由", "a returned case needs a reason", field="reason"
        )
    updated = conn.execute(
        case_reports.update()
        .where(case_reports.c.id == case_id, case_reports.c.state == "submitted")
        .values(
            state="published" if publish else "returned",
            reviewed_by=principal.actor[:100],
            reviewed_on=clock.now().astimezone(CHINA).date(),
            review_reason=text[:2000] or None,
            updated_at=clock.now(),
        )
    )
    if updated.rowcount != 1:
        raise Refused.one("case.reviewed", "该案例刚被审核", "the case was just reviewed", status=409)
    _audit(conn, principal, "case.review", case_id, row.subject_id, clock, {"publish": publish})
    return _case(conn, _row(conn, case_id))


# ------------------------------------------------------------------------------------------ reading


def show(conn: sa.Connection, *, case_id: int, principal: Principal, clock: Clock) -> dict[str, Any]:
    """A case as its department or the credit office sees it (unmasked; the read is audited)."""
    row = _row(conn, case_id)
    if not may_see(principal, row.org_uscc):
        raise Refused.one(
            "case.not_yours",
            "只有报送单位和信用办可以查看未公开的案例",
            "only the reporting department and the credit office see a case",
            status=403,
        )
    _audit(conn, principal, "case.read", case_id, row.subject_id, clock, {})
    return _case(conn, row)


def staff_cases(
    conn: sa.Connection, *, principal: Principal, state: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The cases the principal may review or follow: all for the credit office, its own for a department."""
    c = case_reports
    query = sa.select(c)
    if principal.role not in PLATFORM_ROLES:
        query = query.where(c.c.org_uscc == (principal.organisation_uscc or ""))
    if state:
        query = query.where(c.c.state == state)
    return [_case(conn, r) for r in conn.execute(query.order_by(c.c.id.desc()).limit(limit))]


def may_see(principal: Principal, org_uscc: str | None) -> bool:
    return principal.role in PLATFORM_ROLES or (
        principal.organisation_uscc is not None and principal.organisation_uscc == org_uscc
    )


def public_cases(
    conn: sa.Connection,
    *,
    policy: Policy,
    measure: str | None = None,
    list_type: str | None = None,
    effect: str | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Published cases, newest first, as the public sees them (a person's name and ID numbers masked)."""
    c = case_reports
    query = sa.select(c).where(c.c.state == "published")
    if measure:
        query = query.where(c.c.measure == measure.strip().upper())
    if list_type:
        query = query.where(c.c.list_type == list_type.strip().upper())
    if effect:
        query = query.where(c.c.effect == effect)
    rows = conn.execute(query.order_by(c.c.reviewed_on.desc(), c.c.id.desc())).all()
    shown = [_public(conn, r, policy) for r in rows]
    if q and q.strip():  # searched in what the public sees, so a masked name cannot be found by its letters
        shown = [s for s in shown if q.strip() in s["title"] or q.strip() in s["text"]]
    return shown[offset : offset + limit]


def public_case(conn: sa.Connection, *, case_id: int, policy: Policy) -> dict[str, Any]:
    row = conn.execute(
        sa.select(case_reports).where(case_reports.c.id == case_id, case_reports.c.state == "published")
    ).first()
    if row is None:
        raise Refused.one(
            "case.not_found", f"没有编号为 {case_id} 的公开案例", f"no published case {case_id}", status=404
        )
    return _public(conn, row, policy)


def _public(conn: sa.Connection, row: Any, policy: Policy) -> dict[str, Any]:
    subject = _subject(conn, row.subject_id)
    title, text = row.title, row.body
    if subject is not None:
        shown = shown_subject_name(subject.name, subject.kind, "public", policy)
        if shown != subject.name:  # a person's name written into the case is masked wherever it appears
            title, text = title.replace(subject.name, shown), text.replace(subject.name, shown)
    out = _case(conn, row, with_attachments=False)
    out.update(title=mask_ids_in_text(title), text=mask_ids_in_text(text))
    for key in ("check_id", "review_reason", "reported_by"):
        out.pop(key, None)
    return out


def _case(conn: sa.Connection, row: Any, *, with_attachments: bool = True) -> dict[str, Any]:
    catalogue = active_catalogue(conn)
    kind = catalogue.list_type(row.list_type)
    measure = next((m for memo in catalogue.memoranda for m in memo.measures if m.code == row.measure), None)
    subject = _subject(conn, row.subject_id)
    out: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "text": row.body,
        "state": row.state,
        "measure": row.measure,
        "measure_content_zh": measure.content_zh if measure else None,
        "basis": measure.basis if measure else None,
        "effect": row.effect,
        "list_type": row.list_type,
        "list_name_zh": kind.name_zh if kind else row.list_type,
        "check_id": row.check_id,
        "subject": subject_ref(subject) if subject is not None else None,
        "department": row.org_name,
        "org_uscc": row.org_uscc,
        "reported_by": row.reported_by,
        "reported_on": row.created_at.astimezone(CHINA).date().isoformat(),
        "reviewed_on": row.reviewed_on.isoformat() if row.reviewed_on else None,
        "review_reason": row.review_reason,
    }
    if with_attachments:
        out["attachments"] = files.listed(conn, matter_kind=MATTER_KIND, matter_id=row.id)
    return out


def _row(conn: sa.Connection, case_id: int) -> Any:
    row = conn.execute(sa.select(case_reports).where(case_reports.c.id == case_id)).first()
    if row is None:
        raise Refused.one("case.not_found", f"没有编号为 {case_id} 的案例", f"no case {case_id}", status=404)
    return row


def _subject(conn: sa.Connection, subject_id: int | None) -> Any:
    if subject_id is None:
        return None
    return conn.execute(sa.select(*SUBJECT_REF_COLUMNS).where(subjects.c.id == subject_id)).first()


def _check_attachments(conn: sa.Connection, ids: tuple[int, ...]) -> None:
    if not ids:
        return
    a = files.attachments
    free = set(conn.execute(sa.select(a.c.id).where(a.c.id.in_(ids), a.c.matter_id.is_(None))).scalars())
    if unknown := sorted(set(ids) - free):
        raise Refused.one(
            "case.attachment_unknown",
            f"附件 {unknown} 不存在或已属于其他事项",
            f"attachments {unknown} do not exist or belong to another matter",
            field="attachments",
        )


def _text(value: str, name: str, zh: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise Refused.one(f"case.{name}_missing", f"{zh}不能为空", f"the {name} may not be empty", field=name)
    if len(text) > limit:
        raise Refused.one(
            f"case.{name}_too_long",
            f"{zh}不能超过 {limit} 字",
            f"the {name} is longer than {limit}",
            field=name,
        )
    return text


def _audit(
    conn: sa.Connection,
    principal: Principal,
    action: str,
    case_id: int,
    subject_id: int | None,
    clock: Clock,
    detail: dict[str, Any],
) -> None:
    audit.record(
        conn,
        principal=principal,
        action=action,
        clock=clock,
        object_type="case_report",
        object_id=case_id,
        subject=SubjectRef.of_subject(conn, subject_id) if subject_id is not None else None,
        detail=detail,
    )
