"""Batches in the JSON API: a provider's system uploads a file, polls the batch, downloads the feedback.

The submitter is the organisation of the token (or signed-in user); the credit office may name another
organisation (`submitter`) when it loads data for a provider without a system of its own. Which items a
provider may send is its feed declaration's business (collect/feeds.py): the service refuses an
undeclared item as a refused batch, which the API answers with 422 and the problems.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from xinyong.collect import feedback, queries
from xinyong.collect.service import ingest
from xinyong.problems import Problem, ProblemError
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.access import check
from xinyong.security.principal import Principal
from xinyong.web.deps import client_ip, permission, runtime_of

router = APIRouter(prefix="/api/v1", tags=["batches"])
_COPY_BLOCK = 1 << 20
# A province's biggest monthly export is a few hundred MB; anything larger is a mistake or an attack.
DEFAULT_UPLOAD_MAX_MB = 512


def upload_limit() -> int:
    return int(os.environ.get("XINYONG_UPLOAD_MAX_MB", DEFAULT_UPLOAD_MAX_MB)) << 20


def _too_large(limit: int) -> HTTPException:
    mb = limit >> 20
    return HTTPException(
        status_code=413,
        detail={
            "code": "batch.too_large",
            "message_zh": f"上传文件超过 {mb} MB 上限：请按月份或地区拆分后分批报送",
            "message_en": f"The upload exceeds the {mb} MB limit: "
            "split it by month or region and send the parts",
        },
    )


@router.post(
    "/batches",
    status_code=201,
    summary="Upload a provider's file for one catalogue item / 上传报送文件",
    responses={422: {"description": "the file was refused, or the item or submitter is unknown"}},
)
async def submit_batch(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV / xlsx / xls / json / jsonl")],
    item: Annotated[str, Form(description="目录事项代码 / catalogue item, e.g. XZCF")],
    format: Annotated[
        Literal["csv", "xlsx", "xls", "json", "jsonl"] | None,
        Form(description="default: from the file name"),
    ] = None,
    sheet: Annotated[str | None, Form(description="Excel 工作表名称 / sheet name")] = None,
    header_row: Annotated[
        int | None,
        Form(
            ge=1,
            description="表头所在行号 / the row holding the headers (default: found among the first rows)",
        ),
    ] = None,
    submitter: Annotated[
        str | None, Form(description="报送单位 USCC (credit office only; default: your organisation)")
    ] = None,
    principal: Principal = permission("batch.submit"),
) -> Any:
    runtime = runtime_of(request)
    limit = upload_limit()
    if int(request.headers.get("content-length") or 0) > limit + _COPY_BLOCK:  # form fields add a little
        raise _too_large(limit)
    uscc = (submitter or principal.organisation_uscc or "").strip().upper()
    check(principal, "batch.submit", owner=uscc or None)
    name = Path(file.filename or "upload").name or "upload"
    # The reader tells formats by suffix: keep the upload's own (a harmless one), or the declared format's.
    suffix = f".{format}" if format else Path(name).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ".unknown"  # refused by the reader, as a refused batch naming the format
    fd, tmp = tempfile.mkstemp(prefix="xinyong-upload-", suffix=suffix)
    try:
        written = 0
        with os.fdopen(fd, "wb") as out:
            while block := await file.read(_COPY_BLOCK):  # streamed: never the whole upload in memory
                written += len(block)
                if written > limit:  # a client that lied about (or omitted) its length
                    raise _too_large(limit)
                await run_in_threadpool(out.write, block)
        try:
            summary = await run_in_threadpool(
                ingest,
                runtime,
                path=Path(tmp),
                item_code=item.strip().upper(),
                submitter_uscc=uscc,
                filename=name,
                fmt=format,
                sheet=sheet,
                header_row=header_row,
            )
        except ProblemError as exc:
            return _problems(exc.problems)
    finally:
        await file.close()
        Path(tmp).unlink(missing_ok=True)
    await run_in_threadpool(_audit_submit, runtime, principal, summary.as_dict(), client_ip(request))
    body = summary.as_dict()
    if summary.status == "refused":
        return _problems(summary.problems, body)
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/batches/{summary.batch_id}"})


@router.get("/batches/{batch_id}", summary="A batch's status and counts / 批次状态与数量")
def get_batch(
    batch_id: int, request: Request, principal: Principal = permission("batch.status")
) -> dict[str, Any]:
    runtime = runtime_of(request)
    with runtime.engine.connect() as conn:
        view = queries.batch_view(conn, batch_id)
    if view is None:
        raise _not_found(batch_id)
    check(principal, "batch.status", owner=view["submitter"]["uscc"])
    return {
        **view,
        "created_at": view["created_at"].isoformat() if view["created_at"] else None,
        "finished_at": view["finished_at"].isoformat() if view["finished_at"] else None,
    }


@router.get(
    "/batches/{batch_id}/errors",
    summary="问题数据反馈: the rejected rows with reasons, as CSV or XLSX / 下载问题数据反馈",
    response_class=Response,
)
def get_batch_errors(
    batch_id: int,
    request: Request,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv | xlsx")] = "xlsx",
    lang: Annotated[
        Literal["zh", "en"], Query(description="问题说明的语言 / language of the reasons")
    ] = "zh",
    open_only: Annotated[bool, Query(description="only rows not yet corrected by a later batch")] = False,
    principal: Principal = permission("batch.read"),
) -> Response:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        owner = queries.batch_submitter(conn, batch_id)
        if owner is None:
            raise _not_found(batch_id)
        check(principal, "batch.read", owner=owner)
        built = feedback.build_feedback(
            conn, batch_id, runtime, lang=lang, status="open" if open_only else None
        )
        # The file shows personal ID numbers in clear: who took it is on the record.
        audit.record(
            conn,
            principal=principal,
            action="batch.errors",
            clock=runtime.clock,
            object_type="batch",
            object_id=batch_id,
            ip=client_ip(request),
            detail={"format": format, "rows": len(built.rows)},
        )
    name = f"{built.filename_stem}.{format}"
    return Response(
        feedback.render(built, format),
        media_type=feedback.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _audit_submit(runtime: Runtime, principal: Principal, summary: dict[str, Any], ip: str | None) -> None:
    with runtime.engine.begin() as conn:
        audit.record(
            conn,
            principal=principal,
            action="batch.submit",
            clock=runtime.clock,
            object_type="batch",
            object_id=summary["batch_id"],
            ip=ip,
            detail={
                "item": summary["item"],
                "status": summary["status"],
                "received": summary["received"],
                "rejected": summary["rejected"],
            },
        )


def _problems(problems: list[Problem], body: dict[str, Any] | None = None) -> JSONResponse:
    listed = [p.as_dict() for p in problems]
    return JSONResponse({**(body or {}), "detail": listed[0] if listed else None, "problems": listed}, 422)


def _not_found(batch_id: int) -> HTTPException:
    return HTTPException(status_code=404, detail=feedback.not_found(batch_id).as_dict())
