"""Who is asking, and may they: the dependency every route declares.

    @router.post("/batches")
    def submit(..., principal: Principal = permission("batch.submit")) -> ...:
        check(principal, "batch.submit", owner=item_provider_uscc)   # the object-level check

`permission(name)` authenticates (API token, else session cookie, else the anonymous public), applies the
rate limit, demands the CSRF token on state-changing requests made with a session cookie, and runs the
route-stage `security.access.check`. Refusals are 401 (bad credentials), 403 (not allowed: the message
says why), 429 (too many requests, with Retry-After). tests/security/test_route_matrix.py reads the
permission each route declares and fails for a route that declares none or is missing from the matrix.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.concurrency import run_in_threadpool

from xinyong.problems import Problem
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.access import check
from xinyong.security.accounts import principal_for_user
from xinyong.security.errors import AccessDenied, AuthenticationFailed, RateLimited, SecurityError
from xinyong.security.principal import Principal
from xinyong.security.ratelimit import RateLimiter
from xinyong.security.roles import load_roles
from xinyong.security.sessions import csrf_valid, resolve_session
from xinyong.security.settings import Rate, SecuritySettings
from xinyong.security.tokens import principal_for_token

SESSION_COOKIE = "xinyong_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PERMISSION_ATTR = "xinyong_permission"

# Declared for the OpenAPI document (Swagger's "Authorize" button); the dependency reads the request itself.
_bearer = HTTPBearer(auto_error=False, scheme_name="api_token", description="Authorization: Bearer xyt_…")
_session = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, scheme_name="session", description="signed-in browser"
)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def security_settings(request: Request) -> SecuritySettings:
    return request.app.state.security


def client_ip(request: Request) -> str | None:
    """The client's address as the server sees it. Behind a reverse proxy, run uvicorn with
    --proxy-headers --forwarded-allow-ips=<proxy> so that this is the real client."""
    return request.client.host if request.client else None


def permission(name: str, *, rate_limited: bool = True) -> Any:
    """The dependency that makes a route require `name` (a permission of security/data/roles.yaml)."""
    load_roles().permission(name)  # an unknown name fails at import time, not at the first request

    async def require_permission(
        request: Request, _token: Any = Depends(_bearer), _cookie: Any = Depends(_session)
    ) -> Principal:
        principal = await current_principal(request)
        if rate_limited:
            enforce_rate_limit(request, principal)
        # Cross-site requests are refused whenever a browser may be involved (a token is not sent by one);
        # with a session cookie, the CSRF token is required as well.
        if request.method in UNSAFE_METHODS and principal.kind != "token":
            _check_origin(request)
            if principal.session_id is not None:
                await _check_csrf(request)
        try:
            check(principal, name, route=True)
        except AccessDenied:
            if principal.authenticated:
                await run_in_threadpool(_record_denial, request, principal, name)
            raise
        return principal

    setattr(require_permission, PERMISSION_ATTR, name)
    return Depends(require_permission)


def route_permissions(app: FastAPI) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, permissions declared) for every route of the app, routers included. A route that is
    not a FastAPI route (a static-files mount, a plain Starlette route) has method "*" and no permission:
    it cannot carry the dependency, and the route matrix must list it explicitly."""
    found = []
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            declared = tuple(_declared_in(context.dependant))
            found += [(method, context.path, declared) for method in sorted(context.methods)]
        else:
            found.append(("*", context.path or repr(context.original_route), ()))
    return found


def _declared_in(dependant: Dependant) -> list[str]:
    names = [getattr(dependant.call, PERMISSION_ATTR)] if hasattr(dependant.call, PERMISSION_ATTR) else []
    for sub in dependant.dependencies:
        names += _declared_in(sub)
    return names


async def current_principal(request: Request) -> Principal:
    """The caller of this request, resolved once and kept on request.state."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        principal = await run_in_threadpool(_resolve, request)
        request.state.principal = principal
    return principal


def _resolve(request: Request) -> Principal:
    runtime = runtime_of(request)
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        with runtime.engine.begin() as conn:
            found = (
                principal_for_token(conn, token.strip(), clock=runtime.clock)
                if scheme.lower() == "bearer"
                else None
            )
        if found is None:
            raise AuthenticationFailed(
                Problem(
                    "auth.invalid_token",
                    "接口令牌无效、已过期或已撤销。",
                    "The API token is invalid, expired or revoked.",
                ),
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with runtime.engine.begin() as conn:
            live = resolve_session(conn, cookie, clock=runtime.clock, settings=security_settings(request))
            user = principal_for_user(conn, live[1], session_id=live[0]) if live else None
        if user is not None:
            request.state.session_token = cookie
            return user
    # No credentials, or a session that ended: the public. (An ended session is not an error; the
    # visitor simply is not signed in any more.)
    return Principal.anonymous()


def enforce_rate_limit(request: Request, principal: Principal) -> None:
    """Per API token, per user, or per client IP for the anonymous public."""
    settings = security_settings(request)
    if principal.kind == "token":
        hit_limit(request, f"token:{principal.token_id}", settings.rate_token)
    elif principal.kind == "user":
        hit_limit(request, f"user:{principal.user_id}", settings.rate_user)
    else:
        hit_limit(request, f"ip:{client_ip(request)}", settings.rate_public)


def hit_limit(request: Request, key: str, rate: Rate | None) -> None:
    if rate is None:
        return
    limiter: RateLimiter = request.app.state.rate_limiter
    decision = limiter.hit(key, rate, now=runtime_of(request).clock.now().timestamp())
    if not decision.allowed:
        raise RateLimited(decision.retry_after)


def _check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin and origin != own:
        raise AccessDenied(
            Problem(
                "security.csrf_origin",
                "请求来自其他网站，已拒绝。",
                "The request comes from another site and is refused.",
            )
        )


async def _check_csrf(request: Request) -> None:
    supplied = request.headers.get(CSRF_HEADER)
    if not supplied and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        supplied = value if isinstance(value, str) else None
    if not csrf_valid(request.state.session_token, supplied):
        raise AccessDenied(
            Problem(
                "security.csrf",
                f"缺少或错误的 CSRF 令牌（请求头 {CSRF_HEADER} 或表单字段 {CSRF_FIELD}）。请刷新页面后重试。",
                f"Missing or wrong CSRF token (header {CSRF_HEADER} or form field {CSRF_FIELD}). "
                "Reload the page and retry.",
            )
        )


def _record_denial(request: Request, principal: Principal, name: str) -> None:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        audit.record(
            conn,
            principal=principal,
            action="access.denied",
            clock=runtime.clock,
            ip=client_ip(request),
            outcome="denied",
            detail={"permission": name, "method": request.method, "path": request.url.path},
        )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SecurityError)
    async def security_error(request: Request, exc: SecurityError) -> HTMLResponse | JSONResponse:
        if _wants_html(request):
            page = (
                f"<!doctype html><meta charset=utf-8><title>{exc.status}</title>"
                f"<h1>{exc.status}</h1><p lang=zh>{html.escape(exc.problem.message_zh)}</p>"
                f"<p lang=en>{html.escape(exc.problem.message_en)}</p>"
            )
            return HTMLResponse(page, status_code=exc.status, headers=exc.headers)
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")
