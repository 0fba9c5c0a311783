"""Objections and credit repair in the API: the same service functions as the CLI and the pages.

POST /api/v1/objections                        file one (multipart: record_id, reason, kind, subject?, files)
GET  /api/v1/me/applications                   the signed-in subject's objections and repair applications
GET  /api/v1/objections/{id}                   one objection (its subject, the platform, the department)
POST /api/v1/objections/{id}/forward           the platform forwards it to the record's source department
POST /api/v1/objections/{id}/decision          upheld | corrected (values) | removed, with a reason
GET  /api/v1/records/{id}/repair-eligibility   may this record be repaired today, and what is missing
POST /api/v1/repairs                           apply (multipart: record_id, commitment, paid, rectified, …)
GET  /api/v1/repairs/{id}                      one application
POST /api/v1/repairs/{id}/decision             approve or refuse, with a reason
GET  /api/v1/tasks?view=                       the caller's 待办 queue (the platform's, or its department's)
GET  /api/v1/me/inbox                          the caller's notifications; POST …/{id}/read marks one read
GET  /api/v1/me/contact                        the address the caller's notifications are mailed to
PUT  /api/v1/me/contact                        {email} sets it (empty clears it), as the 通知邮箱 page does

Who may act on which record is decided by the service functions (the record's subject files and applies;
only the platform forwards; only the platform or the record's source decides); each refusal answers with
its problem code and status. Every change delivers the notifications its events call for, in the same
transaction, and pending e-mails go out after the commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xinyong import deadlines
from xinyong.clock import CHINA
from xinyong.deadlines import Owner
from xinyong.disclose.limits import QueryRefused
from xinyong.problems import ProblemError
from xinyong.rights import applications, notify
from xinyong.rights import attachments as files
from xinyong.rights import objections as objection_flow
from xinyong.rights import repair as repair_flow
from xinyong.rights.errors import Refused
from xinyong.rights.outbound import SmtpEmail
from xinyong.rights.service import own_subject_id
from xinyong.runtime import Runtime
from xinyong.security.errors import SecurityError
from xinyong.security.principal import Principal
from xinyong.web.deps import permission, runtime_of
from xinyong.web.params import MAX_ROW_ID, RowId

router = APIRouter(prefix="/api/v1", tags=["rights"])


class ObjectionDecision(BaseModel):
    outcome: str = Field(description="upheld（维持）| corrected（更正）| removed（撤销）| moved（移交）")
    reason: str = Field(min_length=1, max_length=2000, description="处理理由，将告知申请人")
    values: dict[str, str | None] = Field(
        default_factory=dict, description="更正后的字段值 / corrected values"
    )
    to_subject: str | None = Field(
        default=None,
        max_length=64,
        description="moved：记录真正所属主体的代码 / the subject a not_mine record is about",
    )


class ContactBody(BaseModel):
    email: str = Field(
        default="",
        max_length=notify.EMAIL_MAX * 2,
        description="通知邮箱；留空则不再发邮件 / empty: no e-mail",
    )


class RepairDecision(BaseModel):
    approve: bool = Field(description="true 准予修复 / false 不予修复")
    reason: str = Field(min_length=1, max_length=2000, description="决定理由，将告知申请人")


# ------------------------------------------------------------------------------------- one transaction


def act(
    request: Request,
    work: Callable[[sa.Connection, Runtime], Any],
    *,
    status: int = 200,
    changes: bool = True,
) -> Any:
    """Run one step in a transaction with the notifications it calls for; a refusal changes nothing and
    answers with its problem; pending e-mails are handed to the adapter after the commit."""
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            answer = work(conn, runtime)
            if changes:
                notify.deliver(conn, clock=runtime.clock)
    except SecurityError:
        raise  # 403 with its bilingual message (the app's handler)
    except Refused as refusal:
        return JSONResponse(refusal.body(), status_code=refusal.status)
    except ProblemError as problem:  # validation of a correction (collection's rules) and the like
        first = problem.problems[0]
        body = {"detail": {**first.as_dict(), "problems": [p.as_dict() for p in problem.problems]}}
        return JSONResponse(body, status_code=422)
    if changes:
        send_mail(request)
    return JSONResponse(answer, status_code=status) if status != 200 else answer


def send_mail(request: Request) -> None:
    runtime = runtime_of(request)
    sender = getattr(request.app.state, "email", None) or SmtpEmail.from_settings(runtime.settings.extra)
    notify.send_pending(runtime.engine, sender, clock=runtime.clock)


@contextmanager
def uploaded(uploads: list[UploadFile]) -> Iterator[list[tuple[Path, str]]]:
    """The uploads as temporary files (the attachment store checks type and size from the file)."""
    with tempfile.TemporaryDirectory(prefix="xinyong-upload-") as folder:
        kept = []
        for n, upload in enumerate(uploads):
            if not upload.filename:
                continue
            path = Path(folder) / str(n)
            with path.open("wb") as out:
                while chunk := upload.file.read(1 << 20):
                    out.write(chunk)
            kept.append((path, upload.filename))
        yield kept


def store_files(
    conn: sa.Connection,
    runtime: Runtime,
    principal: Principal,
    kept: list[tuple[Path, str]],
    material: str | None,
) -> list[int]:
    return [
        files.store_for(conn, runtime, principal, path, filename=name, material=material)
        for path, name in kept
    ]


# ------------------------------------------------------------------------------------------ objections


@router.post("/objections", status_code=201, summary="File an objection / 提出异议")
def file_objection(
    request: Request,
    record_id: Annotated[int, Form(ge=1, le=MAX_ROW_ID, description="信用记录编号")],
    reason: Annotated[str, Form(max_length=2000, description="异议理由")],
    kind: Annotated[str, Form(description="wrong | incomplete | not_mine | unlawful")] = "wrong",
    subject: Annotated[str | None, Form(max_length=64, description="服务窗口代办：信用主体代码")] = None,
    attachments: Annotated[list[UploadFile] | None, File(description="PDF/JPG/PNG")] = None,
    principal: Principal = permission("objection.file"),
) -> Any:
    with uploaded(attachments or []) as kept:

        def work(conn: sa.Connection, runtime: Runtime) -> Any:
            ids = store_files(conn, runtime, principal, kept, "evidence")
            return objection_flow.file_objection(
                conn,
                runtime=runtime,
                principal=principal,
                record_id=record_id,
                reason=reason,
                kind=kind,
                subject=subject,
                attachment_ids=tuple(ids),
            )

        return act(request, work, status=201)


@router.get("/me/applications", summary="My objections and repair applications / 我的申请")
def my_applications(request: Request, principal: Principal = permission("application.read")) -> Any:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        subject_id = own_subject_id(conn, principal)
        if subject_id is None:
            raise QueryRefused(
                "rights.no_subject",
                "平台尚无您的信用主体信息",
                "The platform holds no information about you",
                status=404,
            )
        return applications.of_subject(conn, subject_id)


@router.get("/objections/{objection_id}", summary="One objection / 异议详情")
def show_objection(
    objection_id: RowId, request: Request, principal: Principal = permission("application.read")
) -> Any:
    return act(
        request,
        lambda conn, runtime: applications.readable(
            conn, principal, objection_flow.show(conn, objection_id=objection_id), clock=runtime.clock
        ),
        changes=False,
    )


@router.post("/objections/{objection_id}/forward", summary="Forward to the source department / 转交核查")
def forward_objection(
    objection_id: RowId, request: Request, principal: Principal = permission("objection.handle")
) -> Any:
    return act(
        request,
        lambda conn, runtime: objection_flow.forward(
            conn, runtime=runtime, principal=principal, objection_id=objection_id
        ),
    )


@router.post("/objections/{objection_id}/decision", summary="Decide an objection / 异议处理决定")
def decide_objection(
    objection_id: RowId,
    body: ObjectionDecision,
    request: Request,
    principal: Principal = permission("objection.handle"),
) -> Any:
    return act(
        request,
        lambda conn, runtime: objection_flow.decide(
            conn,
            runtime=runtime,
            principal=principal,
            objection_id=objection_id,
            outcome=body.outcome,
            reason=body.reason,
            values=body.values,
            to_subject=body.to_subject,
        ),
    )


# ---------------------------------------------------------------------------------------------- repair


@router.get("/records/{record_id}/repair-eligibility", summary="May it be repaired? / 信用修复条件")
def repair_eligibility(
    record_id: RowId, request: Request, principal: Principal = permission("repair.apply")
) -> Any:
    return act(request, lambda conn, runtime: eligibility(conn, runtime, principal, record_id), changes=False)


def eligibility(
    conn: sa.Connection, runtime: Runtime, principal: Principal, record_id: int
) -> dict[str, Any]:
    """The eligibility answer for a record the principal may apply for (its own, or at the counter)."""
    from xinyong.rights import records as rec
    from xinyong.rights.actors import acting_subject

    record = rec.require_record(conn, record_id)
    acting_subject(conn, runtime, principal, record=record, subject_code=None)
    today = runtime.clock.now().astimezone(CHINA).date()
    return repair_flow.check(conn, record_id=record_id, as_of=today).as_dict()


@router.post("/repairs", status_code=201, summary="Apply for credit repair, free / 申请信用修复（免费）")
def apply_repair(
    request: Request,
    record_id: Annotated[int, Form(ge=1, le=MAX_ROW_ID, description="信用记录编号")],
    commitment: Annotated[bool, Form(description="已签署信用承诺书")] = False,
    paid: Annotated[bool, Form(description="罚款已缴清")] = False,
    rectified: Annotated[bool, Form(description="已整改")] = False,
    to_source: Annotated[bool, Form(description="向作出决定的部门申请")] = False,
    subject: Annotated[str | None, Form(max_length=64, description="服务窗口代办：信用主体代码")] = None,
    proof: Annotated[list[UploadFile] | None, File(description="履行义务的证明 PDF/JPG/PNG")] = None,
    principal: Principal = permission("repair.apply"),
) -> Any:
    with uploaded(proof or []) as kept:

        def work(conn: sa.Connection, runtime: Runtime) -> Any:
            ids = store_files(conn, runtime, principal, kept, "proof_of_performance")
            attached = {"proof_of_performance": ids} if ids else {}
            return repair_flow.apply(
                conn,
                runtime=runtime,
                principal=principal,
                record_id=record_id,
                materials=repair_flow.Materials(
                    commitment=commitment, paid=paid, rectified=rectified, attached=attached
                ),
                subject=subject,
                to_source=to_source,
            )

        return act(request, work, status=201)


@router.get("/repairs/{application_id}", summary="One repair application / 信用修复申请详情")
def show_repair(
    application_id: RowId, request: Request, principal: Principal = permission("application.read")
) -> Any:
    return act(
        request,
        lambda conn, runtime: applications.readable(
            conn, principal, repair_flow.show(conn, application_id=application_id), clock=runtime.clock
        ),
        changes=False,
    )


@router.post("/repairs/{application_id}/decision", summary="Approve or refuse / 信用修复决定")
def decide_repair(
    application_id: RowId,
    body: RepairDecision,
    request: Request,
    principal: Principal = permission("repair.decide"),
) -> Any:
    return act(
        request,
        lambda conn, runtime: repair_flow.decide(
            conn,
            runtime=runtime,
            principal=principal,
            application_id=application_id,
            approve=body.approve,
            reason=body.reason,
        ),
    )


# -------------------------------------------------------------------------------------- queue and inbox


@router.get("/tasks", summary="My queue / 待办")
def my_tasks(
    request: Request,
    view: Annotated[str, Query(max_length=16, description="due_today | overdue | done | open")] = "open",
    principal: Principal = permission("objection.handle"),
) -> Any:
    def work(conn: sa.Connection, runtime: Runtime) -> Any:
        return {"tasks": [t.as_dict() for t in queue(conn, runtime, principal, view)]}

    return act(request, work, changes=False)


def queue(conn: sa.Connection, runtime: Runtime, principal: Principal, view: str) -> list[deadlines.Task]:
    party = applications.party_of(conn, principal)
    if party is None or party.kind == "subject":
        return []
    owner = Owner.platform() if party.kind == "platform" else Owner.organisation(party.key)
    today = runtime.clock.now().astimezone(CHINA).date()
    return deadlines.tasks_for(conn, owner=owner, view=view, as_of=today)  # type: ignore[arg-type]


@router.get("/me/inbox", summary="My notifications / 站内消息")
def my_inbox(request: Request, principal: Principal = permission("inbox.read")) -> Any:
    def work(conn: sa.Connection, runtime: Runtime) -> Any:
        party = applications.party_of(conn, principal)
        return {"notifications": notify.inbox(conn, party) if party else []}

    return act(request, work, changes=False)


@router.get("/me/contact", summary="My notification address / 我的通知邮箱")
def my_contact(request: Request, principal: Principal = permission("inbox.read")) -> Any:
    def work(conn: sa.Connection, runtime: Runtime) -> Any:
        return {"email": applications.contact_of(conn, applications.party_of(conn, principal))}

    return act(request, work, changes=False)


@router.put("/me/contact", summary="Set my notification address / 设置通知邮箱")
def set_my_contact(
    body: ContactBody, request: Request, principal: Principal = permission("inbox.read")
) -> Any:
    def work(conn: sa.Connection, runtime: Runtime) -> Any:
        party = applications.party_of(conn, principal)
        saved = applications.save_contact(
            conn, party, email=body.email, clock=runtime.clock, principal=principal
        )
        return {"email": saved}

    return act(request, work)


@router.post("/me/inbox/{notification_id}/read", summary="Mark read / 标为已读")
def read_notification(
    notification_id: RowId, request: Request, principal: Principal = permission("inbox.read")
) -> Any:
    def work(conn: sa.Connection, runtime: Runtime) -> Any:
        party = applications.party_of(conn, principal)
        if party is None or not notify.mark_read(conn, party, notification_id, clock=runtime.clock):
            raise Refused.one(
                "inbox.not_found",
                f"没有编号为 {notification_id} 的未读消息",
                f"no unread notification {notification_id} of yours",
                status=404,
            )
        return {"id": notification_id, "read": True}

    return act(request, work)
