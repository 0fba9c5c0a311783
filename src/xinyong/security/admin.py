"""What an administrator changes — accounts, lock-outs, one-time password links, API tokens — each change in
one function that writes it and records it in the audit trail, inside the caller's transaction.

The console's administration pages (/console/admin) and the command line (`xinyong user …`, `xinyong
token …`) call these same functions, so that the two channels cannot differ in what they write or audit.
Whether the actor may act on an organisation's accounts is checked by the caller (security.access.check
with the account's organisation as the owner) before it calls in.

One-time links (`password_resets`): a new account gets one instead of a password typed by the
administrator, and an administrator's reset gives one. The link's secret is 256 random bits shown once;
only its SHA-256 is kept. A link works once and until `XINYONG_RESET_LINK_HOURS` have passed; issuing a
new one for the same account voids the earlier ones; using it ends the account's sessions and lifts its
lock-outs.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.problems import Problem, ProblemError
from xinyong.security import audit
from xinyong.security.accounts import create_user, principal_for_user, set_user_status
from xinyong.security.models import api_tokens, login_throttle, password_resets, user_sessions, users
from xinyong.security.passwords import check_password_rule, hash_password, token_digest
from xinyong.security.principal import Principal
from xinyong.security.settings import SecuritySettings
from xinyong.security.tokens import IssuedToken, issue_token, revoke_token
from xinyong.store.tables import organisations

RESET_PATH = "/console/reset/"

LINK_INVALID = Problem(
    "security.reset_link_invalid",
    "该链接无效、已使用或已过期。请联系管理员重新获取设置密码的链接。",
    "This link is not valid, was already used or has expired. Ask an administrator for a new one.",
)


@dataclass(frozen=True)
class ResetLink:
    username: str
    token: str  # the secret, in clear: shown once to the administrator, never stored
    expires_at: dt.datetime

    @property
    def path(self) -> str:
        return f"{RESET_PATH}{self.token}"


def user_organisation(conn: sa.Connection, username: str) -> str | None:
    """The USCC of the account's organisation (None for a natural person's own account); refuses an unknown
    account with the same problem as set_user_status."""
    row = conn.execute(
        sa.select(organisations.c.uscc)
        .select_from(users.outerjoin(organisations, organisations.c.id == users.c.organisation_id))
        .where(users.c.username == username)
    ).first()
    if row is None:
        raise ProblemError(Problem("security.user_missing", f"用户 {username} 不存在", f"no user {username}"))
    return row.uscc


def add_user(
    conn: sa.Connection,
    *,
    actor: Principal,
    username: str,
    display_name: str,
    role: str,
    organisation_uscc: str,
    clock: Clock,
    settings: SecuritySettings,
    password: str | None = None,
    ip: str | None = None,
) -> ResetLink | None:
    """A new account of an organisation. Without a password (the console) it gets a random one nobody
    knows and a one-time link to set its own, which is returned."""
    username = username.strip().lower()
    create_user(
        conn,
        username=username,
        display_name=display_name.strip(),
        role=role,
        password=password or secrets.token_urlsafe(32),
        organisation_uscc=organisation_uscc,
        clock=clock,
        settings=settings,
    )
    audit.record(
        conn,
        principal=actor,
        action="user.add",
        clock=clock,
        ip=ip,
        object_type="user",
        object_id=username,
        detail={"role": role, "organisation": organisation_uscc},
    )
    if password is not None:
        return None
    return issue_reset_link(conn, actor=actor, username=username, clock=clock, settings=settings, ip=ip)


def change_status(
    conn: sa.Connection, *, actor: Principal, username: str, status: str, clock: Clock, ip: str | None = None
) -> None:
    """Disable (ends its sessions) or enable (also lifts its lock-outs) an account."""
    set_user_status(conn, username=username, status=status, clock=clock)
    audit.record(
        conn,
        principal=actor,
        action=f"user.{'disable' if status == 'disabled' else 'enable'}",
        clock=clock,
        ip=ip,
        object_type="user",
        object_id=username,
    )


def clear_lockouts(
    conn: sa.Connection, *, actor: Principal, username: str, clock: Clock, ip: str | None = None
) -> int:
    """Lift every sign-in lock-out of the account (each client address's); returns how many were active."""
    user_id = _user_id(conn, username)
    now = clock.now()
    active = len(lockouts(conn, user_id, now=now))
    conn.execute(
        login_throttle.update()
        .where(login_throttle.c.user_id == user_id)
        .values(failures=0, lockouts=0, locked_until=None)
    )
    audit.record(
        conn,
        principal=actor,
        action="user.unlock",
        clock=clock,
        ip=ip,
        object_type="user",
        object_id=username,
        detail={"lockouts_lifted": active},
    )
    return active


def lockouts(conn: sa.Connection, user_id: int, *, now: dt.datetime) -> list[dict[str, Any]]:
    """The account's lock-outs in force now, one per client address (where the lock-out really lives:
    login_throttle), latest ending first."""
    t = login_throttle
    rows = conn.execute(
        sa.select(t.c.client, t.c.lockouts, t.c.locked_until)
        .where(t.c.user_id == user_id, t.c.locked_until > now)
        .order_by(t.c.locked_until.desc())
    ).mappings()
    return [dict(r) for r in rows]


def issue_reset_link(
    conn: sa.Connection,
    *,
    actor: Principal,
    username: str,
    clock: Clock,
    settings: SecuritySettings,
    ip: str | None = None,
) -> ResetLink:
    """A one-time link to set the account's password; earlier unused links of the account stop working."""
    user_id = _user_id(conn, username)
    now = clock.now()
    conn.execute(
        password_resets.update()
        .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=settings.reset_link_hours)
    conn.execute(
        password_resets.insert().values(
            token_hash=token_digest(token),
            user_id=user_id,
            created_by=actor.actor,
            created_at=now,
            expires_at=expires_at,
        )
    )
    audit.record(
        conn,
        principal=actor,
        action="user.reset_link",
        clock=clock,
        ip=ip,
        object_type="user",
        object_id=username,
        detail={"expires_at": expires_at.isoformat(timespec="seconds")},
    )
    return ResetLink(username, token, expires_at)


def reset_link_user(conn: sa.Connection, token: str, *, clock: Clock) -> str | None:
    """The username a link would set the password of, if the link still works; else None."""
    row = conn.execute(_live_link(token, clock.now())).first()
    return row.username if row else None


def redeem_reset_link(
    conn: sa.Connection,
    *,
    token: str,
    password: str,
    clock: Clock,
    settings: SecuritySettings,
    ip: str | None = None,
) -> str:
    """Set the password through a link, once. Returns the username. An unknown, used or expired link (or
    one of a disabled account) is refused with one problem; a weak password is refused before the link is
    spent, so the owner can try again."""
    now = clock.now()
    row = conn.execute(_live_link(token, now)).first()
    if row is None:
        raise ProblemError(LINK_INVALID)
    check_password_rule(password, username=row.username, min_length=settings.password_min_length)
    spent = conn.execute(
        password_resets.update()
        .where(password_resets.c.id == row.id, password_resets.c.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # a concurrent use of the same link won
        raise ProblemError(LINK_INVALID)
    conn.execute(
        users.update()
        .where(users.c.id == row.user_id)
        .values(password_hash=hash_password(password), password_changed_at=now)
    )
    conn.execute(
        user_sessions.update()
        .where(user_sessions.c.user_id == row.user_id, user_sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    conn.execute(
        login_throttle.update()
        .where(login_throttle.c.user_id == row.user_id)
        .values(failures=0, lockouts=0, locked_until=None)
    )
    owner = principal_for_user(conn, row.user_id, session_id=None) or Principal.anonymous()
    audit.record(
        conn,
        principal=owner,
        action="user.password_set",
        clock=clock,
        ip=ip,
        object_type="user",
        object_id=row.username,
        detail={"link_by": row.created_by},
    )
    return str(row.username)


def _live_link(token: str, now: dt.datetime) -> sa.Select[Any]:
    r = password_resets
    return (
        sa.select(r.c.id, r.c.user_id, r.c.created_by, users.c.username)
        .join(users, users.c.id == r.c.user_id)
        .where(
            r.c.token_hash == token_digest(token),
            r.c.used_at.is_(None),
            r.c.expires_at > now,
            users.c.status == "active",
        )
    )


def issue_api_token(
    conn: sa.Connection,
    *,
    actor: Principal,
    organisation_uscc: str,
    role: str,
    name: str,
    days: int,
    clock: Clock,
    settings: SecuritySettings,
    scopes: list[str] | None = None,
    ip: str | None = None,
) -> IssuedToken:
    """An API token (its secret is in the result, to be shown once); audited as `token.issue`."""
    issued = issue_token(
        conn,
        organisation_uscc=organisation_uscc,
        role=role,
        name=name.strip(),
        scopes=scopes,
        days=days,
        created_by=actor.actor,
        clock=clock,
        max_days=settings.token_max_days,
    )
    audit.record(
        conn,
        principal=actor,
        action="token.issue",
        clock=clock,
        ip=ip,
        object_type="api_token",
        object_id=issued.prefix,
        detail={"organisation": organisation_uscc, "role": role, "scopes": list(issued.scopes)},
    )
    return issued


def revoke_api_token(
    conn: sa.Connection, *, actor: Principal, prefix: str, clock: Clock, ip: str | None = None
) -> None:
    revoke_token(conn, prefix=prefix, revoked_by=actor.actor, clock=clock)
    audit.record(
        conn,
        principal=actor,
        action="token.revoke",
        clock=clock,
        ip=ip,
        object_type="api_token",
        object_id=prefix.strip(),
    )


def _user_id(conn: sa.Connection, username: str) -> int:
    user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
    if user_id is None:
        raise ProblemError(Problem("security.user_missing", f"用户 {username} 不存在", f"no user {username}"))
    return int(user_id)


def token_organisation(conn: sa.Connection, prefix: str) -> str | None:
    """The USCC of the organisation a token belongs to, or None for an unknown prefix."""
    return conn.execute(
        sa.select(organisations.c.uscc)
        .join(api_tokens, api_tokens.c.organisation_id == organisations.c.id)
        .where(api_tokens.c.prefix == prefix.strip())
    ).scalar()
