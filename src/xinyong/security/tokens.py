"""API tokens for systems (a provider's business system, a government department's approval system).

A token is shown once, when issued: `xyt_<8 characters>_<43 characters>`. The database keeps its SHA-256
(a 256-bit random secret needs no slow hash) and the visible prefix `xyt_<8 characters>`, by which
operators list and revoke it. Every token belongs to an organisation, acts in one role, is limited to a
set of that role's permissions (its scopes) and expires.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.problems import Problem, ProblemError
from xinyong.security.models import api_tokens
from xinyong.security.organisations import require_organisation
from xinyong.security.passwords import token_digest
from xinyong.security.principal import Principal
from xinyong.security.roles import load_roles
from xinyong.store.tables import organisations

PREFIX = "xyt_"
_ALPHABET = string.ascii_lowercase + string.digits
# last_used_at is informative; writing it on every request would turn each read into a write.
_TOUCH_EVERY = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    prefix: str
    token: str  # the secret, in clear: print it once and forget it
    expires_at: dt.datetime
    scopes: tuple[str, ...]


def issue_token(
    conn: sa.Connection,
    *,
    organisation_uscc: str,
    role: str,
    name: str,
    days: int,
    created_by: str,
    clock: Clock,
    max_days: int,
    scopes: list[str] | None = None,
) -> IssuedToken:
    book = load_roles()
    definition = book.assignable(role)
    org = require_organisation(conn, organisation_uscc)
    if "token" not in definition.principals or org["kind"] not in definition.organisation_kinds:
        raise ProblemError(
            Problem(
                "security.token_role",
                f"{org['name']}（{org['kind']}）的接口令牌不能使用角色 {role}",
                f"a token of {org['name']} ({org['kind']}) cannot act as {role}",
                field="role",
            )
        )
    held = book.permissions_of(role)
    wanted = tuple(sorted(set(scopes) if scopes else held))
    extra = [s for s in wanted if s not in held]
    if extra:
        raise ProblemError(
            Problem(
                "security.token_scope",
                f"角色 {role} 不具有以下权限，不能授予令牌：{', '.join(extra)}",
                f"role {role} does not hold {', '.join(extra)}; a token cannot have more than its role",
                field="scope",
            )
        )
    if not 1 <= days <= max_days:
        raise ProblemError(
            Problem(
                "security.token_days",
                f"令牌有效期须为 1 至 {max_days} 天",
                f"a token is valid for 1 to {max_days} days",
                field="days",
            )
        )
    prefix = PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    now = clock.now()
    expires_at = now + dt.timedelta(days=days)
    conn.execute(
        api_tokens.insert().values(
            organisation_id=org["id"],
            name=name,
            prefix=prefix,
            token_hash=token_digest(token),
            role=role,
            scopes=list(wanted),
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return IssuedToken(prefix, token, expires_at, wanted)


def revoke_token(conn: sa.Connection, *, prefix: str, revoked_by: str, clock: Clock) -> None:
    done = conn.execute(
        api_tokens.update()
        .where(api_tokens.c.prefix == prefix.strip(), api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_by=revoked_by)
    )
    if done.rowcount != 1:
        raise ProblemError(
            Problem(
                "security.token_missing",
                f"没有未撤销的令牌 {prefix}",
                f"no unrevoked token {prefix}",
            )
        )


def list_tokens(conn: sa.Connection, *, organisation_uscc: str | None = None) -> list[dict[str, Any]]:
    query = (
        sa.select(
            api_tokens.c.prefix,
            api_tokens.c.name,
            api_tokens.c.role,
            api_tokens.c.scopes,
            api_tokens.c.created_by,
            api_tokens.c.created_at,
            api_tokens.c.expires_at,
            api_tokens.c.revoked_at,
            api_tokens.c.last_used_at,
            organisations.c.uscc.label("organisation_uscc"),
            organisations.c.name.label("organisation_name"),
        )
        .join(organisations, organisations.c.id == api_tokens.c.organisation_id)
        .order_by(api_tokens.c.id)
    )
    if organisation_uscc:
        query = query.where(organisations.c.uscc == organisation_uscc)
    return [dict(r) for r in conn.execute(query).mappings()]


def principal_for_token(conn: sa.Connection, token: str, *, clock: Clock) -> Principal | None:
    """The Principal a presented token stands for, or None if it is unknown, expired, revoked, or its
    organisation is no longer active."""
    if not token.startswith(PREFIX):
        return None
    row = (
        conn.execute(
            sa.select(
                api_tokens,
                organisations.c.uscc.label("org_uscc"),
                organisations.c.name.label("org_name"),
                organisations.c.status.label("org_status"),
            )
            .join(organisations, organisations.c.id == api_tokens.c.organisation_id)
            .where(api_tokens.c.token_hash == token_digest(token))
        )
        .mappings()
        .first()
    )
    now = clock.now()
    if (
        row is None
        or row["revoked_at"] is not None
        or row["expires_at"] <= now
        or row["org_status"] != "active"
    ):
        return None
    if row["last_used_at"] is None or now - row["last_used_at"] > _TOUCH_EVERY:
        conn.execute(api_tokens.update().where(api_tokens.c.id == row["id"]).values(last_used_at=now))
    return Principal(
        kind="token",
        role=row["role"],
        actor=f"token:{row['prefix']}",
        display_name=row["name"],
        organisation_id=row["organisation_id"],
        organisation_uscc=row["org_uscc"],
        organisation_name=row["org_name"],
        token_id=row["id"],
        scopes=frozenset(row["scopes"]),
    )
