"""Signing in and out of the web (session cookie + CSRF token), and "who am I"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from xinyong.security import audit
from xinyong.security.accounts import authenticate, principal_for_user
from xinyong.security.principal import Principal
from xinyong.security.sessions import csrf_token, end_session, start_session
from xinyong.web.deps import (
    SESSION_COOKIE,
    client_ip,
    hit_limit,
    permission,
    runtime_of,
    security_settings,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(
        min_length=1,
        max_length=64,
        description="用户名；个人账户也可用公民身份号码 / username, or a person's ID number",
    )
    password: str = Field(min_length=1, max_length=1024)


@router.post("/login", summary="Sign in; sets the session cookie / 登录")
def login(
    credentials: Credentials, request: Request, response: Response, _: Principal = permission("auth.login")
) -> dict[str, Any]:
    runtime, settings = runtime_of(request), security_settings(request)
    ip = client_ip(request)
    hit_limit(request, f"login:{ip}", settings.rate_login)
    token: str | None = None
    principal: Principal | None = None
    with runtime.engine.begin() as conn:
        outcome = authenticate(
            conn,
            login=credentials.username,
            password=credentials.password,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=settings,
            ip=ip,
        )
        if outcome.user_id is not None:
            token = start_session(
                conn,
                user_id=outcome.user_id,
                clock=runtime.clock,
                settings=settings,
                ip=ip,
                user_agent=request.headers.get("user-agent"),
            )
            principal = principal_for_user(conn, outcome.user_id, session_id=None)
    # Raised after the commit: a failed attempt must still count towards the lock-out.
    if outcome.error is not None:
        raise outcome.error
    assert token is not None and principal is not None
    secure = settings.cookie_secure == "true" or (
        settings.cookie_secure == "auto" and request.url.scheme == "https"
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )
    return {"principal": principal.describe(), "csrf_token": csrf_token(token)}


@router.post("/logout", summary="Sign out / 退出登录")
def logout(
    request: Request, response: Response, principal: Principal = permission("auth.logout")
) -> dict[str, str]:
    if principal.session_id is not None:
        runtime = runtime_of(request)
        with runtime.engine.begin() as conn:
            end_session(conn, principal.session_id, clock=runtime.clock)
            audit.record(
                conn, principal=principal, action="auth.logout", clock=runtime.clock, ip=client_ip(request)
            )
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"status": "signed_out"}


@router.get("/me", summary="Who am I, and my CSRF token / 当前身份")
def me(request: Request, principal: Principal = permission("auth.whoami")) -> dict[str, Any]:
    out: dict[str, Any] = {"principal": principal.describe()}
    if principal.session_id is not None:
        out["csrf_token"] = csrf_token(request.state.session_token)
    return out
