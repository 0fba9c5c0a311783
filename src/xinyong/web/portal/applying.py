"""The application chapter's pages for departments, the credit office and the public, over the same service
functions as the API and the command line.

    GET  /memoranda                          发起响应: proposals awaiting my organisation's answer (a
                                             department), or every proposal awaiting answers (credit office);
                                             the form to propose, and what my organisation proposed
    POST /memoranda                          propose a memorandum or measures for one (form: memo_form.py)
    POST /memoranda/{id}/respond             accept | decline (with a reason)
    POST /memoranda/{id}/publish             the credit office publishes
    POST /memoranda/{id}/withdraw            the credit office withdraws (with a reason)
    GET  /case-reports                       案例报送: the form and our reports (a department), or the cases
                                             awaiting review with their forms (credit office)
    POST /case-reports                       report (multipart, attachments)
    POST /case-reports/{id}/review           publish | return (with a reason)
    GET  /cases                              published cases, filters (public, masked)
    GET  /cases/{id}                         one published case (public, masked)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from xinyong.apply import cases, proposals
from xinyong.apply.catalogue import load_catalogue
from xinyong.apply.proposals import active_catalogue
from xinyong.disclose.views import policy_of
from xinyong.policy import WorkdayCalendar
from xinyong.problems import ProblemError
from xinyong.rights.casework_views import store_files, uploaded
from xinyong.runtime import Runtime
from xinyong.security.access import holds
from xinyong.security.errors import SecurityError
from xinyong.security.principal import Principal
from xinyong.subjects.models import SUBJECT_KINDS
from xinyong.web.deps import permission, runtime_of
from xinyong.web.params import MAX_ROW_ID, RowId
from xinyong.web.portal.casework import _page, _refused
from xinyong.web.portal.i18n import language
from xinyong.web.portal.memo_form import Filled, draft_from_form
from xinyong.web.portal.views import render

router = APIRouter(include_in_schema=False)
PLATFORM = ("credit_office",)


def _change(request: Request, work: Callable[[sa.Connection, Runtime], Any], then: str) -> Response:
    """One step in one transaction, then back to `then` (303); a refusal shows why, and nothing changed."""
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            work(conn, runtime)
    except SecurityError:
        raise
    except ProblemError as problem:
        return _refused(request, problem, getattr(problem, "status", 422))
    return RedirectResponse(then, status_code=303)


# ------------------------------------------------------------------------------------------ 发起响应


@router.get("/memoranda")
def memoranda_page(request: Request, principal: Principal = permission("memo.read")) -> HTMLResponse:
    return _memoranda(request, principal)


def _memoranda(
    request: Request,
    principal: Principal,
    *,
    refusal: ProblemError | None = None,
    filled: Filled | None = None,
) -> HTMLResponse:
    """The page; after a refused proposal, with the refusal on top and the form as the clerk filled it."""
    runtime = runtime_of(request)
    platform = principal.role in PLATFORM
    may_propose = holds(principal, "memo.propose")
    own = principal.organisation_uscc or "-"
    with runtime.engine.connect() as conn:
        mine = proposals.list_proposals(conn, awaiting=own)
        responding = proposals.list_proposals(conn, state="responding") if platform else []
        ours = proposals.list_proposals(conn, proposed_by=own) if may_propose else []
        active = active_catalogue(conn) if may_propose else None
    lang = language(request)
    return _page(
        request,
        "portal/memoranda.html",
        "memoranda",
        status=getattr(refusal, "status", 422) if refusal is not None else 200,
        refusal=[p.message(lang) for p in refusal.problems] if refusal is not None else [],
        filled=filled or Filled(),
        mine=mine,
        responding=responding,
        ours=ours,
        platform=platform,
        may_propose=may_propose,
        catalogue=active,
        subject_kinds=SUBJECT_KINDS,
    )


@router.post("/memoranda")
async def propose_page(request: Request, principal: Principal = permission("memo.propose")) -> Response:
    """发起: the form's draft goes to the same service as the API's; a refusal comes back on the page, with
    the form as it was filled."""
    form = await request.form()
    draft = draft_from_form(form)
    policy = policy_of(request)

    def propose() -> Response:
        runtime = runtime_of(request)
        try:
            with runtime.engine.begin() as conn:
                proposals.propose(
                    conn,
                    draft=draft,
                    principal=principal,
                    clock=runtime.clock,
                    policy=policy,
                    calendar=WorkdayCalendar.for_home(runtime.settings.home),
                )
        except ProblemError as refusal:
            return _memoranda(request, principal, refusal=refusal, filled=Filled.of(form))
        return RedirectResponse("/memoranda#our-proposals", status_code=303)

    return await run_in_threadpool(propose)


@router.post("/memoranda/{proposal_id}/respond")
def respond_page(
    proposal_id: RowId,
    request: Request,
    answer: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = permission("memo.respond"),
) -> Response:
    return _change(
        request,
        lambda conn, runtime: proposals.respond(
            conn,
            proposal_id=proposal_id,
            accept=answer == "accept",
            reason=reason,
            principal=principal,
            clock=runtime.clock,
            calendar=WorkdayCalendar.for_home(runtime.settings.home),
        ),
        "/memoranda",
    )


@router.post("/memoranda/{proposal_id}/publish")
def publish_page(
    proposal_id: RowId, request: Request, principal: Principal = permission("memo.publish")
) -> Response:
    return _change(
        request,
        lambda conn, runtime: proposals.publish(
            conn, proposal_id=proposal_id, principal=principal, clock=runtime.clock
        ),
        "/memoranda",
    )


@router.post("/memoranda/{proposal_id}/withdraw")
def withdraw_page(
    proposal_id: RowId,
    request: Request,
    reason: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = permission("memo.publish"),
) -> Response:
    return _change(
        request,
        lambda conn, runtime: proposals.withdraw(
            conn, proposal_id=proposal_id, reason=reason, principal=principal, clock=runtime.clock
        ),
        "/memoranda",
    )


# ------------------------------------------------------------------------------------------ 案例报送


@router.get("/case-reports")
def case_reports_page(request: Request, principal: Principal = permission("case.read")) -> HTMLResponse:
    runtime = runtime_of(request)
    platform = principal.role in PLATFORM
    with runtime.engine.connect() as conn:
        ours = cases.staff_cases(conn, principal=principal) if not platform else []
        waiting = cases.staff_cases(conn, principal=principal, state="submitted") if platform else []
    return _page(
        request,
        "portal/case_reports.html",
        "case_reports",
        ours=ours,
        waiting=waiting,
        platform=platform,
        list_types=load_catalogue().list_types,
    )


@router.post("/case-reports")
def report_page(
    request: Request,
    title: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form(max_length=20000)] = "",
    measure: Annotated[str, Form(max_length=32)] = "",
    list_type: Annotated[str, Form(max_length=32)] = "",
    check_id: Annotated[str, Form(max_length=20)] = "",
    attachments: Annotated[list[UploadFile] | None, File()] = None,
    principal: Principal = permission("case.report"),
) -> Response:
    check = int(check_id) if check_id.strip().isdigit() and 0 < int(check_id) <= MAX_ROW_ID else None
    with uploaded(attachments or []) as kept:
        return _change(
            request,
            lambda conn, runtime: cases.report(
                conn,
                title=title,
                text=text,
                measure=measure,
                list_type=list_type,
                check_id=check,
                attachment_ids=tuple(store_files(conn, runtime, principal, kept, "case")),
                principal=principal,
                clock=runtime.clock,
            ),
            "/case-reports",
        )


@router.post("/case-reports/{case_id}/review")
def review_page(
    case_id: RowId,
    request: Request,
    decision: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    principal: Principal = permission("case.review"),
) -> Response:
    return _change(
        request,
        lambda conn, runtime: cases.review(
            conn,
            case_id=case_id,
            publish=decision == "publish",
            reason=reason,
            principal=principal,
            clock=runtime.clock,
        ),
        "/case-reports",
    )


@router.get("/cases")
def cases_page(
    request: Request,
    list_type: Annotated[str | None, Query(alias="type", max_length=32)] = None,
    effect: Annotated[str | None, Query(max_length=16)] = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    principal: Principal = permission("portal.view"),
) -> HTMLResponse:
    runtime = runtime_of(request)
    effect = effect if effect in ("reward", "punishment") else None
    with runtime.engine.connect() as conn:
        found = cases.public_cases(
            conn, policy=policy_of(request), list_type=list_type or None, effect=effect, q=q, limit=100
        )
    return _page(
        request,
        "portal/cases.html",
        "cases",
        cases=found,
        list_types=load_catalogue().list_types,
        chosen_type=list_type,
        chosen_effect=effect,
        q=q,
    )


@router.get("/cases/{case_id}")
def case_page(
    case_id: RowId, request: Request, principal: Principal = permission("portal.view")
) -> HTMLResponse:
    runtime = runtime_of(request)
    try:
        with runtime.engine.connect() as conn:
            found = cases.public_case(conn, case_id=case_id, policy=policy_of(request))
    except ProblemError as problem:
        return _refused(request, problem, getattr(problem, "status", 422))
    return render(request, "portal/case.html", title=found["title"], case=found)
