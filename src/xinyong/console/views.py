"""The console's pages (/console): thin routes over collect's service and queries and the console's own
figures. Every route declares its permission; every object is checked again against the caller's
organisation once known (a provider's clerk who opens another provider's batch by its address gets 403,
and the refusal is written to the audit trail where it is answered: web.deps.refusal_response).

    GET  /console/login, POST /console/login, POST /console/logout     sign in and out (session + CSRF)
    GET  /console                         overview: recent batches, overdue feeds
    GET  /console/upload, POST            upload a file for an item the feed declaration allows
    GET  /console/batches                 the batch list (own organisation; the credit office: all)
    GET  /console/batches/{id}            counts, problems grouped by code, the feedback download
    GET  /console/feeds                   feed declarations and overdue feeds
    GET  /console/stats                   dashboards; /console/stats/{name}/export?format=csv|xlsx
    GET  /console/assessment              考核通报; /console/assessment/export?format=xlsx|pdf
    GET  /console/tasks                   待办: the deadline engine's open tasks of the organisation
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from xinyong.catalog.loader import load_catalog
from xinyong.clock import CHINA
from xinyong.collect import queries as collect_queries
from xinyong.collect.auditing import record_submission
from xinyong.collect.feeds import load_feeds
from xinyong.collect.service import ingest
from xinyong.console import assessment as assessing
from xinyong.console import queries, stats
from xinyong.console.periods import Period, day_period, month_period, previous_month, this_month
from xinyong.console.words import word
from xinyong.deadlines.models import deadline_tasks
from xinyong.disclose.views import policy_of
from xinyong.problems import Problem, ProblemError
from xinyong.security import audit
from xinyong.security.access import check, holds, organisation_reach
from xinyong.security.accounts import authenticate
from xinyong.security.errors import SecurityError
from xinyong.security.principal import Principal
from xinyong.security.sessions import csrf_token, end_session, start_session
from xinyong.spreadsheet import csv_text
from xinyong.web.deps import (
    CSRF_FIELD,
    SESSION_COOKIE,
    client_ip,
    hit_limit,
    permission,
    runtime_of,
    security_settings,
)
from xinyong.web.params import RowId
from xinyong.web.portal.i18n import language, t
from xinyong.web.portal.views import CSP, environment, error_page

router = APIRouter(prefix="/console", include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_COPY_BLOCK = 1 << 20


def render(
    request: Request, template: str, title_key: str, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = language(request)
    # A page whose own query holds personal data (the audit search) passes the query to link to instead.
    here = dict(context.pop("switch_query", None) or request.query_params)
    here["lang"] = "en" if lang == "zh" else "zh"
    principal: Principal | None = getattr(request.state, "principal", None)
    token = getattr(request.state, "session_token", None)

    def words(key: str, **kw: Any) -> str:
        return word(key, lang, **kw) or t(key, lang, **kw)

    page = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            t=words,
            title=words(title_key),
            switch_url=f"{request.url.path}?{urlencode(here)}",
            path=request.url.path,
            principal=principal,
            may=lambda name: _may(principal, name),
            csrf_field=CSRF_FIELD,
            csrf=csrf_token(token) if token else "",
            **context,
        )
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _may(principal: Principal | None, name: str) -> bool:
    """Whether the navigation shows a page (the page checks again)."""
    return holds(principal, name)


def _scope(principal: Principal, name: str) -> str | None:
    """None: every organisation's; else the caller's own organisation's USCC (own_organisation grants)."""
    return organisation_reach(principal, name)


def _today(request: Request) -> dt.date:
    return runtime_of(request).clock.now().astimezone(CHINA).date()


def _problem_page(request: Request, exc: ProblemError, status: int = 422) -> HTMLResponse:
    return error_page(request, status, exc.problems[0])


# --------------------------------------------------------------------------------------- signing in


@router.get("/login")
def login_form(request: Request, principal: Principal = permission("auth.login")) -> HTMLResponse:
    return render(request, "console/login.html", "sign_in", failed=False)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    principal: Principal = permission("auth.login"),
) -> Response:
    """The same sign-in as POST /api/v1/auth/login (lock-out, throttling, audit), from a form."""
    runtime, settings = runtime_of(request), security_settings(request)
    ip = client_ip(request)
    hit_limit(request, f"login:{ip}", settings.rate_login)
    with runtime.engine.begin() as conn:
        outcome = authenticate(
            conn,
            login=username,
            password=password,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=settings,
            ip=ip,
        )
        token = None
        if outcome.user_id is not None:
            token = start_session(
                conn,
                user_id=outcome.user_id,
                clock=runtime.clock,
                settings=settings,
                ip=ip,
                user_agent=request.headers.get("user-agent"),
            )
    if token is None:
        return render(
            request, "console/login.html", "sign_in", status=401, failed=True, username=username[:64]
        )
    response = RedirectResponse("/console", status_code=303)
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
    return response


