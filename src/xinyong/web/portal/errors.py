"""Error answers a browser gets as portal pages: an unknown address, too many requests, a refused or
malformed request — the site's own page in the visitor's language (Chinese first, English by the portal's
i18n), with the message in both languages; never raw JSON. Clients of /api/ keep their JSON problems.

The handlers registered before `install` (the API's problem handlers) still decide the words and the status:
a browser's request is answered by asking that handler for its JSON problem, then rendering it. Whatever
the API says about an error, the page says too.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from xinyong.disclose.limits import QueryRefused
from xinyong.problems import Problem
from xinyong.security.errors import SecurityError
from xinyong.web.portal.views import error_page, wants_html

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
KEPT_HEADERS = ("retry-after", "www-authenticate", "allow")

# The words for a status when the handler's answer carries no problem of its own (FastAPI's defaults).
STATUS_PROBLEMS: dict[int, Problem] = {
    400: Problem("request.malformed", "请求内容无法解析。", "The request could not be read."),
    404: Problem(
        "request.not_found", "没有这个页面，请检查地址。", "There is no such page; check the address."
    ),
    405: Problem("request.method", "该地址不支持此请求方式。", "This address does not accept this method."),
    422: Problem("request.invalid", "请求参数有误。", "A parameter of the request is not valid."),
    429: Problem(
        "security.rate_limited", "请求过于频繁，请稍后再试。", "Too many requests; try again later."
    ),
}


def install(app: FastAPI) -> None:
    """Answer browsers with pages, for every error class the app already handles. Call it last."""
    for exc_class in (HTTPException, RequestValidationError, SecurityError, QueryRefused):
        previous = app.exception_handlers.get(exc_class)
        if previous is not None:
            app.add_exception_handler(exc_class, _as_page(previous))


def _as_page(previous: Handler) -> Handler:
    async def handler(request: Request, exc: Any) -> Response:
        if not wants_html(request):
            return await _call(previous, request, exc)
        answer = await _call(previous, _asking_for_json(request), exc)
        page = error_page(request, answer.status_code, _problem_of(answer, exc))
        for name in KEPT_HEADERS:
            if name in answer.headers:
                page.headers[name] = answer.headers[name]
        return page

    return handler


async def _call(handler: Handler, request: Request, exc: Any) -> Response:
    if inspect.iscoroutinefunction(handler):
        return await handler(request, exc)  # type: ignore[no-any-return]
    return await run_in_threadpool(handler, request, exc)  # type: ignore[arg-type]


def _asking_for_json(request: Request) -> Request:
    headers = [(k, v) for k, v in request.scope["headers"] if k.lower() != b"accept"]
    scope = {**request.scope, "headers": [*headers, (b"accept", b"application/json")]}
    return Request(scope, request.receive)


def _problem_of(answer: Response, exc: Any) -> Problem:
    """The problem the handler answered with, or the words for its status."""
    try:
        detail = json.loads(bytes(answer.body)).get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, dict) and {"code", "message_zh", "message_en"} <= set(detail):
        return Problem(detail["code"], detail["message_zh"], detail["message_en"])
    if isinstance(exc, RequestValidationError):
        return _validation_problem(exc)
    status = answer.status_code
    return STATUS_PROBLEMS.get(
        status,
        Problem("request.refused", f"请求未能处理（{status}）。", f"The request was refused ({status})."),
    )


def _validation_problem(exc: RequestValidationError) -> Problem:
    """Which parameter is wrong, in both languages, without repeating what was typed."""
    names = [str(e["loc"][-1]) for e in exc.errors() if e.get("loc")]
    if not names:
        return STATUS_PROBLEMS[422]
    listed = "、".join(dict.fromkeys(names))
    return Problem(
        "request.invalid",
        f"请求参数 {listed} 的值无效，请检查后重试。",
        f"The value of {', '.join(dict.fromkeys(names))} is not valid; check it and try again.",
    )
