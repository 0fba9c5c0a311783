"""Who is asking, and may they: the dependency every route declares.

    @router.post("/batches")
    def submit(..., principal: Principal = permission("batch.submit")) -> ...:
        check(principal, "batch.submit", owner=item_provider_uscc)   # the object-level check

`permission(name)` authenticates (API token, else session cookie, else the anonymous public), applies the
rate limit, demands the CSRF token on state-changing requests made with a session cookie, and runs the
route-stage `security.access.check`. Refusals are 401 (bad credentials), 403 (not allowed: the message
says why), 429 (too many requests, with Retry-After). Every refusal of access (403, and 400 for a missing
purpose) is written to the audit trail where it is answered, whichever stage refused. A request with an
invalid API token counts against its client address's bucket (`XINYONG_RATE_BAD_TOKEN`): tokens cannot be
guessed at speed. tests/security/test_route_matrix.py reads the permission each route declares and fails
for a route that declares none or is missing from the matrix.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.concurrency import run_in_threadpool

from xinyong.problems import Problem
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.access import check
from xinyong.security.accounts import principal_for_user
from xinyong.security.errors import (
    AccessDenied,
    AuthenticationFailed,
    PurposeRequired,
    RateLimited,
    SecurityError,
)
from xinyong.security.principal import Principal
from xinyong.security.ratelimit import RateLimiter
from xinyong.security.roles import load_roles
from xinyong.security.sessions import csrf_valid, resolve_session
from xinyong.security.settings import Rate, SecuritySettings
from xinyong.security.tokens import principal_for_token
from xinyong.web.errors import problem_response

SESSION_COOKIE = "xinyong_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PERMISSION_ATTR = "xinyong_permission"

# How a caller authenticates, for the API document. current_principal reads both from the request itself:
# as route dependencies FastAPI solved them on every request for nothing (13 % of a subject answer's time,
# py-spy), so they are written into the document instead (document_security; Swagger's "Authorize").
_SECURITY_SCHEMES = {
    "api_token": HTTPBearer(auto_error=False, description="Authorization: Bearer xyt_…").model,
    "session": APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="signed-in browser").model,
}
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def document_security(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every operation may be called with an API token or a signed-in session (each route's permission then
    decides, web.deps.permission): say so (in place)."""
    schemes = {
        name: model.model_dump(mode="json", by_alias=True, exclude_none=True)
        for name, model in _SECURITY_SCHEMES.items()
    }
    openapi.setdefault("components", {})["securitySchemes"] = schemes
    for item in openapi.get("paths", {}).values():
        for method, operation in item.items():
            if method in _OPERATIONS:
                operation["security"] = [{name: []} for name in schemes]
    return openapi


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def security_settings(request: Request) -> SecuritySettings:
    return request.app.state.security


