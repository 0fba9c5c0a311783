"""Batches in the JSON API: a provider's system uploads a file, polls the batch, downloads the feedback,
and lists the batches it sent (the credit office lists everyone's).

The submitter is the organisation of the token (or signed-in user); the credit office may name another
organisation (`submitter`) when it loads data for a provider without a system of its own. Which items a
provider may send is its feed declaration's business (collect/feeds.py): the service refuses an
undeclared item as a refused batch, which the API answers with 422 and the problems. Whose records the
submitter may write is checked row by row in the service (collect/ownership.py), the same check the command
line goes through: a row naming another department as its source is rejected, never loaded.
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
from xinyong.collect.auditing import record_submission
from xinyong.collect.service import BatchSummary, ingest
from xinyong.problems import Problem, ProblemError
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.access import check, organisation_reach
from xinyong.security.errors import AccessDenied, SecurityError
from xinyong.security.organisations import subtree
from xinyong.security.principal import Principal
from xinyong.web.deps import client_ip, permission, runtime_of
from xinyong.web.params import RowId

router = APIRouter(prefix="/api/v1", tags=["batches"])
_COPY_BLOCK = 1 << 20


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
    # Who may upload, and how much, was settled before the body was read (web.bodies.BodyGate).
    runtime = runtime_of(request)
    uscc = (submitter or principal.organisation_uscc or "").strip().upper()
    check(principal, "batch.submit", owner=uscc or None)
    if uscc != (principal.organisation_uscc or "").upper():
        _check_forwards_for(runtime, principal, uscc)
    name = Path(file.filename or "upload").name or "upload"
    # The reader tells formats by suffix: keep the upload's own (a harmless one), or the declared format's.
    suffix = f".{format}" if format else Path(name).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ".unknown"  # refused by the reader, as a refused batch naming the format
    fd, tmp = tempfile.mkstemp(prefix="xinyong-upload-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            while block := await file.read(_COPY_BLOCK):  # streamed: never the whole upload in memory
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
    await run_in_threadpool(_audit_submit, runtime, principal, summary, uscc, client_ip(request))
    body = summary.as_dict()
    if summary.status == "refused":
        return _problems(summary.problems, body)
    return JSONResponse(body, status_code=201, headers={"Location": f"/api/v1/batches/{summary.batch_id}"})


def _check_forwards_for(runtime: Runtime, principal: Principal, uscc: str) -> None:
    """A credit office loads for another organisation only if the tree places it below its own (it forwards
    for it, 汇集转报): a city system never loads as another city's department; the province's centre, at
    the top of the tree, may load for anyone."""
    with runtime.engine.connect() as conn:
        reach = subtree(conn, principal.organisation_uscc) if principal.organisation_uscc else {}
    if uscc not in reach:
        raise AccessDenied(
            Problem(
                "batch.submitter_not_below",
                f"报送单位 {uscc[:18]} 不在本单位的下级机构中，不能代其报送",
                f"The submitter {uscc[:18]} is not below your organisation in the tree: you cannot send "
                "for it",
            )
        )


@router.get("/batches", summary="The batches sent, newest first / 报送批次列表")
def list_batches(
    request: Request,
    item: Annotated[str | None, Query(max_length=16, description="目录事项代码 / catalogue item")] = None,
    submitter: Annotated[
        str | None, Query(max_length=18, description="报送单位 USCC (credit office only; default: all)")
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="上一页返回的 next / the previous page's next")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 / batches per page")] = 50,
    principal: Principal = permission("batch.status"),
) -> dict[str, Any]:
    """A provider sees the batches its own organisation sent; the credit office (and the administrator,
    who watches that collection runs) sees every organisation's, or one's with `submitter`."""
    own = organisation_reach(principal, "batch.status")
    wanted = submitter.strip().upper() if submitter else None
    if own is not None and wanted not in (None, own):
        check(principal, "batch.status", owner=wanted)  # a provider naming another organisation: 403
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        page = queries.list_batches(
            conn,
            submitter_uscc=own or wanted,
            item=item.strip().upper() if item else None,
            before=before,
            limit=limit,
        )
        # Who sent what is not public: every listing is on the record, like every other batch access.
        audit.record(
            conn,
            principal=principal,
            action="batch.list",
            clock=runtime.clock,
            object_type="batch",
            ip=client_ip(request),
            detail={"submitter": own or wanted, "item": item, "before": before, "shown": len(page.items)},
        )
    return {
        "items": [
            {**b, "created_at": b["created_at"].isoformat() if b["created_at"] else None} for b in page.items
        ],
        "next": page.next_cursor,
        "total": page.total,
    }


@router.get("/batches/{batch_id}", summary="A batch's status and counts / 批次状态与数量")
def get_batch(
    batch_id: RowId, request: Request, principal: Principal = permission("batch.status")
) -> dict[str, Any]:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        view = queries.batch_view(conn, batch_id)
        if view is not None:
            _check_batch(principal, "batch.status", view["submitter"]["uscc"], batch_id)
        # Every look at a batch is on the record, found or not (a refusal is recorded where it is answered).
        audit.record(
            conn,
            principal=principal,
            action="batch.status",
            clock=runtime.clock,
            object_type="batch",
            object_id=batch_id,
            ip=client_ip(request),
            outcome="ok" if view is not None else "failed",
            detail=None if view is not None else {"found": False},
        )
    if view is None:
        raise _not_found(batch_id)
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
    batch_id: RowId,
    request: Request,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv | xlsx")] = "xlsx",
    lang: Annotated[
        Literal["zh", "en"], Query(description="问题说明的语言 / language of the reasons")
    ] = "zh",
    open_only: Annotated[bool, Query(description="only rows not yet corrected by a later batch")] = False,
    principal: Principal = permission("batch.read"),
) -> Response:
    runtime = runtime_of(request)
    built = None
    with runtime.engine.begin() as conn:
        owner = queries.batch_submitter(conn, batch_id)
        if owner is not None:
            _check_batch(principal, "batch.read", owner, batch_id)
            built = feedback.build_feedback(
                conn, batch_id, runtime, lang=lang, status="open" if open_only else None
            )
        # The file shows personal ID numbers in clear: who took it is on the record (and who asked in vain).
        audit.record(
            conn,
            principal=principal,
            action="batch.errors",
            clock=runtime.clock,
            object_type="batch",
            object_id=batch_id,
            ip=client_ip(request),
            outcome="ok" if built is not None else "failed",
            detail={"format": format, "rows": len(built.rows)} if built is not None else {"found": False},
        )
    if built is None:
        raise _not_found(batch_id)
    name = f"{built.filename_stem}.{format}"
    return Response(
        feedback.render(built, format),
        media_type=feedback.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _audit_submit(
    runtime: Runtime, principal: Principal, summary: BatchSummary, submitter: str, ip: str | None
) -> None:
    with runtime.engine.begin() as conn:
        record_submission(
            conn, principal=principal, summary=summary, submitter=submitter, clock=runtime.clock, ip=ip
        )


def _check_batch(principal: Principal, permission: str, owner: str, batch_id: int) -> None:
    try:
        check(principal, permission, owner=owner)
    except SecurityError as refusal:
        refusal.context.update(object_type="batch", object_id=batch_id)
        raise


def _problems(problems: list[Problem], body: dict[str, Any] | None = None) -> JSONResponse:
    listed = [p.as_dict() for p in problems]
    return JSONResponse({**(body or {}), "detail": listed[0] if listed else None, "problems": listed}, 422)


def _not_found(batch_id: int) -> HTTPException:
    return HTTPException(status_code=404, detail=feedback.not_found(batch_id).as_dict())
