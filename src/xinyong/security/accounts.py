"""User accounts: an organisation's staff, an enterprise acting for its own USCC, a person for themself.

The only writer of `users`. Sign-in counts failures and locks the account for a while after too many;
the answer never says whether a username exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.codes import check_idcard, normalize_code
from xinyong.problems import Problem, ProblemError
from xinyong.security import audit
from xinyong.security.errors import AccessDenied, AuthenticationFailed, SecurityError
from xinyong.security.masking import mask_id_number, mask_ids_in_text, mask_person_name
from xinyong.security.models import USER_STATES, user_sessions, users
from xinyong.security.organisations import add_organisation, find_organisation, require_organisation
from xinyong.security.passwords import (
    burn_time,
    check_password_rule,
    hash_password,
    needs_rehash,
    verify_password,
)
from xinyong.security.pii import PersonalIdProtector
from xinyong.security.principal import Principal
from xinyong.security.proofing import IdentityProofing, SubjectClaim
from xinyong.security.roles import load_roles
from xinyong.security.settings import SecuritySettings
from xinyong.store.tables import organisations

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


def create_user(
    conn: sa.Connection,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    organisation_uscc: str,
    clock: Clock,
    settings: SecuritySettings,
) -> int:
    """An account for a member of an organisation (staff of a credit office, a provider, an agency ...)."""
    org = require_organisation(conn, organisation_uscc)
    _check_role(role, organisation_kind=org["kind"])
    return _insert(
        conn,
        username=username,
        display_name=display_name,
        role=role,
        password=password,
        organisation_id=org["id"],
        clock=clock,
        settings=settings,
    )


def create_subject_account(
    conn: sa.Connection,
    *,
    claim: SubjectClaim,
    proofing: IdentityProofing,
    password: str,
    clock: Clock,
    protector: PersonalIdProtector,
    settings: SecuritySettings,
    username: str | None = None,
) -> int:
    """An account for a credit subject acting for itself, once the proofing adapter vouches for the claim.

    An enterprise's account belongs to an organisation of kind `enterprise` holding its USCC (created here
    if absent). A person's account holds their ID number only as a blind index and an encrypted copy.
    """
    claim = claim.normalised()
    proof = proofing.verify(claim, clock=clock)
    proof_values = {
        "proofed_by": proof.adapter,
        "proofed_at": proof.at,
        "proof_ref": mask_ids_in_text(proof.reference),
    }
    if claim.kind == "enterprise":
        org = find_organisation(conn, claim.code)
        if org is None:
            add_organisation(conn, name=claim.name, uscc=claim.code, kind="enterprise", clock=clock)
            org = require_organisation(conn, claim.code)
        _check_role("subject", organisation_kind=org["kind"])
        return _insert(
            conn,
            username=username or f"e-{claim.code.lower()}",
            display_name=claim.name,
            role="subject",
            password=password,
            organisation_id=org["id"],
            clock=clock,
            settings=settings,
            **proof_values,
        )
    person_key = protector.blind_index(claim.code)
    if conn.execute(sa.select(users.c.id).where(users.c.person_key == person_key)).first() is not None:
        raise ProblemError(
            Problem(
                "security.person_exists",
                "该公民身份号码已开设账户",
                "an account for this identity number exists",
            )
        )
    return _insert(
        conn,
        username=username or f"p-{person_key[:12]}",
        display_name=mask_person_name(claim.name) or "",
        role="subject",
        password=password,
        person_key=person_key,
        person_cipher=protector.encrypt(claim.code),
        person_masked=mask_id_number(claim.code),
        clock=clock,
        settings=settings,
        **proof_values,
    )


def _check_role(role: str, *, organisation_kind: str | None) -> None:
    book = load_roles()
    definition = book.role(role)
    if "user" not in definition.principals:
        raise ProblemError(
            Problem(
                "security.role_not_for_users",
                f"角色 {role} 不能分配给用户",
                f"role {role} is not for user accounts",
            )
        )
    allowed = organisation_kind in definition.organisation_kinds if organisation_kind else definition.person
    if not allowed:
        kinds = "、".join(definition.organisation_kinds)
        raise ProblemError(
            Problem(
                "security.role_kind",
                f"{definition.zh}（{role}）只能分配给以下类型机构的用户：{kinds}；"
                f"该机构类型为 {organisation_kind}",
                f"role {role} is for users of {', '.join(definition.organisation_kinds)} organisations, "
                f"not {organisation_kind}",
                field="role",
            )
        )


def _insert(
    conn: sa.Connection,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    clock: Clock,
    settings: SecuritySettings,
    **values: Any,
) -> int:
    if not USERNAME.fullmatch(username):
        raise ProblemError(
            Problem(
                "security.username",
                "用户名须为3至64位小写字母、数字或 . _ -，以字母或数字开头",
                "a username is 3-64 lower-case letters, digits or . _ -, starting with a letter or digit",
                field="username",
            )
        )
    if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first() is not None:
        raise ProblemError(
            Problem("security.user_exists", f"用户名 {username} 已存在", f"username {username} is taken")
        )
    check_password_rule(password, username=username, min_length=settings.password_min_length)
    now = clock.now()
    return conn.execute(
        users.insert()
        .values(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=hash_password(password),
            status="active",
            password_changed_at=now,
            created_at=now,
            **values,
        )
        .returning(users.c.id)
    ).scalar_one()


def list_users(conn: sa.Connection, *, organisation_uscc: str | None = None) -> list[dict[str, Any]]:
    query = (
        sa.select(
            users.c.id,
            users.c.username,
            users.c.display_name,
            users.c.role,
            users.c.status,
            users.c.person_masked,
            users.c.locked_until,
            users.c.last_login_at,
            organisations.c.uscc.label("organisation_uscc"),
            organisations.c.name.label("organisation_name"),
        )
        .outerjoin(organisations, organisations.c.id == users.c.organisation_id)
        .order_by(users.c.id)
    )
    if organisation_uscc:
        query = query.where(organisations.c.uscc == normalize_code(organisation_uscc))
    return [dict(r) for r in conn.execute(query).mappings()]


def set_user_status(conn: sa.Connection, *, username: str, status: str, clock: Clock) -> None:
    """Disable (or re-enable) an account. Disabling also ends its sessions at once."""
    if status not in USER_STATES:
        raise ValueError(f"status one of {USER_STATES}")
    user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise ProblemError(Problem("security.user_missing", f"用户 {username} 不存在", f"no user {username}"))
    values: dict[str, Any] = {"status": status}
    if status == "active":
        values |= {"failed_logins": 0, "locked_until": None}
    conn.execute(users.update().where(users.c.id == user_id).values(**values))
    if status == "disabled":
        conn.execute(
            user_sessions.update()
            .where(user_sessions.c.user_id == user_id, user_sessions.c.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


# --------------------------------------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt came to. The caller commits first (the failure count must stick), then
    raises `error` when there is one."""

    user_id: int | None
    error: SecurityError | None = None


