"""Web sessions: a random token in an HttpOnly cookie, its SHA-256 in `user_sessions`.

Sessions live on the server so that signing out, disabling an account or an administrator's decision
ends them at once. A session ends after `session_hours`, or after `session_idle_minutes` without use.

CSRF: every state-changing request made with the session cookie must carry the session's CSRF token
(header `X-CSRF-Token` or form field `csrf_token`). The token is an HMAC of the session token, so nothing
more is stored and another site, which cannot read the cookie, cannot compute it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa

from xinyong.clock import Clock
from xinyong.security.models import user_sessions
from xinyong.security.passwords import token_digest
from xinyong.security.settings import SecuritySettings

# Touching last_seen_at on every request would turn every page view into a write; once a minute is
# enough for an idle limit counted in tens of minutes.
_TOUCH_EVERY = dt.timedelta(minutes=1)


def start_session(
    conn: sa.Connection,
    *,
    user_id: int,
    clock: Clock,
    settings: SecuritySettings,
    ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for a user who just signed in; returns the cookie value (never stored in clear)."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    conn.execute(
        user_sessions.insert().values(
            token_hash=token_digest(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_hours),
            last_seen_at=now,
            ip=ip,
            user_agent=(user_agent or "")[:200] or None,
        )
    )
    return token


def resolve_session(
    conn: sa.Connection, token: str, *, clock: Clock, settings: SecuritySettings
) -> tuple[int, int] | None:
    """(session id, user id) for a live session, else None."""
    row = conn.execute(
        sa.select(user_sessions).where(user_sessions.c.token_hash == token_digest(token))
    ).first()
    now = clock.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes):
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        conn.execute(user_sessions.update().where(user_sessions.c.id == row.id).values(last_seen_at=now))
    return row.id, row.user_id


def end_session(conn: sa.Connection, session_id: int, *, clock: Clock) -> None:
    conn.execute(
        user_sessions.update()
        .where(user_sessions.c.id == session_id, user_sessions.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"xinyong-csrf-v1", hashlib.sha256).hexdigest()


def csrf_valid(session_token: str, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(csrf_token(session_token), supplied or "")