@router.post("/logout")
def logout(request: Request, principal: Principal = permission("auth.whoami")) -> Response:
    """Ends the caller's session if it has one (CSRF-checked like every form); either way, to sign-in."""
    if principal.session_id is not None:
        runtime = runtime_of(request)
        with runtime.engine.begin() as conn:
            end_session(conn, principal.session_id, clock=runtime.clock)
            audit.record(
                conn, principal=principal, action="auth.logout", clock=runtime.clock, ip=client_ip(request)
            )
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ------------------------------------------------------------------------------------------ overview


@router.get("")
def overview(request: Request, principal: Principal = permission("console.view")) -> HTMLResponse:
    runtime = runtime_of(request)
    recent, feeds = None, []
    with runtime.engine.begin() as conn:
        if _may(principal, "batch.status"):
            own = _scope(principal, "batch.status")
            recent = collect_queries.list_batches(conn, submitter_uscc=own, limit=5)
            feeds = [
                s
                for s in queries.feed_states(
                    conn, home=runtime.settings.home, organisation=own, now=runtime.clock.now()
                )
                if s.overdue
            ]
            audit.record(
                conn,
                principal=principal,
                action="batch.list",
                clock=runtime.clock,
                object_type="batch",
                ip=client_ip(request),
                detail={"submitter": own, "page": "console", "shown": len(recent.items)},
            )
    return render(request, "console/home.html", "home", recent=recent, overdue=feeds)


# ---------------------------------------------------------------------------------------- collection


def _items_for(request: Request, principal: Principal) -> tuple[list[tuple[str, str]], bool]:
    """The items the caller's organisation may send: its feed declaration's, or every catalogue item when
    it declares none (the service decides again when the file arrives)."""
    catalog = load_catalog()
    names = {i.code: i.name_zh for i in catalog.items}
    provider = load_feeds(runtime_of(request).settings.home).for_submitter(principal.organisation_uscc or "")
    if provider is not None:
        return [(f.item, names.get(f.item, f.item)) for f in provider.feeds], True
    return sorted(names.items()), False


@router.get("/upload")
def upload_form(
    request: Request,
    item: Annotated[str | None, Query(max_length=16)] = None,
    principal: Principal = permission("batch.submit"),
) -> HTMLResponse:
    items, declared = _items_for(request, principal)
    return render(request, "console/upload.html", "upload", items=items, declared=declared, chosen=item)


