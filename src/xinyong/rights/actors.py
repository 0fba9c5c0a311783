"""Who is acting on a record: the platform, the record's own department, the subject itself.

The route's permission check (security.access) has already said whether the role may act at all; these
are the checks on the object: which subject the record is about, which department it came from.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.problems import Problem
from xinyong.runtime import Runtime
from xinyong.security.errors import AccessDenied
from xinyong.security.principal import Principal
from xinyong.subjects.models import subjects
from xinyong.subjects.service import reference

# Roles that act as the platform (信用信息平台 / 信用信息中心). The command line acts as the platform unless
# the operator names an organisation it acts for (`--org`).
PLATFORM_ROLES = frozenset({"credit_office", "system"})


def is_platform(principal: Principal) -> bool:
    return principal.role in PLATFORM_ROLES


def acting_subject(
    conn: sa.Connection, runtime: Runtime, principal: Principal, *, record: Any, subject_code: str | None
) -> tuple[int, str]:
    """(the subject on whose behalf, "self" or "counter"); refused when the record is not that subject's own.

    A signed-in subject acts for itself. An operator at a service counter (the platform) acts for the subject
    whose identity it checked, named by `subject_code`; without one, for the record's own subject.
    """
    from xinyong.disclose.flows import resolve_code
    from xinyong.rights.service import own_subject_id

    if principal.role == "subject":
        subject_id, via = own_subject_id(conn, principal), "self"
    elif is_platform(principal):
        subject_id = resolve_code(conn, subject_code, runtime) if subject_code else record.subject_id
        via = "counter"
    else:
        raise AccessDenied(
            Problem(
                "rights.not_subject",
                "只有信用主体本人，或在服务窗口代其办理的平台工作人员，可以提出申请",
                "only the subject itself, or platform staff acting for it at a service counter, may apply",
            )
        )
    if subject_id != record.subject_id:
        raise AccessDenied(
            Problem(
                "rights.not_own_record",
                f"信用记录 {record.id} 不是该信用主体的信息，不能为其提出申请",
                f"credit record {record.id} is not about this subject: it may not apply for it",
                field="record",
            )
        )
    return int(subject_id), via


def subject_code(conn: sa.Connection, subject_id: int) -> str:
    """How events and messages name a subject: its USCC, else the platform reference (never an ID number)."""
    found = sa.select(subjects.c.uscc, subjects.c.public_ref).where(subjects.c.id == subject_id)
    uscc, public_ref = conn.execute(found).one()
    return reference(uscc, public_ref)


def record_ref(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "item_code": record.item_code,
        "source_uscc": record.source_uscc,
        "source_key": record.source_key,
    }
