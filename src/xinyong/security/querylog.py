"""Authorisation look-ups and the query log's writer: what disclosure and access control need of the
subject's rights, kept below the chapters so that neither imports the rights chapter (which grants,
revokes and lists).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa

from xinyong.clock import CHINA, Clock
from xinyong.security.models import authorisations, query_log
from xinyong.security.principal import Principal

MAX_PURPOSE = 200


def normalise_purpose(text: str | None) -> str:
    """Purposes are compared as typed, give or take width and spacing (全角/半角, doubled spaces)."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())[:MAX_PURPOSE]


def find_authorisation(
    conn: sa.Connection, *, organisation_id: int, subject_id: int, at: dt.datetime, purpose: str | None
) -> int | None:
    """The authorisation in force that lets the organisation query the subject for this purpose, if any."""
    text = normalise_purpose(purpose)
    if not text:
        return None
    day = at.astimezone(CHINA).date()
    a = authorisations
    return conn.execute(
        sa.select(a.c.id)
        .where(
            a.c.organisation_id == organisation_id,
            a.c.subject_id == subject_id,
            a.c.status == "active",
            a.c.valid_from <= day,
            a.c.valid_until >= day,
            a.c.purpose == text,
        )
        .order_by(a.c.id.desc())
        .limit(1)
    ).scalar()


def is_authorised(
    conn: sa.Connection, *, organisation_id: int, subject_id: int, at: dt.datetime, purpose: str | None
) -> bool:
    return (
        find_authorisation(
            conn, organisation_id=organisation_id, subject_id=subject_id, at=at, purpose=purpose
        )
        is not None
    )


def record_query(
    conn: sa.Connection,
    *,
    subject_id: int,
    principal: Principal,
    audience: str,
    level: str,
    purpose: str,
    channel: str,
    shown: Sequence[int],
    clock: Clock,
    authorisation_id: int | None = None,
) -> int:
    return conn.execute(
        query_log.insert()
        .values(
            subject_id=subject_id,
            at=clock.now(),
            actor=principal.actor,
            actor_role=principal.role,
            organisation_id=principal.organisation_id,
            organisation_name=principal.organisation_name,
            audience=audience,
            level=level,
            purpose=normalise_purpose(purpose) or "-",
            authorisation_id=authorisation_id,
            channel=channel,
            shown={"count": len(shown), "records": list(shown)},
        )
        .returning(query_log.c.id)
    ).scalar_one()
