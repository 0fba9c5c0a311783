"""The one permission check, and the audience a principal forms for one subject.

`check()` is called by the web dependency `permission(...)` for every route (route stage: may this role do
this at all?) and again by handlers and services once the object is known (level, owner, audience). It is
deny-by-default: no grant, no access; a grant that needs context (a level, an owner, the subject itself)
does not apply when that context is missing.

`audience_for()` answers "who is this principal to this subject?": the public, the subject itself, an
authorised querier (a qualified agency within quota, holding the subject's authorisation), a government
body, or the platform. The authorisation itself is the rights chapter's table; it plugs in through
`register_authorisation_lookup()`.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import sqlalchemy as sa

from xinyong.clock import CHINA, Clock
from xinyong.problems import Problem
from xinyong.security.errors import AccessDenied, PurposeRequired, SecurityError
from xinyong.security.models import agency_qualifications
from xinyong.security.principal import Principal
from xinyong.security.roles import LEVELS, AudienceName, Grant, RoleBook, load_roles
from xinyong.store.tables import organisations
from xinyong.subjects.models import subject_identifiers, subjects


def holds(principal: Principal | None, permission: str) -> bool:
    """Whether the role holds `permission` at all (what a page shows: a link, a form); the action checks
    again, against the object."""
    if principal is None:
        return False
    try:
        check(principal, permission, route=True)
    except SecurityError:
        return False
    return True


def check(
    principal: Principal,
    permission: str,
    *,
    level: str | None = None,
    audience: AudienceName | None = None,
    owner: str | None = None,
    route: bool = False,
) -> None:
    """Return if `principal` may do `permission`; raise AccessDenied (403, bilingual message) otherwise.

    level     the disclosure level of what is about to be shown (required for level-bearing permissions,
              except at the route stage)
    audience  what audience_for() said about the subject concerned; without it the role's base audience
    owner     the USCC of the organisation that owns the object (for `own_organisation` grants)
    route     the route stage: only "does the role hold this permission at all"; the handler checks again
    """
    book = load_roles()
    perm = book.permission(permission)
    if level is not None and level not in LEVELS:
        raise ValueError(f"unknown disclosure level {level!r}")
    if perm.levels and level is None and not route:
        raise ValueError(f"{permission} depends on the disclosure level: pass level=")
    if principal.role not in book.roles:
        raise AccessDenied(_refusal(book, principal, permission))
    if principal.scopes is not None and permission not in principal.scopes:
        raise AccessDenied(_refusal(book, principal, permission, reason="token_scope"))
    grants = book.grants(principal.role, permission)
    if not grants:
        raise AccessDenied(_refusal(book, principal, permission))
    if route:
        return
    reach = audience or book.base_audience(principal.role)
    reasons = [_grant_refuses(book, g, principal, level=level, reach=reach, owner=owner) for g in grants]
    if None in reasons:
        return
    raise AccessDenied(_refusal(book, principal, permission, reason=reasons[-1], level=level, reach=reach))


def organisation_reach(principal: Principal, permission: str) -> str | None:
    """Whose objects `permission` reaches for this principal, for a listing that must filter before it reads:
    None for every organisation's, or the principal's own organisation's USCC when its grant is scoped to
    it (`own_organisation`). Raises AccessDenied when neither — the same refusal as `check()`."""
    try:
        check(principal, permission)
    except AccessDenied:
        check(principal, permission, owner=principal.organisation_uscc)
        return principal.organisation_uscc
    return None


def _grant_refuses(
    book: RoleBook, grant: Grant, principal: Principal, *, level: str | None, reach: str, owner: str | None
) -> str | None:
    """Why this grant does not allow the action here, or None when it does."""
    if level is not None and (level not in grant.levels or level not in book.audiences[reach].sees):
        return "level"
    if grant.scope == "own_organisation" and (owner is None or owner != principal.organisation_uscc):
        return "owner"
    if grant.scope == "self" and reach != "self":
        return "self"
    return None


def _refusal(
    book: RoleBook,
    principal: Principal,
    permission: str,
    *,
    reason: str = "role",
    level: str | None = None,
    reach: str | None = None,
) -> Problem:
    perm = book.permissions[permission]
    role = book.roles.get(principal.role)
    role_zh, role_en = (role.zh, role.en) if role else (principal.role, principal.role)
    zh, en = f"{role_zh}无权{perm.zh}", f"{role_en} may not {perm.en}"
    if reason == "level" and level is not None and reach is not None:
        lv, aud = book.levels[level], book.audiences[reach]  # type: ignore[index]
        visible = "、".join(book.levels[s].zh for s in aud.sees)
        zh = f"{role_zh}无权查看“{lv.zh}”信息（{aud.zh}可查看：{visible}）"
        en = f"{role_en} may not see {lv.en} information (as {aud.en}: {', '.join(aud.sees)} only)"
        if role and role.audience == "authorised":
            zh += "。授权查询须经资质审核、取得信用主体的书面授权，并在查询配额之内"
            en += (
                ". Authorised queries need an approved qualification, the subject's written authorisation, "
                "and quota"
            )
    elif reason == "owner":
        zh, en = zh + "：只能处理本单位的信息", en + ": only its own organisation's information"
    elif reason == "self":
        zh, en = zh + "：只能针对本人", en + ": only for itself"
    elif reason == "token_scope":
        zh = f"该接口令牌的权限范围不包括“{perm.zh}”"
        en = f"this API token's scopes do not include {permission}"
    if not principal.authenticated:
        zh, en = zh + "。如有账户，请先登录", en + ". Sign in if you have an account"
    return Problem("security.forbidden", zh + "。", en + ".", field=permission)


# --------------------------------------------------------------------------------------------- audience


class AuthorisationLookup(Protocol):
    """Does the subject's written authorisation let this organisation query it now, for this purpose?"""

    def __call__(
        self,
        conn: sa.Connection,
        *,
        organisation_id: int,
        subject_id: int,
        at: dt.datetime,
        purpose: str | None,
    ) -> bool: ...


