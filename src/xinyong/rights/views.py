"""The subject's rights in the API: its authorisations (授权查询) and who queried it (查询记录).

GET  /api/v1/me/authorisations                 the signed-in subject's authorisations
POST /api/v1/me/authorisations                 grant one: organisation, purpose, until
POST /api/v1/me/authorisations/{id}/revoke     revoke one
GET  /api/v1/me/queries                        every query of its non-public information
GET  /api/v1/subjects/{code}/queries           the same for the platform's staff (and the subject itself)
POST /api/v1/records/revocations               a provider's system reports a decision revoked (撤销)
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xinyong.disclose.flows import record_not_found, resolve_code
from xinyong.disclose.limits import QueryRefused
from xinyong.problems import ProblemError
from xinyong.rights import revocation, service
from xinyong.rights.errors import Refused
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.access import audience_for, check
from xinyong.security.errors import SecurityError
from xinyong.security.principal import Principal
from xinyong.web.deps import client_ip, permission, runtime_of
from xinyong.web.params import MAX_ROW_ID, RowId

router = APIRouter(prefix="/api/v1", tags=["rights"])


class RevocationRequest(BaseModel):
    item: str = Field(min_length=1, max_length=16, description="目录事项代码，如 XZCF / catalogue item")
    source: str = Field(
        min_length=18, max_length=18, description="数据来源单位统一社会信用代码 / source USCC"
    )
    key: str = Field(
        min_length=1, max_length=256, description="文书号（如行政处罚决定书文号）/ the record's key"
    )
    revoked_on: dt.date | None = Field(default=None, description="决定被撤销的日期，默认今天 / day revoked")
    reason: str | None = Field(default=None, max_length=200, description="说明 / note")


class GrantRequest(BaseModel):
    organisation_uscc: str = Field(min_length=18, max_length=18, description="被授权机构的统一社会信用代码")
    purpose: str = Field(min_length=1, max_length=200, description="查询用途，查询时须一致")
    valid_until: dt.date = Field(description="授权截止日期（含）")
    valid_from: dt.date | None = Field(default=None, description="授权起始日期，默认今天")
    document_ref: str | None = Field(default=None, max_length=200, description="书面授权书编号")


def _own_subject(conn: sa.Connection, runtime: Runtime, principal: Principal, permission_name: str) -> int:
    subject_id = service.own_subject_id(conn, principal)
    if subject_id is None:
        raise QueryRefused(
            "rights.no_subject",
            "平台尚无您的信用主体信息，暂不能授权或查看查询记录",
            "The platform holds no information about you yet: nothing to authorise or to show",
            status=404,
        )
    audience = audience_for(conn, principal, subject_id=subject_id, clock=runtime.clock)
    check(principal, permission_name, audience=audience)
    return subject_id


@router.get("/me/authorisations", summary="My authorisations / 我的查询授权")
def my_authorisations(request: Request, principal: Principal = permission("authorisation.grant")) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        subject_id = _own_subject(conn, runtime, principal, "authorisation.grant")
        return {
            "authorisations": service.list_authorisations(conn, subject_id=subject_id, clock=runtime.clock)
        }


@router.post("/me/authorisations", status_code=201, summary="Authorise an organisation / 授权机构查询")
def grant_authorisation(
    body: GrantRequest, request: Request, principal: Principal = permission("authorisation.grant")
) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        subject_id = _own_subject(conn, runtime, principal, "authorisation.grant")
        try:
            granted = service.grant(
                conn,
                subject_id=subject_id,
                organisation_uscc=body.organisation_uscc,
                purpose=body.purpose,
                valid_until=body.valid_until,
                valid_from=body.valid_from,
                document_ref=body.document_ref,
                clock=runtime.clock,
                principal=principal,
            )
        except ProblemError as refusal:
            first = refusal.problems[0]
            return JSONResponse(
                {"detail": {**first.as_dict(), "problems": [p.as_dict() for p in refusal.problems]}},
                status_code=422,
            )
        audit.record(
            conn,
            principal=principal,
            action="authorisation.grant",
            clock=runtime.clock,
            object_type="authorisation",
            object_id=granted["id"],
            subject=audit.SubjectRef.of_subject(conn, subject_id),
            ip=client_ip(request),
            detail={"organisation": body.organisation_uscc, "valid_until": body.valid_until.isoformat()},
        )
    return granted


@router.post("/me/authorisations/{authorisation_id}/revoke", summary="Revoke an authorisation / 撤回授权")
def revoke_authorisation(
    authorisation_id: RowId, request: Request, principal: Principal = permission("authorisation.grant")
) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        subject_id = _own_subject(conn, runtime, principal, "authorisation.grant")
        if not service.revoke(
            conn,
            authorisation_id=authorisation_id,
            subject_id=subject_id,
            clock=runtime.clock,
            principal=principal,
        ):
            raise QueryRefused(
                "rights.not_found",
                f"没有编号为 {authorisation_id} 的有效授权",
                f"no active authorisation {authorisation_id} of yours",
                status=404,
            )
        audit.record(
            conn,
            principal=principal,
            action="authorisation.revoke",
            clock=runtime.clock,
            object_type="authorisation",
            object_id=authorisation_id,
            subject=audit.SubjectRef.of_subject(conn, subject_id),
            ip=client_ip(request),
        )
    return {"id": authorisation_id, "status": "revoked"}


Before = Annotated[
    int | None,
    Query(ge=1, le=MAX_ROW_ID, description="翻页：上一页最后一条的 id / page: the last id seen"),
]


@router.get("/me/queries", summary="Who queried my information / 我的信用信息被查询记录")
def my_queries(
    request: Request,
    before: Before = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    principal: Principal = permission("query_log.read"),
) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        subject_id = _own_subject(conn, runtime, principal, "query_log.read")
        return {"queries": service.queries_about(conn, subject_id=subject_id, limit=limit, before_id=before)}


@router.get("/subjects/{code}/queries", summary="Who queried a subject / 信用主体被查询记录")
def subject_queries(
    code: str,
    request: Request,
    before: Before = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    principal: Principal = permission("query_log.read"),
) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        try:
            subject_id = resolve_code(conn, code, runtime)
        except QueryRefused:
            record_not_found(
                runtime,
                principal,
                code,
                action="query_log.read",
                level=None,
                purpose=None,
                channel="api",
                ip=client_ip(request),
            )
            raise
        audience = audience_for(conn, principal, subject_id=subject_id, clock=runtime.clock)
        try:
            check(principal, "query_log.read", audience=audience)
        except SecurityError as refusal:
            refusal.context.update(subject_id=subject_id)
            raise
        if audience != "self":
            audit.record(
                conn,
                principal=principal,
                action="query_log.read",
                clock=runtime.clock,
                object_type="subject",
                object_id=subject_id,
                subject=audit.SubjectRef.of_subject(conn, subject_id),
                ip=client_ip(request),
            )
        return {"queries": service.queries_about(conn, subject_id=subject_id, limit=limit, before_id=before)}


@router.post(
    "/records/revocations",
    summary="Report a decision revoked: the record leaves public view / 报告决定已撤销",
    description=(
        "数据来源单位、转报该记录的归集系统或信用信息平台报告行政处罚（许可）决定已被撤销或变更："
        "记录立即停止公开，并按政策时限（工作日）计时。"
    ),
    responses={403: {"description": "not the record's source or forwarding system"}, 404: {}, 409: {}},
)
def revoke_record(
    body: RevocationRequest, request: Request, principal: Principal = permission("record.correct")
) -> Any:
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            return revocation.revoke(
                conn,
                runtime=runtime,
                principal=principal,
                item_code=body.item,
                source_uscc=body.source,
                source_key=body.key,
                revoked_on=body.revoked_on,
                reason=body.reason,
            )
    except Refused as refusal:
        return JSONResponse(refusal.body(), status_code=refusal.status)
