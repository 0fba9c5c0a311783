"""How the web app says what went wrong: always a stable code with a Chinese and an English message.

    {"detail": {"code": "request.invalid", "message_zh": "…", "message_en": "…", "field": "limit"}}

- a request FastAPI cannot read (a parameter of the wrong type, an id beyond any row, JSON nested too deep
  or holding a number too long to convert) is a 4xx problem that says which part and why — and never
  repeats the value sent, which may be a password or an ID number;
- an HTTP status raised without a problem (an unknown address, a wrong method) gets one;
- anything unexpected is a 500 problem carrying a reference; the traceback goes to the log (masked, like
  every log line), never to the client.

Browsers asking for a page outside /api/ get the same words as a small HTML page.
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinyong.problems import Problem

log = logging.getLogger(__name__)


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def problem_response(
    request: Request,
    status: int,
    problem: Problem,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """`{"detail": problem + extra}` with `status`, or the same words as a page for a browser."""
    if wants_html(request):
        page = (
            f"<!doctype html><meta charset=utf-8><title>{status}</title>"
            f"<h1>{status}</h1><p lang=zh>{html.escape(problem.message_zh)}</p>"
            f"<p lang=en>{html.escape(problem.message_en)}</p>"
        )
        return HTMLResponse(page, status_code=status, headers=dict(headers or {}))
    body = {"detail": {**problem.as_dict(), **(extra or {})}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


# ------------------------------------------------------------------------------------------ validation

# pydantic's error types -> (Chinese, English) reason; {name} placeholders come from the error's ctx, which
# holds the schema's limits (never the value sent).
_REASONS: dict[str, tuple[str, str]] = {
    "missing": ("缺少此项", "is required"),
    "string_too_long": ("最多 {max_length} 个字符", "must have at most {max_length} characters"),
    "string_too_short": ("至少 {min_length} 个字符", "must have at least {min_length} characters"),
    "string_type": ("应为文本", "must be text"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_type": ("应为整数", "must be an integer"),
    "int_from_float": ("应为整数", "must be an integer"),
    "int_parsing_size": ("数字位数过多", "has too many digits"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("应不小于 {ge}", "must be at least {ge}"),
    "less_than": ("应小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("应不大于 {le}", "must be at most {le}"),
    "literal_error": ("应为以下之一：{expected}", "must be one of {expected}"),
    "enum": ("应为以下之一：{expected}", "must be one of {expected}"),
    "date_parsing": ("应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "date_from_datetime_parsing": ("应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "date_from_datetime_inexact": ("应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "date_type": ("应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD"),
    "json_invalid": ("不是有效的 JSON", "is not valid JSON"),
    "model_attributes_type": ("应为 JSON 对象", "must be a JSON object"),
    "dict_type": ("应为 JSON 对象", "must be a JSON object"),
    "model_type": ("应为 JSON 对象", "must be a JSON object"),
    "list_type": ("应为列表", "must be a list"),
    "value_error": ("取值无效", "has an invalid value"),
}
_LOCATIONS = {
    "path": ("路径参数", "path parameter"),
    "query": ("查询参数", "query parameter"),
    "body": ("请求内容", "request body"),
    "header": ("请求头", "header"),
    "cookie": ("Cookie", "cookie"),
}


def validation_problems(errors: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """One problem per error FastAPI found in a request, in both languages, without the values sent."""
    return [_validation_problem(error) for error in errors[:20]]


def _validation_problem(error: Mapping[str, Any]) -> Problem:
    loc = [str(part) for part in error.get("loc", ())]
    where_zh, where_en = _LOCATIONS.get(loc[0], ("参数", "parameter")) if loc else ("请求", "request")
    field = ".".join(loc[1:]) if len(loc) > 1 else None
    zh, en = _REASONS.get(str(error.get("type")), _REASONS["value_error"])
    context = {k: _plain(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        zh, en = zh.format(**context), en.format(**context)
    except (KeyError, IndexError):
        zh, en = _REASONS["value_error"]
    named_zh = f"{where_zh} {field} " if field else where_zh
    named_en = f"The {where_en} {field}" if field else f"The {where_en}"
    return Problem("request.invalid", f"{named_zh}{zh}。", f"{named_en} {en}.", field)


def _plain(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


_PROBLEM = {
    "type": "object",
    "required": ["code", "message_zh", "message_en"],
    "properties": {
        "code": {"type": "string", "description": "稳定的问题代码 / stable problem code"},
        "message_zh": {"type": "string"},
        "message_en": {"type": "string"},
        "field": {"type": "string", "description": "所涉参数 / the parameter concerned"},
    },
}
PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": _PROBLEM, "problems": {"type": "array", "items": _PROBLEM}},
}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents its own 422 body; the app answers with a problem instead: say so (in place)."""
    schemas = openapi.get("components", {}).get("schemas", {})
    if "HTTPValidationError" in schemas:
        schemas["HTTPValidationError"] = PROBLEM_SCHEMA
        schemas.pop("ValidationError", None)
    return openapi


