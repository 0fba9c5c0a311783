"""The public and partner API of disclosure (`/api/v1`): thin, over the same flows as the portal's pages.

    GET /api/v1/subjects/{code}      one subject as the caller may see it (?level=&purpose=&format=csv)
    GET /api/v1/search?q=            subjects by name, pinyin initials or identifier
    GET /api/v1/records?item=…       the 双公示 lists, filtered, keyset-paged (?cursor=), CSV too
    GET /api/v1/records/{id}         one record's public notice

Every query runs under the time limit of `XINYONG_QUERY_TIME_LIMIT_MS`; what would read too much is refused
with a message (limits.py).

Public answers (the public level, every list, search) are read from `runtime.read_engine` — a read replica
when one is configured — and carry an ETag and Cache-Control for visitors without credentials
(web/caching.py); everything above the public level reads the primary and is `no-store`.

The subject and search endpoints are `async def` and query the database on the event loop: their work is
a few index look-ups of bounded size (and time-limited), CPU-bound Python gains nothing from threads under
the GIL, and forty pool threads contending for it made the 50-client benchmark's tail three times worse
(bench/portal.py). The lists, which may scan up to their budget, stay in the thread pool.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.disclose import export, flows
from xinyong.disclose.limits import DisclosureSettings, QueryRefused, bounded
from xinyong.disclose.lists import ListFilter, Page, Total, count_list, notice, publicity_list
from xinyong.disclose.search import search
from xinyong.policy import Policy, load_policy
from xinyong.security.access import check
from xinyong.security.principal import Principal
from xinyong.security.roles import Level
from xinyong.web.caching import public_answer
from xinyong.web.deps import client_ip, permission, runtime_of
from xinyong.web.params import RowId
from xinyong.web.responses import FastJSONResponse

router = APIRouter(prefix="/api/v1", tags=["disclosure"])

Format = Literal["json", "csv"]
Lang = Literal["zh", "en"]
LevelQuery = Annotated[
    Level,
    Query(description="披露方式，查询至该级别 / disclosure level asked for: public, authorised, government"),
]
PurposeQuery = Annotated[
    str | None, Query(max_length=200, description="查询目的，非公开级别必填 / purpose, required above public")
]
FormatQuery = Annotated[Format, Query(description="json 或 csv / json or csv")]
LangQuery = Annotated[Lang, Query(description="CSV 表头语言 / language of CSV headers")]


def catalog_of(request: Request) -> Catalog:
    """The catalogue edition the app discloses by (app.state.catalog; the packaged edition by default)."""
    found = getattr(request.app.state, "catalog", None)
    return found if found is not None else load_catalog()


def policy_of(request: Request) -> Policy:
    """The policy, read once when the app starts (like every setting): an edited file takes effect at the
    next start, and no request pays for checking the file."""
    found = getattr(request.app.state, "policy", None)
    if found is None:
        found = request.app.state.policy = load_policy()
    return found


def settings_of(request: Request) -> DisclosureSettings:
    found = getattr(request.app.state, "disclosure", None)
    if found is None:
        found = DisclosureSettings.load(runtime_of(request).settings)
        request.app.state.disclosure = found
    return found


@router.get(
    "/subjects/{code}",
    summary="A subject and the records the caller may see / 信用主体及其可查询的信用信息",
    description=(
        "按任一代码（统一社会信用代码、注册号、组织机构代码、身份证号码，或无代码主体的平台编号 xy-…）查询；"
        "校验位等有误的代码答复 422 并指出错误。"
        "公开级别人人可查；更高级别须具备相应身份并声明查询目的，并记入审计日志和查询记录。"
    ),
)
async def get_subject(
    code: str,
    request: Request,
    level: LevelQuery = "public",
    purpose: PurposeQuery = None,
    format: FormatQuery = "json",
    lang: LangQuery = "zh",
    principal: Principal = permission("subject.read"),
) -> Any:
    runtime = runtime_of(request)
    limits = settings_of(request)
    # The public answer reads the replica; a non-public one is audited and logged: the primary.
    engine = runtime.read_engine if level == "public" else runtime.engine
    with bounded(engine, limits.query_time_limit_ms) as conn:
        found = flows.look_up(
            conn,
            runtime=runtime,
            principal=principal,
            code=code,
            level=level,
            purpose=purpose,
            channel="csv" if format == "csv" else "api",
            ip=client_ip(request),
            catalog=catalog_of(request),
            policy=policy_of(request),
            text_limit=limits.list_text_max_chars,
        )
    result = found.disclosure
    if format == "csv":
        body = export.subject_csv(result, lang)
        name = f"{result.subject['code']}-{result.as_of.isoformat()}.csv"
        answer: Response = Response(
            body, media_type="text/csv; charset=utf-8", headers=export.attachment(name)
        )
    else:
        answer = FastJSONResponse(result.as_dict())  # plain JSON types: no generic encoder, no model
    return public_answer(request, answer, public=level == "public")


@router.get("/search", summary="Search subjects by name, pinyin initials or identifier / 检索信用主体")
async def search_subjects(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=100, description="名称片段、拼音首字母或代码")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    format: FormatQuery = "json",
    lang: LangQuery = "zh",
    principal: Principal = permission("subject.search"),
) -> Any:
    check(principal, "subject.search", level="public")
    runtime = runtime_of(request)
    limits = settings_of(request)
    with bounded(runtime.read_engine, limits.query_time_limit_ms) as conn:
        result = search(conn, q, protector=runtime.protector, limit=limit, scan=limits.search_scan)
    if format == "csv":
        return public_answer(
            request,
            Response(
                export.search_csv(result, lang),
                media_type="text/csv; charset=utf-8",
                headers=export.attachment("search.csv"),
            ),
        )
    answer = result.as_dict()
    # took_ms differs on every call: the tag is computed without it (a weak tag, web/caching.py).
    same = orjson.dumps({k: v for k, v in answer.items() if k != "took_ms"})
    return public_answer(request, FastJSONResponse(answer), equivalent=same)


def list_filter(
    item: str,
    provider: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    category: str | None,
    region: str | None,
) -> ListFilter:
    return ListFilter(
        item=item.strip().upper(),
        provider=(provider or "").strip() or None,
        date_from=date_from,
        date_to=date_to,
        category=(category or "").strip() or None,
        region=(region or "").strip() or None,
    )


def run_list(request: Request, flt: ListFilter, *, cursor: str | None, limit: int) -> tuple[Page, Any]:
    """The 双公示 list page for a filter (the public answer, for every caller), and its catalogue item."""
    runtime = runtime_of(request)
    limits = settings_of(request)
    catalog, policy = catalog_of(request), policy_of(request)
    with bounded(runtime.read_engine, limits.query_time_limit_ms) as conn:
        page = publicity_list(
            conn,
            flt,
            catalog=catalog,
            policy=policy,
            clock=runtime.clock,
            limit=limit,
            cursor=cursor,
            scan=max(limits.list_scan_rows, limit),
            text_limit=limits.list_text_max_chars,
        )
    return page, catalog.item(flt.item)


@router.get(
    "/records",
    summary="双公示 lists: licences and penalties in publicity / 行政许可、行政处罚公示列表",
    description="按决定日期从新到旧，按游标（cursor）翻页；format=csv 导出当前筛选结果。",
)
def list_records(
    request: Request,
    item: Annotated[str, Query(description="目录事项代码，如 XZXK、XZCF / catalogue item")] = "XZCF",
    provider: Annotated[str | None, Query(description="数据来源单位统一社会信用代码")] = None,
    date_from: Annotated[dt.date | None, Query(alias="from", description="决定日期起 / decided from")] = None,
    date_to: Annotated[dt.date | None, Query(alias="to", description="决定日期止 / decided until")] = None,
    category: Annotated[
        str | None, Query(description="处罚类别或许可类别 / penalty or licence class")
    ] = None,
    region: Annotated[
        str | None,
        Query(description="数据来源单位所在地区（其行政区划代码前 2/4/6 位）/ the department's region"),
    ] = None,
    cursor: Annotated[str | None, Query(description="上一页返回的 next / the previous page's next")] = None,
    limit: Annotated[int | None, Query(ge=1, description="每页条数 / rows per page")] = None,
    format: FormatQuery = "json",
    lang: LangQuery = "zh",
    principal: Principal = permission("record.read"),
) -> Any:
    check(principal, "record.read", level="public")
    limits = settings_of(request)
    cap = limits.export_max_rows if format == "csv" else 100
    size = min(limit or (cap if format == "csv" else 20), cap)
    flt = list_filter(item, provider, date_from, date_to, category, region)
    page, catalog_item = run_list(request, flt, cursor=cursor, limit=size)
    headers = {}
    if page.next_cursor:
        params = {**flt.query_params(), "cursor": page.next_cursor, "format": format, "limit": str(size)}
        headers["Link"] = f'<{request.url.path}?{_query(params)}>; rel="next"'
    if format == "csv":
        body = export.list_csv(page.rows, catalog_item, lang)
        name = f"{catalog_item.code}-{runtime_of(request).clock.today().isoformat()}.csv"
        return public_answer(
            request,
            Response(
                body, media_type="text/csv; charset=utf-8", headers={**export.attachment(name), **headers}
            ),
        )
    total = list_total(request, flt)
    answer = FastJSONResponse(
        {
            "filter": flt.query_params(),
            **(total.as_dict() if total else {"total": None, "total_exact": None}),
            "items": [row.as_dict() for row in page.rows],
            "next": page.next_cursor,
            "complete": page.complete,
            "scanned": page.scanned,
        },
        headers=headers,
    )
    return public_answer(request, answer)


def list_total(request: Request, flt: ListFilter) -> Total | None:
    """How many records the list holds (exact up to XINYONG_LIST_COUNT_MAX); None when counting ran past the
    time limit: the page is answered without its total rather than not at all."""
    runtime = runtime_of(request)
    limits = settings_of(request)
    try:
        reader = runtime.read_engine
        with bounded(reader, limits.query_time_limit_ms) as conn:
            return count_list(
                conn,
                flt,
                catalog=catalog_of(request),
                policy=policy_of(request),
                clock=runtime.clock,
                budget=limits.list_count_max,
            )
    except QueryRefused as exc:
        if exc.problem.code != "query.time_limit":
            raise
        return None


def _query(params: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def public_notice(request: Request, record_id: int) -> dict[str, Any]:
    runtime = runtime_of(request)
    limits = settings_of(request)
    with bounded(runtime.read_engine, limits.query_time_limit_ms) as conn:
        return notice(
            conn, record_id, catalog=catalog_of(request), policy=policy_of(request), clock=runtime.clock
        )


@router.get("/records/{record_id}", summary="One record's public notice / 单条信用记录公示")
def get_record(
    record_id: RowId, request: Request, principal: Principal = permission("record.read")
) -> Response:
    check(principal, "record.read", level="public")
    return public_answer(request, FastJSONResponse(public_notice(request, record_id)))


def install(app: FastAPI) -> None:
    """Register the API routes and the answer to a refused query (JSON under /api/, a page elsewhere)."""
    app.include_router(router)

    @app.exception_handler(QueryRefused)
    async def refused(request: Request, exc: QueryRefused) -> Response:
        if not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", ""):
            page = (
                f"<!doctype html><meta charset=utf-8><title>{exc.status}</title><h1>{exc.status}</h1>"
                f"<p lang=zh>{html.escape(exc.problem.message_zh)}</p>"
                f"<p lang=en>{html.escape(exc.problem.message_en)}</p>"
            )
            return HTMLResponse(page, status_code=exc.status)
        return JSONResponse(exc.body(), status_code=exc.status)