def client_ip(request: Request) -> str | None:
    """The client's address: the peer of the connection, unless that peer is a reverse proxy listed in
    `XINYONG_TRUSTED_PROXIES` — then the address that proxy put in X-Forwarded-For (the right-most one
    that is not itself a trusted proxy). Without the setting the header is ignored: anyone can write it.
    """
    peer = request.client.host if request.client else None
    proxies = security_settings(request).trusted_proxies
    if peer is None or not proxies or not _within(peer, proxies):
        return peer
    forwarded = [
        part.strip() for value in request.headers.getlist("x-forwarded-for") for part in value.split(",")
    ]
    for address in reversed([a for a in forwarded if a]):
        if _address(address) is None:
            return peer  # a malformed chain is not evidence of anything
        if not _within(address, proxies):
            return address
    return peer


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _within(text: str, networks: tuple[Any, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def permission(name: str, *, rate_limited: bool = True) -> Any:
    """The dependency that makes a route require `name` (a permission of security/data/roles.yaml)."""
    load_roles().permission(name)  # an unknown name fails at import time, not at the first request

    async def require_permission(request: Request) -> Principal:
        principal = await current_principal(request)
        if rate_limited:
            enforce_rate_limit(request, principal)
        # Cross-site requests are refused whenever a browser may be involved (a token is not sent by one);
        # with a session cookie, the CSRF token is required as well.
        if request.method in UNSAFE_METHODS and principal.kind != "token":
            _check_origin(request)
            if principal.session_id is not None:
                await _check_csrf(request)
        check(principal, name, route=True)
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
            declared = tuple(declared_permissions(context.dependant))
            found += [(method, context.path, declared) for method in sorted(context.methods)]
        else:
            found.append(("*", context.path or repr(context.original_route), ()))
    return found


def declared_permissions(dependant: Dependant) -> list[str]:
    """The permissions a route (its dependant) declares through `permission(...)`."""
    names = [getattr(dependant.call, PERMISSION_ATTR)] if hasattr(dependant.call, PERMISSION_ATTR) else []
    for sub in dependant.dependencies:
        names += declared_permissions(sub)
    return names


async def current_principal(request: Request) -> Principal:
    """The caller of this request, resolved once and kept on request.state."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        if "authorization" in request.headers or SESSION_COOKIE in request.cookies:
            principal = await run_in_threadpool(_resolve, request)
        else:
            principal = Principal.anonymous()  # no credentials: nothing to look up, no thread to wait for
        request.state.principal = principal
    return principal


def _resolve(request: Request) -> Principal:
    runtime = runtime_of(request)
    authorization = request.headers.get("authorization")
    if authorization:
        return _resolve_token(request, runtime, authorization)
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


def _resolve_token(request: Request, runtime: Runtime, authorization: str) -> Principal:
    """The principal of a bearer token. Wrong tokens spend their client's bad-token bucket, and a client
    whose bucket is empty is refused before its token is even looked at (so guessing gains nothing)."""
    settings, ip = security_settings(request), client_ip(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    now = runtime.clock.now().timestamp()
    key = f"bad-token:{ip}"
    if settings.rate_bad_token is not None:
        waiting = limiter.peek(key, settings.rate_bad_token, now=now)
        if not waiting.allowed:
            raise RateLimited(waiting.retry_after)
    scheme, _, token = authorization.partition(" ")
    with runtime.engine.begin() as conn:
        bearer = scheme.lower() == "bearer"
        found = principal_for_token(conn, token.strip(), clock=runtime.clock) if bearer else None
        if found is None:
            audit.record(
                conn,
                principal=Principal.anonymous(),
                action="auth.token",
                clock=runtime.clock,
                ip=ip,
                outcome="failed",
                detail={"scheme": scheme[:16], "prefix": token.strip()[:12]},
            )
    if found is None:
        if settings.rate_bad_token is not None:
            limiter.hit(key, settings.rate_bad_token, now=now)
        raise AuthenticationFailed(
            Problem(
                "auth.invalid_token",
                "接口令牌无效、已过期或已撤销。",
                "The API token is invalid, expired or revoked.",
            ),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return found


def enforce_rate_limit(request: Request, principal: Principal) -> None:
    """Per API token, per user, or per client IP for the anonymous public; once per request (an upload is
    counted where its caller is checked, before its body is read, and not again by the route)."""
    if getattr(request.state, "rate_counted", False):
        return
    request.state.rate_counted = True
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


async def refusal_response(request: Request, exc: SecurityError) -> Response:
    """The answer to a security refusal; a refused access (403, or 400 for want of a purpose) is first
    written to the audit trail, in its own transaction: the request's own work has been rolled back."""
    if isinstance(exc, AccessDenied | PurposeRequired):
        await run_in_threadpool(_record_refusal, request, exc)
    return problem_response(request, exc.status, exc.problem, headers=exc.headers, extra=exc.extra)


def _record_refusal(request: Request, exc: SecurityError) -> None:
    runtime = runtime_of(request)
    principal: Principal = getattr(request.state, "principal", None) or Principal.anonymous()
    context = dict(exc.context)
    subject_id = context.pop("subject_id", None)
    object_type = context.pop("object_type", "subject" if subject_id is not None else None)
    object_id = context.pop("object_id", subject_id)
    detail = {
        "code": exc.problem.code,
        "permission": exc.problem.field,
        "method": request.method,
        "path": request.url.path,
        **({"level": request.query_params["level"]} if "level" in request.query_params else {}),
        **context,
    }
    with runtime.engine.begin() as conn:
        audit.record(
            conn,
            principal=principal,
            action="access.denied",
            clock=runtime.clock,
            object_type=object_type,
            object_id=object_id,
            subject=audit.SubjectRef.of_subject(conn, subject_id) if subject_id is not None else None,
            ip=client_ip(request),
            outcome="denied",
            detail=detail,
        )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SecurityError)
    async def security_error(request: Request, exc: SecurityError) -> Response:
        return await refusal_response(request, exc)
