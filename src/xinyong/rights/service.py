"""Authorisations (授权查询) and the query log: the rights chapter's only writer.

A subject grants a named organisation access to its 授权查询-level information for one purpose until a
date, and may revoke it; `is_authorised` is what security.access consults (registered by `install()` when
the web app starts). Every query of non-public information about a subject by someone other than the
subject goes into `query_log` through `record_query`, and `queries_about` is the subject's view of it:
who, when, for what purpose, at what level, how much was shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from xinyong.clock import CHINA, Clock
from xinyong.problems import Problem, ProblemError
from xinyong.rights.models import authorisations, query_log
from xinyong.security import access
from xinyong.security.principal import Principal
from xinyong.security.querylog import (
    MAX_PURPOSE,
    find_authorisation,
    is_authorised,
    normalise_purpose,
    record_query,
)
from xinyong.store.tables import organisations
from xinyong.subjects.models import subject_identifiers, subjects

# ------------------------------------------------------------------------------------- authorisations


def grant(
    conn: sa.Connection,
    *,
    subject_id: int,
    organisation_uscc: str,
    purpose: str,
    valid_until: dt.date,
    clock: Clock,
    principal: Principal,
    valid_from: dt.date | None = None,
    document_ref: str | None = None,
) -> dict[str, Any]:
    """The subject authorises the organisation; returns the grant as `list_authorisations` shows it."""
    today = clock.now().astimezone(CHINA).date()
    start = valid_from or today
    text = normalise_purpose(purpose)
    problems = []
    if not text:
        problems.append(
            Problem(
                "rights.purpose", "授权须写明查询用途", "an authorisation names its purpose", field="purpose"
            )
        )
    if valid_until < max(start, today):
        problems.append(
            Problem(
                "rights.valid_until",
                f"授权截止日期 {valid_until} 早于起始日期或今天",
                f"the authorisation ends ({valid_until}) before it starts or before today",
                field="valid_until",
            )
        )
    org = conn.execute(
        sa.select(organisations.c.id, organisations.c.status).where(
            organisations.c.uscc == organisation_uscc.strip().upper()
        )
    ).first()
    if org is None or org.status != "active":
        problems.append(
            Problem(
                "rights.organisation",
                f"统一社会信用代码为 {organisation_uscc} 的机构未在平台登记或已停用",
                f"no active organisation with USCC {organisation_uscc} is registered",
                field="organisation_uscc",
            )
        )
    if problems:
        raise ProblemError(*problems)
    assert org is not None
    new_id = conn.execute(
        authorisations.insert()
        .values(
            subject_id=subject_id,
            organisation_id=org.id,
            purpose=text,
            valid_from=start,
            valid_until=valid_until,
            document_ref=(document_ref or "").strip()[:200] or None,
            status="active",
            granted_by=principal.actor,
            created_at=clock.now(),
        )
        .returning(authorisations.c.id)
    ).scalar_one()
    return next(a for a in list_authorisations(conn, subject_id=subject_id, clock=clock) if a["id"] == new_id)


def revoke(
    conn: sa.Connection, *, authorisation_id: int, subject_id: int, clock: Clock, principal: Principal
) -> bool:
    """Revoke the subject's own authorisation; False when it is not the subject's or not active."""
    done = conn.execute(
        authorisations.update()
        .where(
            authorisations.c.id == authorisation_id,
            authorisations.c.subject_id == subject_id,
            authorisations.c.status == "active",
        )
        .values(status="revoked", revoked_at=clock.now(), revoked_by=principal.actor)
    )
    return done.rowcount == 1


def list_authorisations(conn: sa.Connection, *, subject_id: int, clock: Clock) -> list[dict[str, Any]]:
    today = clock.now().astimezone(CHINA).date()
    a, o = authorisations, organisations
    rows = conn.execute(
        sa.select(a, o.c.uscc.label("organisation_uscc"), o.c.name.label("organisation_name"))
        .join(o, o.c.id == a.c.organisation_id)
        .where(a.c.subject_id == subject_id)
        .order_by(a.c.created_at.desc(), a.c.id.desc())
    ).mappings()
    return [
        {
            "id": r["id"],
            "organisation": {"uscc": r["organisation_uscc"], "name": r["organisation_name"]},
            "purpose": r["purpose"],
            "valid_from": r["valid_from"].isoformat(),
            "valid_until": r["valid_until"].isoformat(),
            "document_ref": r["document_ref"],
            "status": r["status"],
            "in_force": r["status"] == "active" and r["valid_from"] <= today <= r["valid_until"],
            "granted_at": r["created_at"].isoformat(),
            "revoked_at": r["revoked_at"].isoformat() if r["revoked_at"] else None,
        }
        for r in rows
    ]


__all__ = [
    "MAX_PURPOSE",
    "find_authorisation",
    "grant",
    "install",
    "is_authorised",
    "list_authorisations",
    "normalise_purpose",
    "own_subject_id",
    "queries_about",
    "record_query",
    "revoke",
]


def install() -> None:
    """Plug the authorisation table into security.access (called when the web app is created)."""
    access.register_authorisation_lookup(is_authorised)


def own_subject_id(conn: sa.Connection, principal: Principal) -> int | None:
    """The registry subject a subject account *is* (its USCC, or its ID number's blind index)."""
    if principal.subject_key is None or principal.subject_scheme is None:
        return None
    if principal.subject_scheme == "uscc":
        found = conn.execute(
            sa.select(subjects.c.id).where(
                subjects.c.uscc == principal.subject_key, subjects.c.status == "active"
            )
        ).scalar()
        if found is not None:
            return int(found)
    t = subject_identifiers
    found = conn.execute(
        sa.select(t.c.subject_id).where(
            t.c.scheme == principal.subject_scheme, t.c.value == principal.subject_key
        )
    ).scalar()
    return int(found) if found is not None else None


# ------------------------------------------------------------------------------------------ query log


def queries_about(
    conn: sa.Connection, *, subject_id: int, limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Who queried the subject, newest first: the subject's own view of the query log."""
    q = query_log
    query = sa.select(q).where(q.c.subject_id == subject_id)
    if before_id is not None:
        query = query.where(q.c.id < before_id)
    rows = conn.execute(query.order_by(q.c.id.desc()).limit(limit)).mappings()
    return [
        {
            "id": r["id"],
            "at": r["at"].isoformat(),
            "who": r["organisation_name"] or r["actor"],
            "actor_role": r["actor_role"],
            "audience": r["audience"],
            "level": r["level"],
            "purpose": r["purpose"],
            "channel": r["channel"],
            "authorisation_id": r["authorisation_id"],
            "shown": r["shown"].get("count", 0),
        }
        for r in rows
    ]
