"""What a party sees of objections and repair applications: a subject its own, a department the ones it
must decide, the platform all — each through the chapter's own `show()` answers (no second copy).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.problems import Problem
from xinyong.rights import notify
from xinyong.rights import objections as objection_flow
from xinyong.rights import repair as repair_flow
from xinyong.rights.actors import is_platform
from xinyong.rights.errors import Refused
from xinyong.rights.models import objections, repair_applications
from xinyong.rights.notify import Party
from xinyong.rights.service import own_subject_id
from xinyong.security import audit
from xinyong.security.errors import AccessDenied
from xinyong.security.principal import Principal


def party_of(conn: sa.Connection, principal: Principal) -> Party | None:
    """Whose inbox and queue the principal reads: itself as a subject, the platform, or its organisation."""
    if principal.role == "subject":
        subject_id = own_subject_id(conn, principal)
        return Party.subject(subject_id) if subject_id is not None else None
    if is_platform(principal):
        return Party.platform()
    if principal.organisation_uscc:
        return Party.organisation(principal.organisation_uscc)
    return None


def contact_of(conn: sa.Connection, party: Party | None) -> str | None:
    """The address the party's notifications are mailed to (None: none on file, or no party)."""
    return notify.contact(conn, party)["email"] if party else None


def save_contact(
    conn: sa.Connection, party: Party | None, *, email: str | None, clock: Clock, principal: Principal
) -> str | None:
    """Set (empty: clear) the notification address of the principal's party (`party_of`); the page and the
    API both call this. Refused 404 when the platform holds no subject or organisation for the account."""
    if party is None:
        raise Refused.one(
            "contact.no_party",
            "平台尚无与您的账户对应的信用主体或机构，无法设置通知邮箱",
            "the platform holds no subject or organisation for your account: no address can be set",
            status=404,
        )
    return notify.save_email(conn, party, email=email, clock=clock, principal=principal)["email"]


def of_subject(conn: sa.Connection, subject_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every objection and repair application of one subject, newest first."""
    o, a = objections, repair_applications
    objection_ids = conn.execute(
        sa.select(o.c.id).where(o.c.subject_id == subject_id).order_by(o.c.id.desc())
    ).scalars()
    repair_ids = conn.execute(
        sa.select(a.c.id).where(a.c.subject_id == subject_id).order_by(a.c.id.desc())
    ).scalars()
    return {
        "objections": [objection_flow.show(conn, objection_id=i) for i in objection_ids],
        "repairs": [repair_flow.show(conn, application_id=i) for i in repair_ids],
    }


def readable(
    conn: sa.Connection, principal: Principal, answer: dict[str, Any], *, clock: Clock
) -> dict[str, Any]:
    """`answer` (an objection's or application's show()) if the principal may read it, else refused: the
    subject it is about, the platform, or the department that holds the record or must decide it. A read
    by anyone but the subject itself is audited (the reasons and evidence are not public)."""
    if principal.role == "subject":
        mine = own_subject_id(conn, principal)
        allowed = mine is not None and mine == _subject_id(conn, answer)
    else:
        allowed = is_platform(principal) or (
            principal.organisation_uscc is not None
            and principal.organisation_uscc
            in {answer["record"]["source_uscc"], answer.get("forwarded_to"), answer.get("decider")}
        )
    if not allowed:
        raise AccessDenied(
            Problem(
                "rights.not_yours",
                f"编号 {answer['id']} 的申请与您无关，不能查看",
                f"application {answer['id']} is neither yours nor for your department: it is not shown",
            )
        )
    if principal.role != "subject":
        _audit_read(conn, principal, answer, clock=clock)
    return answer


def _audit_read(conn: sa.Connection, principal: Principal, answer: dict[str, Any], *, clock: Clock) -> None:
    kind = "objection" if "kind" in answer else "repair"
    about = _subject_id(conn, answer)
    audit.record(
        conn,
        principal=principal,
        action=f"{kind}.read",
        clock=clock,
        object_type=kind,
        object_id=answer["id"],
        subject=audit.SubjectRef.of_subject(conn, about) if about is not None else None,
        detail={"record_id": answer["record_id"]},
    )


def _subject_id(conn: sa.Connection, answer: dict[str, Any]) -> int | None:
    table = objections if "kind" in answer else repair_applications
    return conn.execute(sa.select(table.c.subject_id).where(table.c.id == answer["id"])).scalar()