# ------------------------------------------------------------------------------------------ statuses

_STATUS_PROBLEMS: dict[int, Problem] = {
    400: Problem("request.malformed", "请求内容无法解析。", "The request body could not be read."),
    404: Problem("request.not_found", "没有这个地址。", "There is no such address."),
    405: Problem("request.method", "该地址不支持此请求方法。", "This address does not accept this method."),
    413: Problem("request.too_large", "请求内容过大。", "The request body is too large."),
}
_TOO_DEEP = Problem(
    "request.too_deep",
    "请求内容的 JSON 嵌套层数过多，无法解析。",
    "The JSON of the request is nested too deeply to be read.",
)
_NUMBER_TOO_LONG = Problem(
    "request.number_too_long",
    "请求内容中有位数过多的数字，无法解析。",
    "The request holds a number with too many digits to be read.",
)


def status_problem(exc: HTTPException) -> Problem:
    """The problem for an HTTP status raised by FastAPI or Starlette themselves (their detail is English)."""
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, RecursionError):
        return _TOO_DEEP
    if exc.status_code == 400 and isinstance(cause, ValueError) and "digits" in str(cause):
        return _NUMBER_TOO_LONG  # Python refuses to convert integers of more than 4300 digits
    found = _STATUS_PROBLEMS.get(exc.status_code)
    if found is not None:
        return found
    status = exc.status_code
    return Problem(
        "request.refused", f"请求未能处理（HTTP {status}）。", f"The request was refused (HTTP {status})."
    )


def install(app: FastAPI) -> None:
    """Register the answers above on `app`, and the last-resort guard around it."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = validation_problems(exc.errors())
        extra = {"problems": [p.as_dict() for p in problems]} if len(problems) > 1 else None
        return problem_response(request, 422, problems[0] if problems else _STATUS_PROBLEMS[400], extra=extra)

    @app.exception_handler(HTTPException)
    async def http_status(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail
        if isinstance(detail, Mapping) and {"code", "message_zh", "message_en"} <= set(detail):
            return JSONResponse({"detail": dict(detail)}, status_code=exc.status_code, headers=exc.headers)
        return problem_response(request, exc.status_code, status_problem(exc), headers=exc.headers)

    @app.exception_handler(sa.exc.DataError)
    async def unstorable_value(request: Request, exc: sa.exc.DataError) -> Response:
        # The database refused a value the request carried (a NUL character, a number out of its column's
        # range) that no validator caught: the caller's input, so a 422 — never echoing the value.
        log.warning("a request value the database cannot store on %s %s", request.method, request.url.path)
        return problem_response(request, 422, Problem("request.unstorable_value", *UNSTORABLE))

    app.add_middleware(UnexpectedErrors)


# ------------------------------------------------------------------------------------------ last resort

UNSTORABLE = (
    "请求中含有无法保存的值（如不可见的控制字符或超出范围的数字），请检查后重试。",
    "The request holds a value that cannot be stored (such as an invisible control character or a number "
    "out of range); check it and try again.",
)

UNEXPECTED = (
    "服务器内部错误，请稍后重试；如仍出错，请向平台报告参考编号 {ref}。",
    "Internal server error; retry later, and if it persists, report reference {ref} to the platform.",
)


class UnexpectedErrors:
    """ASGI middleware, outermost: an exception nothing else answered becomes a 500 problem with a reference
    the caller can quote; the log holds the same reference and the traceback. Nothing else is told."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            ref = secrets.token_hex(4)
            log.error(
                "unexpected %s (reference %s) on %s %s",
                type(exc).__name__,
                ref,
                scope.get("method"),
                scope.get("path"),
                exc_info=exc,
            )
            if started:
                raise  # the response is under way: the server can only cut it off
            problem = Problem("server.error", UNEXPECTED[0].format(ref=ref), UNEXPECTED[1].format(ref=ref))
            response = problem_response(Request(scope), 500, problem, extra={"reference": ref})
            await response(scope, receive, send)