_BAD_CREDENTIALS = Problem(
    "auth.invalid_credentials",
    "用户名或密码不正确。",
    "The username or password is not correct.",
)


def authenticate(
    conn: sa.Connection,
    *,
    login: str,
    password: str,
    clock: Clock,
    protector: PersonalIdProtector,
    settings: SecuritySettings,
    ip: str | None = None,
) -> SignIn:
    now = clock.now()
    user = _find_login(conn, login, protector)
    shown = mask_ids_in_text(login.strip())[:64]
    if user is None or user["status"] != "active" or not _organisation_active(conn, user):
        burn_time(password)
        return _failed(conn, None, shown, clock=clock, ip=ip, reason="unknown_or_disabled")
    principal = principal_for_user(conn, user["id"], session_id=None) or Principal.anonymous()
    locked_until = user["locked_until"]
    if locked_until is not None and locked_until > now:
        if not verify_password(user["password_hash"], password):
            return _failed(conn, principal, shown, clock=clock, ip=ip, reason="locked")
        return SignIn(None, _locked(max(1, int((locked_until - now).total_seconds()))))
    if not verify_password(user["password_hash"], password):
        failures = user["failed_logins"] + 1
        values: dict[str, Any] = {"failed_logins": failures}
        if failures >= settings.login_max_failures:
            values = {
                "failed_logins": 0,
                "locked_until": now + dt.timedelta(minutes=settings.lockout_minutes),
            }
            audit.record(
                conn,
                principal=principal,
                action="auth.lock",
                clock=clock,
                ip=ip,
                outcome="denied",
                object_type="user",
                object_id=user["username"],
                detail={"failures": failures},
            )
            log.warning("account %s locked after %d failed sign-ins", user["username"], failures)
        conn.execute(users.update().where(users.c.id == user["id"]).values(**values))
        return _failed(conn, principal, shown, clock=clock, ip=ip, reason="password")
    values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if needs_rehash(user["password_hash"]):
        values["password_hash"] = hash_password(password)
    conn.execute(users.update().where(users.c.id == user["id"]).values(**values))
    audit.record(
        conn,
        principal=principal,
        action="auth.login",
        clock=clock,
        ip=ip,
        object_type="user",
        object_id=user["username"],
    )
    return SignIn(user["id"])