_authorisation_lookup: AuthorisationLookup | None = None


def register_authorisation_lookup(lookup: AuthorisationLookup | None) -> None:
    """The rights chapter registers its authorisation table here (None unregisters). Until then, no agency
    holds an authorisation and every authorised query is refused: deny by default."""
    global _authorisation_lookup
    _authorisation_lookup = lookup


def audience_for(
    conn: sa.Connection, principal: Principal, *, subject_id: int, clock: Clock, purpose: str | None = None
) -> AudienceName:
    book = load_roles()
    role = book.roles.get(principal.role)
    if role is None:
        return "public"
    if role.audience == "self":
        return "self" if is_self(conn, principal, subject_id) else "public"
    if role.audience == "authorised":
        return "authorised" if _agency_may_query(conn, principal, subject_id, clock, purpose) else "public"
    return role.audience


def is_self(conn: sa.Connection, principal: Principal, subject_id: int) -> bool:
    """Is the principal the subject itself? Matched on the USCC, or on the ID number's blind index."""
    if principal.subject_key is None or principal.subject_scheme is None:
        return False
    t = subject_identifiers
    by_identifier = sa.select(t.c.subject_id).where(
        t.c.subject_id == subject_id,
        t.c.scheme == principal.subject_scheme,
        t.c.value == principal.subject_key,
    )
    if conn.execute(by_identifier).first() is not None:
        return True
    if principal.subject_scheme == "uscc":
        row = conn.execute(sa.select(subjects.c.uscc).where(subjects.c.id == subject_id)).first()
        return row is not None and row.uscc == principal.subject_key
    return False


def agency_standing(conn: sa.Connection, organisation_id: int, clock: Clock) -> tuple[bool, int]:
    """(qualified now, queries left this month) for a credit service agency."""
    row = conn.execute(
        sa.select(agency_qualifications).where(agency_qualifications.c.organisation_id == organisation_id)
    ).first()
    if row is None or row.status != "approved":
        return False, 0
    today = clock.now().astimezone(CHINA).date()
    if row.valid_until is not None and row.valid_until < today:
        return False, 0
    used = row.quota_used if row.quota_period == _period(clock) else 0
    return True, max(row.quota_per_month - used, 0)


def consume_quota(conn: sa.Connection, principal: Principal, clock: Clock) -> None:
    """Count one authorised query against the agency's monthly quota; refuse when it is spent.

    One UPDATE does the test and the increment, so concurrent queries cannot overspend.
    """
    period = _period(clock)
    q = agency_qualifications
    done = conn.execute(
        q.update()
        .where(
            q.c.organisation_id == principal.organisation_id,
            q.c.status == "approved",
            q.c.quota_per_month > 0,
            sa.or_(
                q.c.quota_period.is_(None), q.c.quota_period != period, q.c.quota_used < q.c.quota_per_month
            ),
        )
        .values(
            quota_used=sa.case((q.c.quota_period == period, q.c.quota_used + 1), else_=1),
            quota_period=period,
        )
    )
    if done.rowcount != 1:
        raise AccessDenied(
            Problem(
                "security.quota_exhausted",
                "本月授权查询配额已用完，或机构资质未获批准。",
                "This month's authorised-query quota is spent, "
                "or the agency's qualification is not approved.",
            )
        )


def _agency_may_query(
    conn: sa.Connection, principal: Principal, subject_id: int, clock: Clock, purpose: str | None
) -> bool:
    if principal.organisation_id is None or _authorisation_lookup is None:
        return False
    org_active = conn.execute(
        sa.select(organisations.c.status).where(organisations.c.id == principal.organisation_id)
    ).scalar()
    qualified, left = agency_standing(conn, principal.organisation_id, clock)
    if org_active != "active" or not qualified or left <= 0:
        return False
    return _authorisation_lookup(
        conn,
        organisation_id=principal.organisation_id,
        subject_id=subject_id,
        at=clock.now(),
        purpose=purpose,
    )


def _period(clock: Clock) -> str:
    return clock.now().astimezone(CHINA).strftime("%Y-%m")


SELF_QUERY_PURPOSE = "本人查询 / self-query"


def declared_purpose(purpose: str | None, *, level: str, audience: AudienceName) -> str | None:
    """The purpose to record for showing information at `level`; non-public information needs one.

    The subject looking at itself needs no words: its purpose is self-query.
    """
    if level == "public":
        return purpose.strip() if purpose and purpose.strip() else None
    if purpose and purpose.strip():
        return purpose.strip()[:200]
    if audience == "self":
        return SELF_QUERY_PURPOSE
    raise PurposeRequired(
        Problem(
            "security.purpose_required",
            "查询非公开信息须声明查询目的（参数 purpose），该目的将记入审计日志。",
            "Non-public information is shown only for a declared purpose (parameter `purpose`); "
            "it is written to the audit trail.",
            field="purpose",
        )
    )
