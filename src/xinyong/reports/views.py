"""The reports API (`/api/v1/reports`): issue a report (JSON for machines, or the signed PDF), read what was
issued under a number, verify an uploaded PDF. Thin: `service.issue` and `verify.verify_pdf` decide.

    POST /api/v1/reports                  {subject, kind, purpose?, from?, to?, domains?}  ?format=json|pdf
    GET  /api/v1/reports/{number}         what was issued: kind, issue time, subject (as the public
                                          sees it), digest
    POST /api/v1/reports/verify           multipart `file`: the verification (valid, number,
                                          issued_at, subject, reason)

An agency holding the subject's authorisation asks for `kind: authorised` with the authorisation's purpose:
the look-up is the authorised one — quota, query log and audit as for `GET /api/v1/subjects/{code}`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from xinyong.clock import CHINA
from xinyong.disclose.limits import QueryRefused
from xinyong.disclose.views import catalog_of, policy_of
from xinyong.reports.service import Issued, issue
from xinyong.reports.settings import ReportSettings
from xinyong.reports.verify import find, verify_pdf
from xinyong.security.access import check
from xinyong.security.principal import Principal
from xinyong.web.deps import client_ip, permission, runtime_of

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
NumberPath = Path(min_length=1, max_length=40, description="报告编号 / report number")


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str = Field(min_length=1, max_length=64, description="信用主体代码 / the subject's identifier")
    kind: Literal["public", "full", "authorised", "special"] = "public"
    purpose: str | None = Field(default=None, max_length=200)
    date_from: dt.date | None = Field(default=None, alias="from")
    date_to: dt.date | None = Field(default=None, alias="to")
    domains: list[Annotated[str, Field(max_length=32)]] | None = Field(default=None, max_length=20)


def run_issue(
    request: Request,
    principal: Principal,
    *,
    code: str,
    kind: str,
    purpose: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    domains: list[str] | None = None,
    channel: str,
) -> Issued:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        return issue(
            conn,
            runtime=runtime,
            principal=principal,
            code=code,
            kind=kind,
            purpose=purpose,
            date_from=date_from,
            date_to=date_to,
            domains=domains,
            channel=channel,
            ip=client_ip(request),
            catalog=catalog_of(request),
            policy=policy_of(request),
        )


def pdf_response(issued: Issued) -> Response:
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{issued.number}.pdf"',
            "X-Report-Number": issued.number,
            "X-Report-Digest": issued.digest,
        },
    )


@router.post("", summary="Issue a credit report / 出具信用报告")
def create_report(
    body: ReportRequest,
    request: Request,
    format: Annotated[Literal["json", "pdf"], Query(description="json 或 pdf")] = "json",
    principal: Principal = permission("report.issue"),
) -> Any:
    issued = run_issue(
        request,
        principal,
        code=body.subject,
        kind=body.kind,
        purpose=body.purpose,
        date_from=body.date_from,
        date_to=body.date_to,
        domains=body.domains,
        channel="api",
    )
    if format == "pdf":
        return pdf_response(issued)
    return JSONResponse({**issued.summary(), "report": issued.document})


def issued_summary(request: Request, number: str) -> dict[str, Any]:
    """What the verify page shows anyone about a number; QueryRefused 404 when none was issued."""
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        row = find(conn, number.strip().upper())
    if row is None:
        raise QueryRefused(
            "report.not_found",
            "本平台未出具该编号的信用报告",
            "This platform issued no credit report under that number",
            status=404,
        )
    return {
        "number": row.number,
        "kind": row.kind,
        "issued_at": row.issued_at.astimezone(CHINA).isoformat(timespec="seconds"),
        "as_of": row.as_of.isoformat(),
        "subject": row.subject_label,
        "records": row.records,
        "pages": row.pages,
        "digest": row.digest,
        "pdf_sha256": row.pdf_sha256,
        "period": {"from": row.period_from.isoformat(), "to": row.period_to.isoformat()}
        if row.period_from and row.period_to
        else None,
        "domains": row.domains,
    }


@router.get("/{number}", summary="What was issued under a report number / 报告出具信息")
def get_report(
    number: Annotated[str, NumberPath], request: Request, principal: Principal = permission("report.verify")
) -> dict[str, Any]:
    check(principal, "report.verify")
    return issued_summary(request, number)


def verify_upload(request: Request, data: bytes, number: str | None = None) -> dict[str, Any]:
    runtime = runtime_of(request)
    settings = ReportSettings.load(runtime.settings)
    with runtime.engine.connect() as conn:
        return verify_pdf(conn, data, settings, number=number).as_dict()


@router.post("/verify", summary="Verify a report PDF / 上传核验信用报告")
async def verify_report(
    request: Request,
    file: Annotated[UploadFile, File(description="报告 PDF")],
    principal: Principal = permission("report.verify"),
) -> dict[str, Any]:
    check(principal, "report.verify")
    data = await file.read()
    return await run_in_threadpool(verify_upload, request, data)
