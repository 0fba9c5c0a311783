"""Multi-step work of the application chapter: the check (逢办必查) that the API and the command line share.

    check(conn, runtime, code="9142…", matter="ZFCG", principal=…)
      → {"check_id", "subject", "matter", "lists": [...], "measures": [...], "checked_on"}

Before answering, the check catches up with the outbox (entries resting on a record repaired or revoked a
moment ago leave their lists), so the answer never lags the change that should alter it. Whether there is
anything to catch up with is asked in the same query that reads the subject and its entries; the catch-up
itself runs only when there is.

The check runs at every service window, so it is one transaction of three prepared statements — the
identifier look-up, the subject with its entries, the check row — and an audit entry only when the answer is
about a person (answers.is_personal).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from xinyong.apply import service
from xinyong.apply.answers import answer_for, matter_of
from xinyong.apply.catalogue import ApplyCatalogue, Matter
from xinyong.apply.proposals import active_catalogue
from xinyong.disclose.flows import resolve_code
from xinyong.policy import load_policy
from xinyong.runtime import Runtime
from xinyong.security.principal import Principal
from xinyong.subjects.service import find_subject_id


def check(
    conn: sa.Connection, runtime: Runtime, *, code: str, matter: str, principal: Principal
) -> dict[str, Any]:
    """The subject's current list entries, the measures that apply to it in `matter` with their basis and
    whether they are mandatory, stored as a check with its id."""
    catalogue = active_catalogue(conn)  # the YAML memoranda and the published proposals (发起响应)
    business = matter_of(catalogue, matter)
    # The registry's look-up first (one statement); anything it does not settle — a platform reference, a
    # merged subject, a typo to name, nothing found — goes the whole way through resolve_code.
    found = find_subject_id(conn, code, protector=runtime.protector) if code.strip() else None
    if found is not None:
        answered = _answer(conn, runtime, found, catalogue, business, principal)
        if answered is not None:
            return answered
    subject_id = resolve_code(conn, code, runtime)
    answered = _answer(conn, runtime, subject_id, catalogue, business, principal)
    if answered is None:  # pragma: no cover - resolve_code returns active subjects only
        raise LookupError(subject_id)
    return answered


def check_subject(
    conn: sa.Connection, runtime: Runtime, *, subject_id: int, matter: str, principal: Principal
) -> dict[str, Any] | None:
    """The check of one resolved subject (a candidate chosen from a name search); None if it is not active."""
    catalogue = active_catalogue(conn)
    return _answer(conn, runtime, subject_id, catalogue, matter_of(catalogue, matter), principal)


def _answer(
    conn: sa.Connection,
    runtime: Runtime,
    subject_id: int,
    catalogue: ApplyCatalogue,
    business: Matter,
    principal: Principal,
) -> dict[str, Any] | None:
    clock = runtime.clock
    found = answer_for(
        conn,
        subject_id,
        business=business,
        day=service.today(clock),
        catalogue=catalogue,
        catch_up=lambda: catch_up(conn, runtime),
    )
    if found is None:
        return None
    answer, personal = found
    check_id = service.record_check(
        conn,
        subject_id=subject_id,
        matter=business.code,
        answer=answer,
        principal=principal,
        clock=clock,
        audited=personal,
    )
    return {"check_id": check_id, **answer}


def catch_up(conn: sa.Connection, runtime: Runtime) -> None:
    """Entries resting on a record repaired or revoked since the last pass leave their lists now."""
    service.apply_record_events(
        conn, principal=Principal.system("apply.check"), clock=runtime.clock, policy=load_policy()
    )