def _failed(
    conn: sa.Connection, principal: Principal | None, shown: str, *, clock: Clock, ip: str | None, reason: str
) -> SignIn:
    audit.record(
        conn,
        principal=principal or Principal.anonymous(),
        action="auth.login",
        clock=clock,
        ip=ip,
        outcome="failed",
        object_type="user",
        object_id=shown,
        detail={"reason": reason},
    )
    log.info("failed sign-in for %s from %s (%s)", shown, ip, reason)
    return SignIn(None, AuthenticationFailed(_BAD_CREDENTIALS, headers={"WWW-Authenticate": "Bearer"}))


def _locked(wait: int) -> AccessDenied:
    minutes = max(1, -(-wait // 60))
    return AccessDenied(
        Problem(
            "auth.locked",
            f"账户因多次登录失败被暂时锁定，请在 {minutes} 分钟后重试，或联系管理员。",
            f"The account is locked after repeated failed sign-ins; retry in {minutes} minutes "
            "or ask an administrator.",
        ),
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


def _find_login(conn: sa.Connection, login: str, protector: PersonalIdProtector) -> dict[str, Any] | None:
    """A person may sign in with their ID number; everyone else with their username."""
    code = normalize_code(login)
    if len(code) in (15, 18) and check_idcard(code).valid:
        clause = users.c.person_key == protector.blind_index(code)
    else:
        clause = users.c.username == login.strip().lower()
    row = conn.execute(sa.select(users).where(clause)).mappings().first()
    return dict(row) if row else None


def _organisation_active(conn: sa.Connection, user: dict[str, Any]) -> bool:
    if user["organisation_id"] is None:
        return True
    status = conn.execute(
        sa.select(organisations.c.status).where(organisations.c.id == user["organisation_id"])
    ).scalar()
    return status == "active"


def principal_for_user(conn: sa.Connection, user_id: int, *, session_id: int | None) -> Principal | None:
    """The Principal of an active user of an active organisation, or None."""
    row = (
        conn.execute(
            sa.select(
                users,
                organisations.c.uscc.label("org_uscc"),
                organisations.c.name.label("org_name"),
                organisations.c.status.label("org_status"),
            )
            .outerjoin(organisations, organisations.c.id == users.c.organisation_id)
            .where(users.c.id == user_id)
        )
        .mappings()
        .first()
    )
    if row is None or row["status"] != "active" or (row["organisation_id"] and row["org_status"] != "active"):
        return None
    subject: dict[str, Any] = {}
    if row["role"] == "subject":
        subject = (
            {
                "subject_scheme": "idcard",
                "subject_key": row["person_key"],
                "subject_label": row["person_masked"],
            }
            if row["person_key"]
            else {"subject_scheme": "uscc", "subject_key": row["org_uscc"], "subject_label": row["org_uscc"]}
        )
    return Principal(
        kind="user",
        role=row["role"],
        actor=f"user:{row['username']}",
        display_name=row["display_name"],
        organisation_id=row["organisation_id"],
        organisation_uscc=row["org_uscc"],
        organisation_name=row["org_name"],
        user_id=row["id"],
        session_id=session_id,
        **subject,
    )
