"""The portal's report pages: the buttons' target and the verify page the QR code opens.

    POST /subjects/{code}/report     form: kind (public | special | full), from, to, domains → the signed PDF
    GET  /verify/{number}            what was issued under the number (summary, issue time, digest) and an
                                     upload form
    POST /verify/{number}            upload the PDF: checked byte for byte against what was issued

The verify page shows anyone only what the number's holder already has: the kind, the issue time, the
subject as the public sees it (a person's name masked), the digest.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from xinyong.disclose.limits import QueryRefused
from xinyong.reports.views import issued_summary, pdf_response, run_issue, verify_upload
from xinyong.security.access import check
from xinyong.security.principal import Principal
from xinyong.web.deps import permission
from xinyong.web.portal.views import refused, render, report_form

router = APIRouter(include_in_schema=False)
Number = Annotated[str, Path(min_length=1, max_length=40)]


@router.post("/subjects/{code}/report")
def make_report(
    code: Annotated[str, Path(max_length=64)],
    request: Request,
    kind: Annotated[str, Form(max_length=16)] = "public",
    date_from: Annotated[dt.date | None, Form(alias="from")] = None,
    date_to: Annotated[dt.date | None, Form(alias="to")] = None,
    domains: Annotated[list[Annotated[str, Form(max_length=32)]] | None, Form(max_length=20)] = None,
    principal: Principal = permission("report.issue"),
) -> Response:
    try:
        issued = run_issue(
            request,
            principal,
            code=code,
            kind=kind,
            date_from=date_from,
            date_to=date_to,
            domains=domains or None,
            channel="portal",
        )
    except QueryRefused as exc:
        return refused(request, exc)
    return pdf_response(issued)


@router.get("/verify/{number}")
def verify_page(
    number: Number, request: Request, principal: Principal = permission("report.verify")
) -> HTMLResponse:
    check(principal, "report.verify")
    try:
        summary = issued_summary(request, number)
    except QueryRefused as exc:
        return refused(request, exc)
    return render(
        request,
        "portal/verify.html",
        title=f"核验 {summary['number']}",
        summary=summary,
        result=None,
        **report_form(request),
    )


@router.post("/verify/{number}")
async def verify_upload_page(
    number: Number,
    request: Request,
    file: Annotated[UploadFile, File()],
    principal: Principal = permission("report.verify"),
) -> HTMLResponse:
    check(principal, "report.verify")
    try:
        summary = await run_in_threadpool(issued_summary, request, number)
    except QueryRefused as exc:
        return refused(request, exc)
    data = await file.read()
    result = await run_in_threadpool(verify_upload, request, data, summary["number"])
    status = 200 if result["valid"] else 422
    return render(
        request,
        "portal/verify.html",
        status=status,
        title=f"核验 {summary['number']}",
        summary=summary,
        result=result,
        **report_form(request),
    )
