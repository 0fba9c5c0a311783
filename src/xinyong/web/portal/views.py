"""The public portal (信用湖北-style): server-rendered pages over the same flows as the JSON API.

    GET /                         home: the search form and the 双公示 lists
    GET /search?q=                subjects by name, pinyin initials or identifier
    GET /subjects/{code}          one subject, as the visitor may see it (?level=&purpose= when signed in)
    GET /publicity/{list}         the 双公示 lists (licences, penalties) with filters and exports
    GET /notices/{record_id}      one record's public notice
    GET /lists                    名单公示: red and black list entries in force, with filters and CSV
    GET /static/{path}            stylesheet, script, the API documentation's assets

Pages are Simplified Chinese first, English with ?lang=en (i18n.py); they work without JavaScript; every
form control has a label; tables turn into cards on a phone (static/portal.css).

The public pages read `runtime.read_engine` (a replica when configured) and, for a visitor without
credentials, carry an ETag and Cache-Control (web/caching.py); a signed-in visitor's pages and anything
above the public level read the primary and are `no-store`.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from xinyong.apply import queries as list_queries
from xinyong.apply.catalogue import load_catalogue
from xinyong.apply.service import today
from xinyong.catalog.domains import load_domains
from xinyong.codes.divisions import hubei_prefectures
from xinyong.disclose import flows
from xinyong.disclose.limits import QueryRefused, bounded
from xinyong.disclose.lists import departments
from xinyong.disclose.search import search
from xinyong.disclose.service import audience_levels, display_config
from xinyong.disclose.views import (
    catalog_of,
    list_filter,
    list_total,
    policy_of,
    public_notice,
    run_list,
    settings_of,
)
from xinyong.problems import Problem
from xinyong.security.access import check
from xinyong.security.masking import mask_ids_in_text
from xinyong.security.principal import Principal
from xinyong.security.roles import LEVELS, Level, load_roles
from xinyong.security.sessions import csrf_token
from xinyong.web.caching import public_answer
from xinyong.web.deps import CSRF_FIELD, client_ip, permission, runtime_of
from xinyong.web.params import RowId
from xinyong.web.portal.i18n import LANG_COOKIE, Lang, language, t

router = APIRouter(include_in_schema=False)

# Portal pages run no inline script and load nothing from elsewhere: closed government networks.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("xinyong.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["iso"] = lambda v: v.isoformat() if isinstance(v, dt.date | dt.datetime) else (v or "")
    env.filters["day"] = _day
    env.filters["when"] = _when
    return env


def _when(value: Any) -> str:
    """A moment to the minute, China time (the console's audit and lock-out times)."""
    if isinstance(value, dt.datetime):
        from xinyong.clock import CHINA

        return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    return _day(value)


def _day(value: Any) -> str:
    if isinstance(value, dt.datetime):
        from xinyong.clock import CHINA

        return value.astimezone(CHINA).date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value or ""


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    here = dict(request.query_params)
    here["lang"] = "en" if lang == "zh" else "zh"
    principal: Principal | None = getattr(request.state, "principal", None)
    page = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            t=lambda key, **kw: t(key, lang, **kw),
            switch_url=f"{request.url.path}?{urlencode(here)}",
            path=request.url.path,
            principal=principal,
            browse=_browse_links(),
            **context,
        )
    )
    response = HTMLResponse(page, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _browse_links() -> list[tuple[str, str]]:
    return [(cfg["browse"], code) for code, cfg in display_config().items() if cfg.get("browse")]


def refused(request: Request, exc: QueryRefused) -> HTMLResponse:
    return error_page(request, exc.status, exc.problem)


ERROR_TITLES = {
    400: "bad_request",
    401: "sign_in_needed",
    403: "forbidden",
    404: "not_found",
    429: "too_many",
}


def error_page(request: Request, status: int, problem: Problem) -> HTMLResponse:
    """The portal's page for a refusal: the title and message in the visitor's language, the message in the
    other language beneath it (errors are always bilingual)."""
    lang = language(request)
    other: Lang = "zh" if lang == "en" else "en"
    return render(
        request,
        "portal/error.html",
        status=status,
        title=t(ERROR_TITLES.get(status, "error"), lang),
        message=problem.message(lang),
        other_lang="zh-Hans" if other == "zh" else "en",
        other_message=problem.message(other),
        code=problem.code,
    )


def wants_html(request: Request) -> bool:
    """A browser asking for a page (outside /api/, whose clients always get JSON problems)."""
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


# ---------------------------------------------------------------------------------------------- pages


@router.get("/")
def home(request: Request, principal: Principal = permission("portal.view")) -> Response:
    return public_answer(request, render(request, "portal/home.html", title=None))


@router.get("/search")
def search_page(
    request: Request,
    q: Annotated[str, Query(max_length=100)] = "",
    principal: Principal = permission("subject.search"),
) -> Response:
    check(principal, "subject.search", level="public")
    result, problem = None, None
    if q.strip():
        runtime = runtime_of(request)
        limits = settings_of(request)
        try:
            reader = runtime.read_engine
            with bounded(reader, limits.query_time_limit_ms) as conn:
                result = search(conn, q, protector=runtime.protector, limit=20, scan=limits.search_scan)
        except QueryRefused as exc:
            problem = exc.problem.message(language(request))
    # An ID number typed into the box is not repeated in clear on the page (the box keeps what was typed).
    page = render(
        request,
        "portal/search.html",
        title=t("query", language(request)),
        q=q,
        shown_query=mask_ids_in_text(q.strip()),
        result=result,
        problem=problem,
    )
    return public_answer(request, page)


@router.get("/subjects/{code}")
def subject_page(
    code: str,
    request: Request,
    level: Annotated[Level, Query()] = "public",
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    principal: Principal = permission("subject.read"),
) -> Response:
    runtime = runtime_of(request)
    limits = settings_of(request)
    lang = language(request)
    # The public answer reads the replica; a non-public one is audited and logged: the primary.
    engine = runtime.read_engine if level == "public" else runtime.engine
    try:
        with bounded(engine, limits.query_time_limit_ms) as conn:
            found = flows.look_up(
                conn,
                runtime=runtime,
                principal=principal,
                code=code,
                level=level,
                purpose=purpose,
                channel="portal",
                ip=client_ip(request),
                catalog=catalog_of(request),
                policy=policy_of(request),
                text_limit=limits.list_text_max_chars,
            )
        with bounded(runtime.read_engine, limits.query_time_limit_ms) as conn:
            entries = list_queries.public_entries(conn, on=today(runtime.clock), subject_id=found.subject_id)
    except QueryRefused as exc:
        return refused(request, exc)
    result = found.disclosure
    catalog = catalog_of(request)
    export = {"level": level, **({"purpose": found.purpose} if level != "public" and found.purpose else {})}
    levels = [lv for lv in LEVELS if lv in audience_levels(found.audience)]
    api = f"/api/v1/subjects/{result.subject['code']}"
    page = render(
        request,
        "portal/subject.html",
        title=result.subject["name"],
        result=result,
        groups=[(catalog.item(code_), rows) for code_, rows in result.by_item().items()],
        levels=levels if principal.authenticated and len(levels) > 1 else [],
        level=level,
        purpose=found.purpose if level != "public" else "",
        audience_label=_audience_label(found.audience if level != "public" else "public", lang),
        csv_url=f"{api}?{urlencode({**export, 'format': 'csv', 'lang': lang})}",
        json_url=f"{api}?{urlencode(export)}",
        list_entries=entries,
        **report_form(request),
    )
    return public_answer(request, page, public=level == "public")


@router.get("/lists")
def lists_page(
    request: Request,
    list_type: Annotated[str | None, Query(alias="type", max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=8)] = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    principal: Principal = permission("portal.view"),
) -> Response:
    """名单公示: the public list of red and black list entries in force today."""
    runtime = runtime_of(request)
    lang = language(request)
    kind = kind if kind in ("red", "black") else None
    list_type = list_type or None
    with bounded(runtime.read_engine, settings_of(request).query_time_limit_ms) as conn:
        entries = list_queries.public_entries(
            conn, on=today(runtime.clock), list_type=list_type, kind=kind, q=q, limit=200
        )
    params = {k: v for k, v in (("type", list_type), ("kind", kind), ("q", q)) if v}
    page = render(
        request,
        "portal/lists.html",
        title=t("lists_page", lang),
        entries=entries,
        list_types=load_catalogue().list_types,
        chosen_type=list_type,
        chosen_kind=kind,
        q=q,
        csv_url=f"/api/v1/lists?{urlencode({**params, 'format': 'csv'})}",
        json_url=f"/api/v1/lists?{urlencode(params)}",
    )
    return public_answer(request, page)


def report_form(request: Request) -> dict[str, object]:
    """What a report button's form needs: the CSRF field of a signed-in session, the domains to choose."""
    token = getattr(request.state, "session_token", None)
    return {
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(token) if token else "",
        "report_domains": load_domains().domains,
        "special_years": load_domains().special.default_years,
    }


def _audience_label(audience: str, lang: Lang) -> str:
    spec = load_roles().audiences[audience]  # type: ignore[index]
    return spec.en if lang == "en" else spec.zh


@router.get("/publicity/{name}")
def publicity_page(
    name: str,
    request: Request,
    provider: str | None = None,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    category: str | None = None,
    region: str | None = None,
    cursor: str | None = None,
    principal: Principal = permission("record.read"),
) -> Response:
    check(principal, "record.read", level="public")
    lang = language(request)
    code = next((c for c, cfg in display_config().items() if cfg.get("browse") == name), None)
    if code is None:
        return refused(request, QueryRefused("list.unknown", "没有这个公示栏目", "no such list", status=404))
    try:
        flt = list_filter(code, provider, _date(date_from), _date(date_to), category, region)
        page, item = run_list(request, flt, cursor=cursor, limit=20)
        total = list_total(request, flt)
        runtime = runtime_of(request)
        with bounded(runtime.read_engine, settings_of(request).query_time_limit_ms) as conn:
            depts = departments(conn, item, catalog_of(request))
    except QueryRefused as exc:
        return refused(request, exc)
    cfg = display_config()[code]
    params = flt.query_params()
    filter_params = {k: v for k, v in params.items() if k != "item"}
    page_html = render(
        request,
        "portal/list.html",
        title=t("penalties" if code == "XZCF" else "licences", lang),
        item=item,
        name=name,
        page=page,
        total=total,
        flt=flt,
        columns=[item.field(c) for c in cfg.get("columns", [])],
        category_field=item.get_field(cfg.get("category", "")) if cfg.get("category") else None,
        departments=depts,
        regions=[(d.code[:4], d.short or d.name) for d in hubei_prefectures()],
        next_url=(
            f"{request.url.path}?{urlencode({**filter_params, 'cursor': page.next_cursor})}"
            if page.next_cursor
            else None
        ),
        first_url=f"{request.url.path}?{urlencode(filter_params)}" if cursor else None,
        csv_url=f"/api/v1/records?{urlencode({**params, 'format': 'csv', 'lang': lang})}",
        json_url=f"/api/v1/records?{urlencode(params)}",
    )
    return public_answer(request, page_html)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        shown = mask_ids_in_text(text[:40])  # what was typed, cut short, never an ID number in clear
        raise QueryRefused(
            "list.date", f"日期格式应为 YYYY-MM-DD：{shown}", f"dates are YYYY-MM-DD: {shown}"
        ) from None


@router.get("/notices/{record_id}")
def notice_page(
    record_id: RowId, request: Request, principal: Principal = permission("record.read")
) -> Response:
    check(principal, "record.read", level="public")
    try:
        notice = public_notice(request, record_id)
    except QueryRefused as exc:
        return refused(request, exc)
    item = catalog_of(request).item(notice["item"]["code"])
    page = render(request, "portal/notice.html", title=notice["title"], notice=notice, item=item)
    return public_answer(request, page)


# -------------------------------------------------------------------------------------------- assets


@cache
def _static_root() -> Path:
    return Path(str(resources.files("xinyong.web").joinpath("static"))).resolve()


@router.get("/static/{name}")
def static(name: str, principal: Principal = permission("portal.view", rate_limited=False)) -> Response:
    return _asset(name)


@router.get("/static/{folder}/{name}")
def static_folder(
    folder: str, name: str, principal: Principal = permission("portal.view", rate_limited=False)
) -> Response:
    """Assets in one level of folders (the API documentation's swagger-ui/)."""
    return _asset(f"{folder}/{name}")


def _asset(relative: str) -> Response:
    root = _static_root()
    target = (root / relative).resolve()
    if not target.is_file() or root not in target.parents:
        return Response("not found", status_code=404, media_type="text/plain")
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media, headers={"Cache-Control": "public, max-age=86400"})
