"""How much of a request body the app reads, and — for uploads — only after it knows who is sending.

FastAPI reads a route's form or JSON body before it runs the route's dependencies, so the permission
check alone would let an anonymous client push 2 GB before its 403. `BodyGate` (an ASGI middleware) runs
first:

- for an upload route (a route taking a file), it resolves the caller, spends its rate limit and runs the
  route-stage permission check before a byte of the body is read; then it refuses a declared
  Content-Length over `XINYONG_UPLOAD_MAX_MB` (413) without reading it;
- for every other route, a declared length over `XINYONG_REQUEST_MAX_KB` is refused the same way;
- for all, it counts the bytes as they stream in and stops at the limit with 413, so a chunked body (no
  declared length) or a client that lied about its length is cut off there.

The route's own permission dependency still runs afterwards (CSRF, object-level checks); the caller and
its rate limit are not resolved or spent twice.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.params import File
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.problems import Problem
from xinyong.security.access import check
from xinyong.security.errors import SecurityError
from xinyong.security.settings import SecuritySettings
from xinyong.web.deps import current_principal, declared_permissions, enforce_rate_limit, refusal_response
from xinyong.web.errors import problem_response

_NO_UPLOAD_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(HTTPException):
    """413, raised from inside `receive` as the body streams: FastAPI lets an HTTPException through its
    body parsing untouched, so the app's handler answers it with the problem below."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(413, detail=problem.as_dict())


def too_large(settings: SecuritySettings, *, upload: bool) -> Problem:
    if upload:
        size = f"{settings.upload_max_mb:g} MB"
        return Problem(
            "batch.too_large",
            f"上传文件超过 {size} 上限：请按月份或地区拆分后分批报送",
            f"The upload exceeds the {size} limit: split it by month or region and send the parts",
        )
    size = f"{settings.request_max_kb} KB"
    return Problem(
        "request.too_large", f"请求内容超过 {size} 上限。", f"The request body exceeds the {size} limit."
    )


class BodyGate:
    def __init__(self, app: ASGIApp, *, site: FastAPI) -> None:
        self.app = app
        self.site = site  # the FastAPI app, for its settings and routes (known once routers are included)
        self._uploads: list[tuple[re.Pattern[str], frozenset[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings: SecuritySettings = self.site.state.security
        # An upload is never a GET or HEAD: the public's reads skip the route scan.
        upload = None if scope["method"] in _NO_UPLOAD_METHODS else self._upload_permission(scope)
        limit = settings.upload_max_bytes if upload else settings.request_max_bytes
        if upload is not None:
            request = Request(scope)  # no `receive`: nothing here can read the body
            try:
                principal = await current_principal(request)
                enforce_rate_limit(request, principal)
                check(principal, upload, route=True)
            except SecurityError as refusal:
                await (await refusal_response(request, refusal))(scope, receive, send)
                return
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await problem_response(Request(scope), 413, too_large(settings, upload=upload is not None))(
                scope, receive, send
            )
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(too_large(settings, upload=upload is not None))
            return message

        await self.app(scope, counted, send)

    def _upload_permission(self, scope: Scope) -> str | None:
        """The permission of the upload route this request is for, or None when it is not for one."""
        if self._uploads is None:
            self._uploads = [
                (context.path_regex, frozenset(context.methods or ()), declared[0])
                for context in iter_route_contexts(self.site.routes)
                if isinstance(context.original_route, APIRoute)
                and any(isinstance(p.field_info, File) for p in context.dependant.body_params)
                and (declared := declared_permissions(context.dependant))
            ]
        path, root = scope["path"], scope.get("root_path", "")
        path = path[len(root) :] if root and path.startswith(root) else path
        method = scope["method"]
        for pattern, methods, permission in self._uploads:
            if method in methods and pattern.match(path):
                return permission
        return None


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
