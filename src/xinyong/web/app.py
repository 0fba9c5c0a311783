"""The FastAPI application factory. One app serves the API, the portal and the console."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

import xinyong
from xinyong.runtime import Runtime
from xinyong.store.engine import is_current
from xinyong.web.api import subjects


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="Xinyong 信用 — 公共信用信息平台 API",
        version=xinyong.__version__,
        description="Public credit information platform: collection, disclosure, application, rights.",
    )
    app.state.runtime = runtime

    @app.get("/healthz", tags=["ops"], summary="Liveness / 存活检查")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], summary="Readiness: database reachable and migrated / 就绪检查")
    def readyz() -> JSONResponse:
        try:
            ready = is_current(runtime.engine)
        except Exception as exc:  # noqa: BLE001 - any database failure means "not ready"
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
        if not ready:
            return JSONResponse({"status": "unavailable", "reason": "database not migrated"}, status_code=503)
        return JSONResponse({"status": "ready"})

    app.include_router(subjects.router)
    return app
