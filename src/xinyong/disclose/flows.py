"""The flow every channel runs to show one subject: resolve, check, disclose, record.

The portal's subject page, the JSON API and the CSV export call `look_up` and differ only in how they
render its answer, so they cannot disagree. Reading is `service.disclose`; this adds what a request
needs around it: the audience the caller forms for this subject (security.access), the permission check
at the level asked for, the declared purpose for non-public levels, the agency's quota, and the record of
the access — the audit trail (the platform's supervision) and the query log (the subject's own view).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.codes.normalize import normalize_code
from xinyong.disclose.codes import typo
from xinyong.disclose.limits import QueryRefused
from xinyong.disclose.lookups import code_holder
from xinyong.disclose.models import Audience, Disclosure, LevelName
from xinyong.disclose.service import SUBJECT_REF_PREFIX, disclose
from xinyong.policy import Policy, load_policy
from xinyong.runtime import Runtime
from xinyong.security import audit, querylog
from xinyong.security.access import audience_for, check, consume_quota, declared_purpose
from xinyong.security.errors import SecurityError
from xinyong.security.masking import mask_ids_in_text
from xinyong.security.principal import Principal
from xinyong.subjects.models import subjects

_STATUS = sa.select(subjects.c.status, subjects.c.merged_into_id).where(subjects.c.id == sa.bindparam("sid"))
_BY_REF = sa.select(subjects.c.id).where(subjects.c.public_ref == sa.bindparam("ref"))
_REF = re.compile(rf"^{re.escape(SUBJECT_REF_PREFIX)}([0-9a-f]{{24}})$", re.IGNORECASE)


@dataclass(frozen=True)
class Lookup:
    subject_id: int
    audience: Audience
    level: LevelName
    purpose: str | None
    disclosure: Disclosure


def resolve_code(conn: sa.Connection, code: str, runtime: Runtime) -> int:
    """Any identifier (USCC, 注册号, 组织机构代码, ID number…) or a platform reference (xy- and 24 hex
    characters) to the subject that holds it, merges followed. QueryRefused 422 for a code that does not
    check (its check character, length or characters: the typo is named), 404 when no subject holds it."""
    text = code.strip()
    subject_id: int | None
    if match := _REF.match(text):
        subject_id = conn.execute(_BY_REF, {"ref": match.group(1).lower()}).scalar()
    elif text.lower().startswith(SUBJECT_REF_PREFIX):
        subject_id = None  # an old xy-<id> address or a mistyped reference: references cannot be guessed
    else:
        holder = code_holder(conn, text, protector=runtime.protector)
        if holder is not None and not (holder.status == "merged" and holder.merged_into_id):
            return holder.subject_id  # the common case: one query, nothing to follow
        subject_id = holder.merged_into_id if holder is not None else None
    for _ in range(8):  # follow merges (a chain longer than this is a data error)
        if subject_id is None:
            break
        row = conn.execute(_STATUS, {"sid": subject_id}).first()
        if row is None:
            subject_id = None
        elif row.status == "merged" and row.merged_into_id:
            subject_id = row.merged_into_id
        else:
            return subject_id
    shown = mask_ids_in_text(normalize_code(text) or text)
    problem = None if text.lower().startswith(SUBJECT_REF_PREFIX) else typo(text)
    if problem is not None:
        raise QueryRefused(problem.code, problem.message_zh, problem.message_en, status=422)
    raise QueryRefused(
        "subject.not_found",
        f"未找到代码为 {shown} 的信用主体",
        f"No credit subject has the identifier {shown}",
        status=404,
    )


def look_up(
    conn: sa.Connection,
    *,
    runtime: Runtime,
    principal: Principal,
    code: str,
    level: LevelName = "public",
    purpose: str | None = None,
    channel: str = "api",
    ip: str | None = None,
    catalog: Catalog | None = None,
    policy: Policy | None = None,
    text_limit: int | None = None,
) -> Lookup:
    """What `principal` may see about the subject `code` at levels up to `level`, recorded as it must be.

    Raises AccessDenied (403) when the audience may not see `level`, PurposeRequired (400) when a
    non-public level comes without a purpose, QueryRefused (404) for an unknown code. Every non-public
    look-up is audited, found or not, allowed or refused: a refusal carries the subject for the entry the
    web layer writes once this transaction is rolled back (web.deps.refusal_response); a code that finds
    nothing is recorded here, in a transaction of its own, since nothing will be committed on `conn`.
    At the public level, text fields are cut at `text_limit` characters (each record's notice shows them
    whole)."""
    clock = runtime.clock
    try:
        subject_id = resolve_code(conn, code, runtime)
    except QueryRefused:
        if level != "public":
            record_not_found(
                runtime,
                principal,
                code,
                action="subject.read",
                level=level,
                purpose=purpose,
                channel=channel,
                ip=ip,
            )
        raise
    audience = audience_for(conn, principal, subject_id=subject_id, clock=clock, purpose=purpose)
    try:
        check(principal, "subject.read", level=level, audience=audience)
        check(principal, "record.read", level=level, audience=audience)
        declared = declared_purpose(purpose, level=level, audience=audience)
    except SecurityError as refusal:
        refusal.context.update(subject_id=subject_id, channel=channel)
        raise
    # Asked at the public level, everyone gets the public answer: what more an audience may see (its own
    # information after publicity, government sharing, names unmasked) is shown only when asked for at a
    # higher level — with a purpose, and recorded.
    result = disclose(
        conn,
        subject_id=subject_id,
        audience=audience if level != "public" else "public",
        clock=clock,
        catalog=catalog or load_catalog(),
        policy=policy or load_policy(),
        level=level,
        text_limit=text_limit if level == "public" else None,
    )
    if level != "public":
        assert declared is not None  # declared_purpose raised otherwise
        authorisation_id = None
        if audience == "authorised":
            try:
                consume_quota(conn, principal, clock)
            except SecurityError as refusal:
                refusal.context.update(subject_id=subject_id, channel=channel)
                raise
            assert principal.organisation_id is not None
            authorisation_id = querylog.find_authorisation(
                conn,
                organisation_id=principal.organisation_id,
                subject_id=subject_id,
                at=clock.now(),
                purpose=declared,
            )
        if audience != "self":
            querylog.record_query(
                conn,
                subject_id=subject_id,
                principal=principal,
                audience=audience,
                level=level,
                purpose=declared,
                channel=channel,
                shown=result.record_ids,
                clock=clock,
                authorisation_id=authorisation_id,
            )
        audit.record(
            conn,
            principal=principal,
            action="subject.read",
            clock=clock,
            object_type="subject",
            object_id=subject_id,
            subject=audit.SubjectRef.of_subject(conn, subject_id),
            level=level,
            purpose=declared,
            ip=ip,
            detail={"channel": channel, "audience": audience, "records": len(result.records)},
        )
    return Lookup(subject_id, audience, level, declared, result)


def record_not_found(
    runtime: Runtime,
    principal: Principal,
    code: str,
    *,
    action: str,
    level: str | None,
    purpose: str | None,
    channel: str,
    ip: str | None,
) -> None:
    """A non-public look-up that found nothing: whom it was for (an ID number by its blind index)."""
    with runtime.engine.begin() as own:
        audit.record(
            own,
            principal=principal,
            action=action,
            clock=runtime.clock,
            subject=audit.SubjectRef.from_code(code, runtime.protector),
            purpose=purpose,
            ip=ip,
            outcome="failed",
            detail={"channel": channel, "level": level, "found": False},
        )