@router.post("/upload")
async def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    item: Annotated[str, Form(max_length=16)] = "",
    principal: Principal = permission("batch.submit"),
) -> Response:
    """The file goes through the same `collect.service.ingest` as the API and the command line, for the
    caller's own organisation; then to the batch's page (303), where its counts and problems are."""
    runtime = runtime_of(request)
    uscc = (principal.organisation_uscc or "").upper()
    check(principal, "batch.submit", owner=uscc or None)
    name = Path(file.filename or "upload").name or "upload"
    suffix = Path(name).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ".unknown"
    fd, tmp = tempfile.mkstemp(prefix="xinyong-console-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            while block := await file.read(_COPY_BLOCK):
                await run_in_threadpool(out.write, block)
        try:
            summary = await run_in_threadpool(
                ingest,
                runtime,
                path=Path(tmp),
                item_code=item.strip().upper(),
                submitter_uscc=uscc,
                filename=name,
            )
        except ProblemError as exc:
            return _problem_page(request, exc)
    finally:
        await file.close()
        Path(tmp).unlink(missing_ok=True)

    def _audit() -> None:
        with runtime.engine.begin() as conn:
            record_submission(
                conn,
                principal=principal,
                summary=summary,
                submitter=uscc,
                clock=runtime.clock,
                ip=client_ip(request),
            )

    await run_in_threadpool(_audit)
    return RedirectResponse(f"/console/batches/{summary.batch_id}", status_code=303)


@router.get("/batches")
def batch_list(
    request: Request,
    item: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    principal: Principal = permission("batch.status"),
) -> HTMLResponse:
    own = _scope(principal, "batch.status")
    runtime = runtime_of(request)
    item = item.strip().upper() or None if item else None
    with runtime.engine.begin() as conn:
        page = collect_queries.list_batches(conn, submitter_uscc=own, item=item, before=before, limit=50)
        audit.record(
            conn,
            principal=principal,
            action="batch.list",
            clock=runtime.clock,
            object_type="batch",
            ip=client_ip(request),
            detail={
                "submitter": own,
                "item": item,
                "before": before,
                "shown": len(page.items),
                "page": "console",
            },
        )
    wanted = {k: v for k, v in (("item", item), ("before", page.next_cursor)) if v}
    older = f"/console/batches?{urlencode(wanted)}"
    return render(
        request,
        "console/batches.html",
        "batches",
        page=page,
        item=item,
        older=older if page.next_cursor else None,
    )


@router.get("/batches/{batch_id}")
def batch_page(
    batch_id: RowId, request: Request, principal: Principal = permission("batch.status")
) -> HTMLResponse:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        view = collect_queries.batch_view(conn, batch_id)
        if view is not None:
            try:
                check(principal, "batch.status", owner=view["submitter"]["uscc"])
            except SecurityError as refusal:
                refusal.context.update(object_type="batch", object_id=batch_id)
                raise
        groups = queries.problem_groups(conn, batch_id) if view is not None else []
        audit.record(
            conn,
            principal=principal,
            action="batch.status",
            clock=runtime.clock,
            object_type="batch",
            object_id=batch_id,
            ip=client_ip(request),
            outcome="ok" if view is not None else "failed",
            detail={"page": "console"} if view is not None else {"found": False},
        )
    if view is None:
        problem = Problem("batch.not_found", f"没有编号为 {batch_id} 的批次", f"no batch {batch_id}")
        return error_page(request, 404, problem)
    may_read = _may(principal, "batch.read") and _owns_or_all(
        principal, "batch.read", view["submitter"]["uscc"]
    )
    api = f"/api/v1/batches/{batch_id}/errors"
    lang = language(request)
    downloads = (
        {
            "xlsx": f"{api}?{urlencode({'format': 'xlsx', 'lang': lang})}",
            "csv": f"{api}?{urlencode({'format': 'csv', 'lang': lang})}",
            "open": f"{api}?{urlencode({'format': 'xlsx', 'lang': lang, 'open_only': 'true'})}",
        }
        if may_read
        else None
    )
    return render(request, "console/batch.html", "batch", batch=view, groups=groups, downloads=downloads)


def _owns_or_all(principal: Principal, name: str, owner: str) -> bool:
    try:
        check(principal, name, owner=owner)
    except SecurityError:
        return False
    return True


@router.get("/feeds")
def feeds_page(request: Request, principal: Principal = permission("batch.status")) -> HTMLResponse:
    own = _scope(principal, "batch.status")
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        states = queries.feed_states(
            conn, home=runtime.settings.home, organisation=own, now=runtime.clock.now()
        )
    return render(request, "console/feeds.html", "feeds", states=states)


# ---------------------------------------------------------------------------------------- statistics


@dataclass
class PeriodAsked:
    """The period every statistics and 考核通报 page takes: `month` (YYYY-MM), or `from`/`to` days."""

    month: Annotated[str | None, Query(max_length=7)] = None
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None


def _period(request: Request, asked: PeriodAsked, *, past: bool) -> Period:
    if asked.start and asked.end:
        return day_period(asked.start, asked.end)
    if asked.month:
        return month_period(asked.month)
    now = runtime_of(request).clock.now()
    return previous_month(now) if past else this_month(now)


def _figures(request: Request, principal: Principal, period: Period) -> list[stats.Figure]:
    own = _scope(principal, "stats.read")
    runtime = runtime_of(request)
    declared = [(u, n, f.item) for u, n, f in queries.declared_feeds(runtime.settings.home, own)]
    with runtime.engine.connect() as conn:
        figures = [build(conn, period, own) for build in stats.DASHBOARDS.values()]
        figures.insert(3, stats.coverage(conn, period, own, declared))
        figures += [build(conn, period, own) for build in stats.APPLY_FIGURES]
    return figures


@router.get("/stats")
def stats_page(
    request: Request,
    asked: Annotated[PeriodAsked, Depends()],
    principal: Principal = permission("stats.read"),
) -> HTMLResponse:
    try:
        period = _period(request, asked, past=False)
    except ProblemError as exc:
        return _problem_page(request, exc, 400)
    figures = _figures(request, principal, period)
    lang = language(request)
    query = {k: v for k, v in (("month", asked.month), ("from", asked.start), ("to", asked.end)) if v}
    charts = {
        f.name: {
            "type": f.chart.get("type", "bar"),
            "x": [str(r.get(f.chart["x"])) for r in f.rows],
            "series": [
                {
                    "name": next(c for c in f.columns if c.key == y).__getattribute__(
                        "en" if lang == "en" else "zh"
                    ),
                    "data": [r.get(y) for r in f.rows],
                }
                for y in f.chart.get("y", [])
            ],
        }
        for f in figures
        if f.chart
    }
    return render(
        request,
        "console/stats.html",
        "stats",
        figures=figures,
        period=period,
        month=period.month or "",
        query=urlencode(query),
        charts_json=json.dumps(charts, ensure_ascii=False).replace("<", "\\u003c"),
        slot_empty=not stats.APPLY_FIGURES,
    )


@router.get("/stats/{name}/export")
def stats_export(
    name: str,
    request: Request,
    asked: Annotated[PeriodAsked, Depends()],
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
    principal: Principal = permission("stats.read"),
) -> Response:
    try:
        period = _period(request, asked, past=False)
    except ProblemError as exc:
        return _problem_page(request, exc, 400)
    figure = next((f for f in _figures(request, principal, period) if f.name == name), None)
    if figure is None:
        return error_page(
            request,
            404,
            Problem("console.no_figure", f"没有名为 {name[:32]} 的统计表", f"no figure {name[:32]}"),
        )
    lang = language(request)
    stem = f"{figure.name}-{period.label}"
    if format == "csv":
        body = csv_text(figure.headers(lang), figure.cells()).encode("utf-8")
        return _download(body, "text/csv; charset=utf-8", f"{stem}.csv")
    return _download(_xlsx(figure.title(lang), figure.headers(lang), figure.cells()), XLSX, f"{stem}.xlsx")


def _download(body: bytes, media: str, name: str) -> Response:
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _xlsx(title: str, headers: list[str], cells: list[list[Any]]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet = book.add_worksheet("统计")
    sheet.write_string(0, 0, title)
    for c, h in enumerate(headers):
        sheet.write_string(2, c, h, head)
    for r, row in enumerate(cells, start=3):
        for c, value in enumerate(row):
            if isinstance(value, bool):
                sheet.write_string(r, c, str(value))
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            elif value is not None:
                sheet.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


# -------------------------------------------------------------------------------------- 考核通报


def _assessment(request: Request, period: Period) -> list[assessing.Assessment]:
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        return assessing.assess(conn, period, policy_of(request).assessment, home=runtime.settings.home)


@router.get("/assessment")
def assessment_page(
    request: Request,
    asked: Annotated[PeriodAsked, Depends()],
    principal: Principal = permission("assessment.read"),
) -> HTMLResponse:
    try:
        period = _period(request, asked, past=True)
    except ProblemError as exc:
        return _problem_page(request, exc, 400)
    rows = _assessment(request, period)
    query = urlencode(
        {"month": period.month} if period.month else {"from": period.start, "to": period.last_day}
    )
    return render(
        request,
        "console/assessment.html",
        "assessment",
        rows=rows,
        period=period,
        month=period.month or "",
        policy=policy_of(request).assessment,
        indicators=assessing.ASSESSMENT_INDICATORS,
        query=query,
    )


@router.get("/assessment/export")
def assessment_export(
    request: Request,
    asked: Annotated[PeriodAsked, Depends()],
    format: Annotated[Literal["xlsx", "pdf"], Query()] = "xlsx",
    principal: Principal = permission("assessment.read"),
) -> Response:
    try:
        period = _period(request, asked, past=True)
    except ProblemError as exc:
        return _problem_page(request, exc, 400)
    rows = _assessment(request, period)
    policy = policy_of(request).assessment
    stem = f"kaohe-tongbao-{period.label}"
    if format == "xlsx":
        return _download(assessing.to_xlsx(rows, period, policy, language(request)), XLSX, f"{stem}.xlsx")
    pdf = _pdf(rows, period, policy, principal, _today(request))
    return _download(pdf, "application/pdf", f"{stem}.pdf")


def _pdf(
    rows: list[assessing.Assessment], period: Period, policy: Any, principal: Principal, today: dt.date
) -> bytes:
    issuer = principal.organisation_name or "信用信息中心"
    return assessing.to_pdf(rows, period, policy, issuer=issuer, issued_on=f"{today:%Y年%m月%d日}")


# ----------------------------------------------------------------------------------------- 待办


@router.get("/tasks")
def tasks_page(request: Request, principal: Principal = permission("console.view")) -> HTMLResponse:
    """The organisation's open tasks from every chapter; the forms that close them stay where each chapter
    put them (the rights chapter's /tasks), linked from each task."""
    import sqlalchemy as sa

    runtime = runtime_of(request)
    t = deadline_tasks
    query = sa.select(t).where(t.c.state.in_(("open", "overdue"))).order_by(t.c.due_on, t.c.id).limit(500)
    if principal.role == "credit_office":
        query = query.where(
            sa.or_(t.c.owner_kind == "platform", t.c.owner_uscc == principal.organisation_uscc)
        )
    else:
        query = query.where(
            t.c.owner_kind == "organisation", t.c.owner_uscc == (principal.organisation_uscc or "")
        )
    with runtime.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    handled_at = "/tasks" if _may(principal, "objection.handle") else None
    return render(
        request, "console/tasks.html", "tasks", rows=rows, today=_today(request), handled_at=handled_at
    )
