"""The application chapter in the API: the check at the service window (逢办必查), its feedback, the pull
feed, and the public list of current entries (名单公示).

POST /api/v1/checks                  {subject, matter} → the subject's current lists and the measures;
                                     {name, division, matter} → candidates, why each matched, no measures
POST /api/v1/checks/batch            multipart file (CSV/XLSX) + matter → an XLSX, one row per input line
POST /api/v1/checks/{id}/feedback    {measure, applied, reason?, case_ref?} → stored (the checking org only)
GET  /api/v1/feed?after=CURSOR       the events the caller's organisation subscribed to, oldest first
GET  /api/v1/lists                   current red and black list entries (public), filters, ?format=csv
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from xinyong.apply import batch, candidates, flows, queries, service
from xinyong.apply.errors import Refused
from xinyong.disclose import export
from xinyong.disclose.limits import QueryRefused
from xinyong.security import audit
from xinyong.security.principal import Principal
from xinyong.web.deps import permission, runtime_of
from xinyong.web.params import RowId

router = APIRouter(prefix="/api/v1", tags=["apply"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class CheckRequest(BaseModel):
    subject: str | None = Field(
        default=None, min_length=1, max_length=64, description="信用主体任一代码（统一社会信用代码等）"
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="无代码时按名称核查（须同时给出 division）：返回候选主体，不返回措施",
    )
    division: str | None = Field(
        default=None, min_length=1, max_length=6, description="按名称核查时的六位行政区划代码，如 420100"
    )
    matter: str = Field(min_length=1, max_length=16, description="业务事项代码，如 ZFCG（政府采购）")


class FeedbackRequest(BaseModel):
    measure: str = Field(min_length=1, max_length=32, description="措施代码 / measure code")
    applied: bool = Field(description="是否采取该措施 / whether the measure was applied")
    reason: str | None = Field(default=None, max_length=2000, description="说明，未采取时必填 / why")
    case_ref: str | None = Field(default=None, max_length=100, description="本单位案件编号 / case reference")


def _refused(exc: Refused | QueryRefused) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


@router.post(
    "/checks",
    summary="Check a subject for a business matter / 逢办必查",
    description="返回信用主体当前的红黑名单条目、该业务事项适用的奖惩措施（依据、是否必须）以及核查编号。"
    "只给名称与行政区划代码时，返回候选主体及匹配原因，不返回措施。",
    responses={404: {"description": "no such subject"}, 422: {"description": "unknown matter"}},
)
def post_check(body: CheckRequest, request: Request, principal: Principal = permission("apply.check")) -> Any:
    runtime = runtime_of(request)
    try:
        if body.subject is not None:  # an exact identifier short-circuits the name
            with runtime.engine.begin() as conn:
                return flows.check(conn, runtime, code=body.subject, matter=body.matter, principal=principal)
        if body.name is not None:
            with runtime.engine.connect() as conn:
                return candidates.candidates(
                    conn, runtime, name=body.name, division=body.division, matter=body.matter
                )
        raise Refused.one(
            "check.subject_missing",
            "请给出信用主体的代码（subject），或名称（name）与行政区划代码（division）",
            "give the subject's identifier (subject), or its name (name) with a division code (division)",
            field="subject",
        )
    except (Refused, QueryRefused) as exc:
        return _refused(exc)


@router.post(
    "/checks/batch",
    summary="Check a file of subjects for a business matter / 批量核查",
    description="上传 CSV 或 XLSX（每行一个主体：代码，或名称与行政区划代码；"
    "最多 lists.check_batch_max_rows 行），"
    "返回 XLSX：每行的输入、核查到的主体、名单、措施、是否有强制措施、核查编号，未能核查的行注明原因。"
    "摘要在响应头 X-Xinyong-Batch-Summary（JSON）中。",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "one row per input line"},
        422: {"description": "not a CSV/XLSX, unreadable, no subject column, too many rows, unknown matter"},
    },
)
async def post_check_batch(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV / XLSX: 代码, 或 名称 + 行政区划")],
    matter: Annotated[str, Form(min_length=1, max_length=16, description="业务事项代码，如 ZBTB")],
    principal: Principal = permission("apply.check"),
) -> Any:
    runtime = runtime_of(request)
    name = Path(file.filename or "upload").name or "upload"
    suffix = Path(name).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ".unknown"  # refused by the batch check, naming the formats it takes
    fd, tmp = tempfile.mkstemp(prefix="xinyong-check-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            while block := await file.read(1 << 20):  # streamed: never the whole upload in memory
                await run_in_threadpool(out.write, block)
        try:
            result = await run_in_threadpool(_check_batch, runtime, Path(tmp), name, matter, principal)
        except (Refused, QueryRefused) as exc:
            return _refused(exc)
    finally:
        await file.close()
        Path(tmp).unlink(missing_ok=True)
    summary = json.dumps(result.summary, ensure_ascii=True, separators=(",", ":"))
    return Response(
        result.xlsx,
        media_type=XLSX,
        headers=export.attachment(f"核查结果-{Path(name).stem[:60] or 'batch'}.xlsx")
        | {"X-Xinyong-Batch-Summary": summary},
    )


def _check_batch(runtime: Any, path: Path, name: str, matter: str, principal: Principal) -> Any:
    with runtime.engine.begin() as conn:
        return batch.check_file(conn, runtime, path=path, filename=name, matter=matter, principal=principal)


@router.post(
    "/checks/{check_id}/feedback",
    status_code=201,
    summary="Report what was done with a check's measure / 措施落实反馈",
    responses={403: {"description": "not the checking organisation"}, 404: {}, 409: {}},
)
def post_feedback(
    check_id: RowId,
    body: FeedbackRequest,
    request: Request,
    principal: Principal = permission("apply.feedback"),
) -> Any:
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            return service.add_feedback(
                conn,
                check_id=check_id,
                measure=body.measure,
                applied=body.applied,
                reason=body.reason,
                case_ref=body.case_ref,
                principal=principal,
                clock=runtime.clock,
            )
    except Refused as exc:
        return _refused(exc)


@router.get("/feed", summary="Events for my organisation's subscriptions / 订阅事件（拉取）")
def get_feed(
    request: Request,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="上次读到的事件编号 / the last event id seen")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    principal: Principal = permission("push.feed"),
) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        answer = service.feed(conn, org_uscc=principal.organisation_uscc, after=after, limit=limit)
        if answer["events"]:  # events name subjects and records shared for duties: every read is audited
            audit.record(
                conn,
                principal=principal,
                action="push.feed",
                clock=runtime.clock,
                detail={"after": after, "events": [e["id"] for e in answer["events"]]},
            )
        return answer


@router.get("/lists", summary="Current red and black list entries / 名单公示")
def get_lists(
    request: Request,
    list_type: Annotated[str | None, Query(alias="type", max_length=32, description="名单类型代码")] = None,
    kind: Annotated[str | None, Query(pattern="^(red|black)$", description="red | black")] = None,
    q: Annotated[
        str | None, Query(max_length=64, description="名称或代码包含 / name or code contains")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    _: Principal = permission("portal.view"),
) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        rows = queries.public_entries(
            conn,
            on=service.today(runtime.clock),
            list_type=list_type,
            kind=kind,
            q=q,
            limit=limit,
            offset=offset,
        )
    if format == "csv":
        return Response(
            queries.entries_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers=export.attachment("名单公示.csv"),
        )
    return {"items": rows, "limit": limit, "offset": offset}
