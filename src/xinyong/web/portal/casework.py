"""The subject's and the clerks' pages of 权益保护, over the same service functions as the CLI and the API.

    GET  /me/credit                      我的信用信息: every own record, its state and marks, the buttons
    GET  /me/records/{id}/object         the objection form
    POST /me/records/{id}/object         file it (multipart, CSRF field)
    GET  /me/records/{id}/repair         the eligibility answer, then the application form if eligible
    POST /me/records/{id}/repair         apply
    GET  /me/applications                我的申请: each objection's and application's steps, due days, outcome
    GET  /inbox                          站内消息 of the signed-in party
    GET  /me/contact                     通知邮箱: the address the party's notifications are mailed to
    POST /me/contact                     set or clear it (CSRF field)
    GET  /tasks                          待办: the platform's or the department's open tasks, overdue in red
    POST /tasks/objections/{id}/forward  the platform forwards
    POST /tasks/objections/{id}/decide   upheld / corrected (FIELD=VALUE lines) / removed
    POST /tasks/repairs/{id}/decide      approve / refuse

Every form carries the session's CSRF token (checked by the permission dependency before the handler
runs). A refusal shows its bilingual message on the page, with its HTTP status; nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from xinyong.clock import CHINA
from xinyong.disclose.service import disclose
from xinyong.disclose.views import catalog_of, policy_of
from xinyong.problems import ProblemError
from xinyong.rights import applications, notify
from xinyong.rights import objections as objection_flow
from xinyong.rights import records as rec
from xinyong.rights import repair as repair_flow
from xinyong.rights.actors import acting_subject, is_platform
from xinyong.rights.casework_views import eligibility, queue, send_mail, store_files, uploaded
from xinyong.rights.errors import Refused
from xinyong.rights.service import own_subject_id
from xinyong.runtime import Runtime
from xinyong.security.errors import SecurityError
from xinyong.security.principal import Principal
from xinyong.security.sessions import csrf_token
from xinyong.web.deps import CSRF_FIELD, permission, runtime_of
from xinyong.web.params import RowId
from xinyong.web.portal.i18n import language, t
from xinyong.web.portal.views import render

router = APIRouter(include_in_schema=False)
ADVERSE = ("不良", "严重失信")


def _page(request: Request, template: str, title_key: str, status: int = 200, **context: Any) -> HTMLResponse:
    token = getattr(request.state, "session_token", None)
    return render(
        request,
        template,
        status=status,
        title=t(title_key, language(request)),
        csrf_field=CSRF_FIELD,
        csrf=csrf_token(token) if token else "",
        today=runtime_of(request).clock.now().astimezone(CHINA).date(),
        **context,
    )


def _refused(request: Request, problem: ProblemError, status: int) -> HTMLResponse:
    lang = language(request)
    return render(
        request,
        "portal/error.html",
        status=status,
        title=t("refused", lang),
        message="；".join(p.message(lang) for p in problem.problems),
    )


def _change(request: Request, work: Callable[[sa.Connection, Runtime], Any], then: str) -> Response:
    """One step in one transaction with its notifications, then back to `then` (303), or the refusal."""
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            work(conn, runtime)
            notify.deliver(conn, clock=runtime.clock)
    except SecurityError:
        raise
    except Refused as refusal:
        return _refused(request, refusal, refusal.status)
    except ProblemError as problem:
        return _refused(request, problem, 422)
    send_mail(request)
    return RedirectResponse(then, status_code=303)


def _own(conn: sa.Connection, principal: Principal) -> int:
    subject_id = own_subject_id(conn, principal) if principal.role == "subject" else None
    if subject_id is None:
        raise Refused.one(
            "rights.no_subject",
            "本页面供信用主体本人使用；平台尚无您的信用主体信息",
            "this page is for a credit subject itself; the platform holds no information about you",
            status=404,
        )
    return subject_id


# --------------------------------------------------------------------------------------- the subject


@router.get("/me/credit")
def my_credit(request: Request, principal: Principal = permission("application.read")) -> HTMLResponse:
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            subject_id = _own(conn, principal)
            result = disclose(
                conn,
                subject_id=subject_id,
                audience="self",
                clock=runtime.clock,
                catalog=catalog_of(request),
                policy=policy_of(request),
                level="authorised",
            )
    except Refused as refusal:
        return _refused(request, refusal, refusal.status)
    catalog = catalog_of(request)
    groups = [(catalog.item(code), rows) for code, rows in result.by_item().items()]
    free = int(policy_of(request).self_query.free_reports_per_year.value)
    return _page(
        request,
        "portal/me_credit.html",
        "my_credit",
        result=result,
        groups=groups,
        adverse=ADVERSE,
        free_reports=free,
    )


@router.get("/me/records/{record_id}/object")
def objection_form(
    record_id: RowId, request: Request, principal: Principal = permission("objection.file")
) -> HTMLResponse:
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            record = rec.require_record(conn, record_id)
            acting_subject(conn, runtime, principal, record=record, subject_code=None)
    except Refused as refusal:
        return _refused(request, refusal, refusal.status)
    return _page(
        request, "portal/object_form.html", "object", record=record, kinds=objection_flow.KIND_LABELS
    )


@router.post("/me/records/{record_id}/object")
def file_objection(
    record_id: RowId,
    request: Request,
    reason: Annotated[str, Form(max_length=2000)] = "",
    kind: Annotated[str, Form()] = "wrong",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
    principal: Principal = permission("objection.file"),
) -> Response:
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
                attachment_ids=tuple(ids),
            )

        return _change(request, work, "/me/applications")


@router.get("/me/records/{record_id}/repair")
def repair_form(
    record_id: RowId, request: Request, principal: Principal = permission("repair.apply")
) -> HTMLResponse:
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            answer = eligibility(conn, runtime, principal, record_id)
            record = rec.require_record(conn, record_id)
    except Refused as refusal:
        return _refused(request, refusal, refusal.status)
    return _page(request, "portal/repair_form.html", "repair", record=record, answer=answer)


@router.post("/me/records/{record_id}/repair")
def apply_repair(
    record_id: RowId,
    request: Request,
    commitment: Annotated[bool, Form()] = False,
    paid: Annotated[bool, Form()] = False,
    rectified: Annotated[bool, Form()] = False,
    to_source: Annotated[bool, Form()] = False,
    proof: Annotated[list[UploadFile] | None, File()] = None,
    principal: Principal = permission("repair.apply"),
) -> Response:
    with uploaded(proof or []) as kept:

        def work(conn: sa.Connection, runtime: Runtime) -> Any:
            ids = store_files(conn, runtime, principal, kept, "proof_of_performance")
            return repair_flow.apply(
                conn,
                runtime=runtime,
                principal=principal,
                record_id=record_id,
                materials=repair_flow.Materials(
                    commitment=commitment,
                    paid=paid,
                    rectified=rectified,
                    attached={"proof_of_performance": ids} if ids else {},
                ),
                to_source=to_source,
            )

        return _change(request, work, "/me/applications")


@router.get("/me/applications")
def my_applications(request: Request, principal: Principal = permission("application.read")) -> HTMLResponse:
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            mine = applications.of_subject(conn, _own(conn, principal))
    except Refused as refusal:
        return _refused(request, refusal, refusal.status)
    return _page(request, "portal/me_applications.html", "my_applications", mine=mine)


# ------------------------------------------------------------------------------------------- everyone


@router.get("/inbox")
def inbox_page(request: Request, principal: Principal = permission("inbox.read")) -> HTMLResponse:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        party = applications.party_of(conn, principal)
        messages = notify.inbox(conn, party) if party else []
    return _page(request, "portal/inbox.html", "inbox", messages=messages)


@router.get("/me/contact")
def contact_page(request: Request, principal: Principal = permission("inbox.read")) -> HTMLResponse:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        party = applications.party_of(conn, principal)
        email = applications.contact_of(conn, party)
    return _page(request, "portal/contact.html", "contact", email=email or "", party=party)


@router.post("/me/contact")
def save_contact(
    request: Request,
    email: Annotated[str, Form(max_length=notify.EMAIL_MAX * 2)] = "",
    principal: Principal = permission("inbox.read"),
) -> HTMLResponse:
    """The same page again, saying what is on file now (or the refusal, nothing changed)."""
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            party = applications.party_of(conn, principal)
            saved = applications.save_contact(
                conn, party, email=email, clock=runtime.clock, principal=principal
            )
    except Refused as refusal:
        return _refused(request, refusal, refusal.status)
    return _page(request, "portal/contact.html", "contact", email=saved or "", party=party, saved=True)


# ------------------------------------------------------------------------------------ the departments


@router.get("/tasks")
def tasks_page(request: Request, principal: Principal = permission("objection.handle")) -> HTMLResponse:
    runtime = runtime_of(request)
    with runtime.engine.begin() as conn:
        tasks = queue(conn, runtime, principal, "open")
        rows = []
        for task in tasks:
            if task.matter.kind == "objection":
                matter = objection_flow.show(conn, objection_id=task.matter.id)
            elif task.matter.kind == "repair":
                matter = repair_flow.show(conn, application_id=task.matter.id)
            else:
                matter = None
            record = rec.record_row(conn, task.record_id) if task.record_id else None
            rows.append({"task": task, "matter": matter, "record": record})
    today = runtime.clock.now().astimezone(CHINA).date()
    return _page(
        request,
        "portal/tasks.html",
        "tasks",
        rows=rows,
        is_platform=is_platform(principal),
        outcomes=objection_flow.OUTCOME_LABELS,
        overdue_before=today,
    )


@router.post("/tasks/objections/{objection_id}/forward")
def forward(
    objection_id: RowId, request: Request, principal: Principal = permission("objection.handle")
) -> Response:
    return _change(
        request,
        lambda conn, runtime: objection_flow.forward(
            conn, runtime=runtime, principal=principal, objection_id=objection_id
        ),
        "/tasks",
    )


@router.post("/tasks/objections/{objection_id}/decide")
def decide_objection(
    objection_id: RowId,
    request: Request,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    values: Annotated[str, Form(max_length=4000)] = "",
    to_subject: Annotated[str, Form(max_length=64)] = "",
    principal: Principal = permission("objection.handle"),
) -> Response:
    pairs = _pairs(values)
    return _change(
        request,
        lambda conn, runtime: objection_flow.decide(
            conn,
            runtime=runtime,
            principal=principal,
            objection_id=objection_id,
            outcome=outcome,
            reason=reason,
            values=pairs,
            to_subject=to_subject or None,
        ),
        "/tasks",
    )


@router.post("/tasks/repairs/{application_id}/decide")
def decide_repair(
    application_id: RowId,
    request: Request,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = permission("repair.decide"),
) -> Response:
    return _change(
        request,
        lambda conn, runtime: repair_flow.decide(
            conn,
            runtime=runtime,
            principal=principal,
            application_id=application_id,
            approve=decision == "approve",
            reason=reason,
        ),
        "/tasks",
    )


def _pairs(text: str) -> dict[str, str]:
    """FIELD=VALUE per line, as the CLI's --set takes them (the service validates fields and values)."""
    found = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            found[name.strip()] = value.strip()
    return found
