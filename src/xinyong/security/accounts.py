"""User accounts: an organisation's staff, an enterprise acting for its own USCC, a person for themself.

The only writer of `users`. Sign-in counts failures per account *and client address*: too many from one
address lock that address out of that account for a while, each further lock-out twice as long — never
the account itself, so that whoever knows a username (say `admin`) cannot lock its owner out. Every failure
gets the same answer after the same work (one argon2 verification, against a dummy hash for an unknown
name), so the answer never tells whether a username exists, is disabled, or is locked.
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
from xinyong.security.errors import AuthenticationFailed, SecurityError
from xinyong.security.masking import mask_id_number, mask_ids_in_text, mask_person_name
from xinyong.security.models import USER_STATES, login_throttle, user_sessions, users
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
from xinyong.store.engine import dialect_insert
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
    definition = book.assignable(role)
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
    lock = (
        sa.select(sa.func.max(login_throttle.c.locked_until))
        .where(login_throttle.c.user_id == users.c.id)
        .scalar_subquery()
    )
    query = (
        sa.select(
            users.c.id,
            users.c.username,
            users.c.display_name,
            users.c.role,
            users.c.status,
            users.c.person_masked,
            lock.label("locked_until"),  # the latest lock-out of any client address
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
    conn.execute(users.update().where(users.c.id == user_id).values(status=status))
    if status == "active":  # re-enabling also lifts every lock-out
        conn.execute(
            login_throttle.update()
            .where(login_throttle.c.user_id == user_id)
            .values(failures=0, lockouts=0, locked_until=None)
        )
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
    "用户名或密码不正确，或失败次数过多需稍后再试。",
    "The username or password is not correct, or there were too many failed attempts: retry later.",
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
    client = (ip or "unknown")[:45]
    user = _find_login(conn, login, protector)
    shown = mask_ids_in_text(login.strip())[:64]
    if user is None or user["status"] != "active" or not _organisation_active(conn, user):
        burn_time(password)
        return _failed(conn, None, shown, clock=clock, ip=ip, reason="unknown_or_disabled")
    principal = principal_for_user(conn, user["id"], session_id=None) or Principal.anonymous()
    correct = verify_password(user["password_hash"], password)  # also when locked: the same time taken
    throttle = conn.execute(
        sa.select(login_throttle).where(
            login_throttle.c.user_id == user["id"], login_throttle.c.client == client
        )
    ).first()
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now:
        return _failed(conn, principal, shown, clock=clock, ip=ip, reason="locked")
    if not correct:
        _count_failure(conn, principal, user, client, clock=clock, settings=settings, ip=ip)
        return _failed(conn, principal, shown, clock=clock, ip=ip, reason="password")
    if throttle is not None:
        conn.execute(
            login_throttle.update()
            .where(login_throttle.c.id == throttle.id)
            .values(failures=0, lockouts=0, locked_until=None)
        )
    values: dict[str, Any] = {"last_login_at": now}
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


def _count_failure(
    conn: sa.Connection,
    principal: Principal,
    user: dict[str, Any],
    client: str,
    *,
    clock: Clock,
    settings: SecuritySettings,
    ip: str | None,
) -> None:
    """One more failure of this client on this account; at the limit, a lock-out of that client, twice as
    long as its previous one (up to the maximum). A day without failures (the maximum lock-out) forgets."""
    now = clock.now()
    user_id, username = user["id"], user["username"]
    t = login_throttle
    conn.execute(
        dialect_insert(conn)(t)
        .values(user_id=user_id, client=client, failures=0, lockouts=0, last_failure_at=now)
        .on_conflict_do_nothing()
    )
    quiet = t.c.last_failure_at < now - dt.timedelta(minutes=settings.lockout_max_minutes)
    row = conn.execute(
        t.update()
        .where(t.c.user_id == user_id, t.c.client == client)
        .values(
            failures=sa.case((quiet, 1), else_=t.c.failures + 1),
            lockouts=sa.case((quiet, 0), else_=t.c.lockouts),
            last_failure_at=now,
        )
        .returning(t.c.id, t.c.failures, t.c.lockouts)
    ).one()
    if row.failures < settings.login_max_failures:
        return
    minutes = min(settings.lockout_minutes * 2**row.lockouts, settings.lockout_max_minutes)
    conn.execute(
        t.update()
        .where(t.c.id == row.id)
        .values(failures=0, lockouts=row.lockouts + 1, locked_until=now + dt.timedelta(minutes=minutes))
    )
    audit.record(
        conn,
        principal=principal,
        action="auth.lock",
        clock=clock,
        ip=ip,
        outcome="denied",
        object_type="user",
        object_id=username,
        detail={"client": client, "lockout": row.lockouts + 1, "minutes": int(minutes)},
    )
    log.warning(
        "sign-in to %s from %s locked for %d minutes (lock-out %d)",
        username,
        client,
        minutes,
        row.lockouts + 1,
    )


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
