"""Multi-step work of the application chapter: the check (逢办必查) that the API and the command line share.

    check(conn, runtime, code="9142…", matter="ZFCG", principal=…)
      → {"check_id", "subject", "matter", "lists": [...], "measures": [...], "checked_on"}

Before answering, the check catches up with the outbox (entries resting on a record repaired or revoked a
moment ago leave their lists), so the answer never lags the change that should alter it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.apply import service
from xinyong.apply.errors import Refused
from xinyong.apply.proposals import active_catalogue
from xinyong.disclose.flows import resolve_code
from xinyong.policy import load_policy
from xinyong.runtime import Runtime
from xinyong.security.principal import Principal


def check(
    conn: sa.Connection, runtime: Runtime, *, code: str, matter: str, principal: Principal
) -> dict[str, Any]:
    """The subject's current list entries, the measures that apply to it in `matter` with their basis and
    whether they are mandatory, stored as a check with its id."""
    catalogue = active_catalogue(conn)  # the YAML memoranda and the published proposals (发起响应)
    business = catalogue.matter(matter.strip().upper())
    if business is None:
        known = "、".join(m.code for m in catalogue.matters)
        raise Refused.one(
            "check.matter_unknown",
            f"未知的业务事项 {matter}；可选：{known}",
            f"unknown business matter {matter}; one of {known.replace('、', ', ')}",
            field="matter",
        )
    subject_id = resolve_code(conn, code, runtime)
    clock = runtime.clock
    service.apply_record_events(
        conn, principal=Principal.system("apply.check"), clock=clock, policy=load_policy()
    )
    day = service.today(clock)
    subject = service._subject(conn, subject_id)
    entries = service.current_entries(conn, subject_id, on=day)
    lists, measures = [], []
    for row in entries:
        kind = catalogue.list_type(row.list_type)
        if kind is None:
            continue
        lists.append(
            {
                "entry_id": row.id,
                "list_type": kind.code,
                "name_zh": kind.name_zh,
                "name_en": kind.name_en,
                "kind": kind.kind,
                "deciding_body": kind.deciding_body,
                "basis": row.basis,
                "decided_on": row.decided_on.isoformat(),
                "valid_until": row.valid_until.isoformat(),
            }
        )
        for memo, measure in catalogue.measures_for(kind.code, business.code, subject.kind):
            measures.append(
                {
                    "code": measure.code,
                    "content_zh": measure.content_zh,
                    "content_en": measure.content_en,
                    "basis": measure.basis,
                    "effect": measure.effect,
                    "mandatory": measure.mandatory,
                    "departments": list(measure.departments),
                    "memorandum": memo.name_zh,
                    "document": memo.document,
                    "list_type": kind.code,
                    "entry_id": row.id,
                }
            )
    answer: dict[str, Any] = {
        "subject": service.subject_ref(subject),
        "matter": {"code": business.code, "name_zh": business.name_zh, "name_en": business.name_en},
        "checked_on": day.isoformat(),
        "lists": lists,
        "measures": measures,
    }
    check_id = service.record_check(
        conn, subject_id=subject_id, matter=business.code, answer=answer, principal=principal, clock=clock
    )
    return {"check_id": check_id, **answer}
