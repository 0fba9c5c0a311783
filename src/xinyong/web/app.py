"""The FastAPI application factory. One app serves the API, the portal and the console.

Every route declares its permission with `permission(...)` (xinyong.web.deps), the interactive API
documentation included: FastAPI's own /docs and /openapi.json are switched off and served here instead,
so that nothing is reachable without passing the one permission check.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

import xinyong
from xinyong.apply import casework_views as apply_casework_views
from xinyong.apply import views as apply_views
from xinyong.collect import views as collect_views
from xinyong.console import admin as console_admin
from xinyong.console import views as console_views
from xinyong.disclose import views as disclose_views
from xinyong.logging import configure_logging
from xinyong.reports import views as report_views
from xinyong.rights import casework_views
from xinyong.rights import service as rights_service
from xinyong.rights import views as rights_views
from xinyong.runtime import Runtime
from xinyong.security.ratelimit import InMemoryRateLimiter, RateLimiter
from xinyong.security.settings import SecuritySettings
from xinyong.store.engine import is_current
from xinyong.web import errors
from xinyong.web.api import auth
from xinyong.web.bodies import BodyGate
from xinyong.web.caching import NoStoreByDefault
from xinyong.web.deps import document_security, install_error_handlers, permission
from xinyong.web.portal import applying as portal_applying
from xinyong.web.portal import casework as portal_casework
from xinyong.web.portal import errors as portal_errors
from xinyong.web.portal import reports as portal_reports
from xinyong.web.portal import views as portal_views
from xinyong.web.schedule import deadlines_lifespan

TITLE = "Xinyong 信用 — 公共信用信息平台 API"


def create_app(
    runtime: Runtime,
    *,
    rate_limiter: RateLimiter | None = None,
    deadlines_every: float = 0,
    push_every: float = 0,
    search_every: float = 0,
) -> FastAPI:
    """`rate_limiter`: the in-process limiter by default; pass a shared one when running several processes.
    `deadlines_every`: seconds between runs of the deadline engine while the app serves (0: none; `xinyong
    serve` sets it from XINYONG_DEADLINES_INTERVAL_S). `push_every`: seconds between push worker passes
    (XINYONG_PUSH_INTERVAL_S). `search_every`: seconds between refreshes of the name search index
    (XINYONG_SEARCH_REFRESH_INTERVAL_S)."""
    configure_logging(runtime.settings)
    app = FastAPI(
        lifespan=deadlines_lifespan(runtime, deadlines_every, push_every, search_every)
        if deadlines_every > 0 or push_every > 0 or search_every > 0
        else None,
        title=TITLE,
        version=xinyong.__version__,
        description="Public credit information platform: collection, disclosure, application, rights.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    app.state.security = SecuritySettings.load(runtime.settings)
    app.state.rate_limiter = rate_limiter or InMemoryRateLimiter()
    install_error_handlers(app)
    # Outermost last: any unexpected error becomes a problem; no body is read past its limit, and an
    # upload's body not before its caller passed the permission check.
    app.add_middleware(BodyGate, site=app)
    errors.install(app)
    # Only a public answer says it may be cached (web/caching.py); every other response, the last
    # resort's 500 included, is no-store.
    app.add_middleware(NoStoreByDefault)

    # Probes are exempt from rate limits: a load balancer polls them from one address all day.
    @app.get(
        "/healthz",
        tags=["ops"],
        summary="Liveness / 存活检查",
        dependencies=[permission("ops.health", rate_limited=False)],
    )
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: database reachable and migrated / 就绪检查",
        dependencies=[permission("ops.health", rate_limited=False)],
    )
    def readyz() -> JSONResponse:
        try:
            ready = is_current(runtime.engine)
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
        if not ready:
            return JSONResponse({"status": "unavailable", "reason": "database not migrated"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/openapi.json", include_in_schema=False, dependencies=[permission("api.docs")])
    def openapi() -> JSONResponse:
        return JSONResponse(errors.document_problems(document_security(app.openapi())))

    @app.get("/docs", include_in_schema=False, dependencies=[permission("api.docs")])
    def docs() -> HTMLResponse:
        # Served from /static: the platform runs on closed government networks, with no CDN in reach.
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=TITLE,
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.include_router(auth.router)
    # Disclosure (the subject API, search, the 双公示 lists), the subject's rights, the public portal.
    rights_service.install()  # authorised queries are checked against the subject's authorisations
    disclose_views.install(app)
    app.include_router(rights_views.router)
    app.include_router(casework_views.router)
    app.include_router(portal_views.router)
    app.include_router(portal_casework.router)
    app.include_router(portal_applying.router)
    app.include_router(collect_views.router)
    app.include_router(apply_views.router)
    app.include_router(apply_casework_views.router)
    app.include_router(report_views.router)
    app.include_router(portal_reports.router)
    app.include_router(console_views.router)
    app.include_router(console_admin.router)
    portal_errors.install(app)  # last: browsers get the portal's pages for the errors handled above
    return app
