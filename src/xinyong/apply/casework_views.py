"""发起响应 and 案例报送 in the API, for departments' systems; the same service functions as the pages and the
command line.

POST /api/v1/memoranda                       {draft} → a proposal awaiting the named departments' answers
GET  /api/v1/memoranda?state=&awaiting_me=   proposals (newest first); awaiting_me: those my organisation owes
GET  /api/v1/memoranda/{id}                  one proposal with every response
POST /api/v1/memoranda/{id}/responses        {accept, reason?} → my organisation's answer (once)
POST /api/v1/memoranda/{id}/publish          the credit office publishes (every department answered)
POST /api/v1/memoranda/{id}/withdraw         {reason} → the credit office withdraws
POST /api/v1/case-reports                    multipart: title, text, measure, list_type, check_id?, files
GET  /api/v1/case-reports?state=             the cases the caller may follow (its own; all: credit office)
GET  /api/v1/case-reports/{id}               one case with its attachments (audited)
POST /api/v1/case-reports/{id}/review        {publish, reason?} → published on the portal or returned
GET  /api/v1/cases?measure=&list_type=&effect=&q=   published cases as the public sees them (masked)
GET  /api/v1/cases/{id}                      one published case (masked)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xinyong.apply import cases, proposals
from xinyong.disclose.views import policy_of
from xinyong.policy import WorkdayCalendar
from xinyong.problems import ProblemError
from xinyong.rights.casework_views import store_files, uploaded
from xinyong.runtime import Runtime
from xinyong.security.errors import SecurityError
from xinyong.security.principal import Principal
from xinyong.web.deps import permission, runtime_of
from xinyong.web.params import MAX_ROW_ID, RowId

router = APIRouter(prefix="/api/v1", tags=["apply"])
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not your organisation's"},
    404: {"description": "no such object"},
    409: {"description": "conflicts with its state"},
    422: {"description": "invalid input"},
}


class ProposalRequest(BaseModel):
    draft: dict[str, Any] = Field(
        description="草案，同 memoranda.yaml 中一项 / the draft, as a memorandum (or extends + measures)"
    )


class ResponseRequest(BaseModel):
    accept: bool = Field(description="同意 true / 不同意 false")
    reason: str | None = Field(default=None, max_length=2000, description="不同意时必填 / why (a decline)")


class WithdrawRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="撤回理由 / why")


class ReviewRequest(BaseModel):
    publish: bool = Field(description="发布 true / 退回 false")
    reason: str | None = Field(default=None, max_length=2000, description="退回时必填 / why (a return)")


def act(request: Request, work: Callable[[sa.Connection, Runtime], Any], status: int = 200) -> Any:
    """One step in one transaction; a refusal changes nothing and answers with its problem."""
    runtime = runtime_of(request)
    try:
        with runtime.engine.begin() as conn:
            answer = work(conn, runtime)
    except SecurityError:
        raise
    except ProblemError as problem:  # this chapter's and the attachment store's refusals
        first = problem.problems[0]
        body = {"detail": {**first.as_dict(), "problems": [p.as_dict() for p in problem.problems]}}
        return JSONResponse(body, status_code=getattr(problem, "status", 422))
    return JSONResponse(answer, status_code=status) if status != 200 else answer


def calendar_of(runtime: Runtime) -> WorkdayCalendar:
    return WorkdayCalendar.for_home(runtime.settings.home)


# ------------------------------------------------------------------------------------------ memoranda


@router.post(
    "/memoranda", status_code=201, summary="Propose a memorandum / 发起联合奖惩备忘录", responses=REFUSALS
)
def post_proposal(
    body: ProposalRequest, request: Request, principal: Principal = permission("memo.propose")
) -> Any:
    return act(
        request,
        lambda conn, runtime: proposals.propose(
            conn,
            draft=body.draft,
            principal=principal,
            clock=runtime.clock,
            policy=policy_of(request),
            calendar=calendar_of(runtime),
        ),
        status=201,
    )


@router.get("/memoranda", summary="Proposed memoranda / 备忘录草案")
def get_proposals(
    request: Request,
    state: Annotated[Literal["responding", "published", "withdrawn"] | None, Query()] = None,
    awaiting_me: Annotated[
        bool, Query(description="只列待本单位响应的 / only those my organisation owes")
    ] = False,
    principal: Principal = permission("memo.read"),
) -> Any:
    awaiting = (principal.organisation_uscc or "-") if awaiting_me else None
    return act(
        request, lambda conn, _: {"items": proposals.list_proposals(conn, state=state, awaiting=awaiting)}
    )


@router.get(
    "/memoranda/{proposal_id}", summary="One proposal with its responses / 草案及响应", responses=REFUSALS
)
def get_proposal(proposal_id: RowId, request: Request, principal: Principal = permission("memo.read")) -> Any:
    return act(request, lambda conn, _: proposals.show(conn, proposal_id=proposal_id))


@router.post(
    "/memoranda/{proposal_id}/responses",
    summary="Answer a proposal my organisation is named in / 响应",
    responses=REFUSALS,
)
def post_response(
    proposal_id: RowId,
    body: ResponseRequest,
    request: Request,
    principal: Principal = permission("memo.respond"),
) -> Any:
    return act(
        request,
        lambda conn, runtime: proposals.respond(
            conn,
            proposal_id=proposal_id,
            accept=body.accept,
            reason=body.reason,
            principal=principal,
            clock=runtime.clock,
            calendar=calendar_of(runtime),
        ),
    )


@router.post("/memoranda/{proposal_id}/publish", summary="Publish a proposal / 发布", responses=REFUSALS)
def post_publish(
    proposal_id: RowId, request: Request, principal: Principal = permission("memo.publish")
) -> Any:
    return act(
        request,
        lambda conn, runtime: proposals.publish(
            conn, proposal_id=proposal_id, principal=principal, clock=runtime.clock
        ),
    )


@router.post("/memoranda/{proposal_id}/withdraw", summary="Withdraw a proposal / 撤回", responses=REFUSALS)
def post_withdraw(
    proposal_id: RowId,
    body: WithdrawRequest,
    request: Request,
    principal: Principal = permission("memo.publish"),
) -> Any:
    return act(
        request,
        lambda conn, runtime: proposals.withdraw(
            conn, proposal_id=proposal_id, reason=body.reason, principal=principal, clock=runtime.clock
        ),
    )


# ---------------------------------------------------------------------------------------------- cases


@router.post("/case-reports", status_code=201, summary="Report a case / 案例报送", responses=REFUSALS)
def post_case(
    request: Request,
    title: Annotated[str, Form(min_length=1, max_length=200, description="标题")],
    text: Annotated[str, Form(min_length=1, max_length=20000, description="案例内容")],
    measure: Annotated[str, Form(min_length=1, max_length=32, description="措施代码")],
    list_type: Annotated[str, Form(min_length=1, max_length=32, description="名单类型代码")],
    check_id: Annotated[int | None, Form(ge=1, le=MAX_ROW_ID, description="来源核查编号")] = None,
    attachments: Annotated[list[UploadFile] | None, File(description="PDF/JPG/PNG")] = None,
    principal: Principal = permission("case.report"),
) -> Any:
    with uploaded(attachments or []) as kept:
        return act(
            request,
            lambda conn, runtime: cases.report(
                conn,
                title=title,
                text=text,
                measure=measure,
                list_type=list_type,
                check_id=check_id,
                attachment_ids=tuple(store_files(conn, runtime, principal, kept, "case")),
                principal=principal,
                clock=runtime.clock,
            ),
            status=201,
        )


@router.get("/case-reports", summary="Reported cases I may follow / 报送的案例")
def get_case_reports(
    request: Request,
    state: Annotated[Literal["submitted", "published", "returned"] | None, Query()] = None,
    principal: Principal = permission("case.read"),
) -> Any:
    return act(request, lambda conn, _: {"items": cases.staff_cases(conn, principal=principal, state=state)})


@router.get("/case-reports/{case_id}", summary="One reported case / 报送的案例", responses=REFUSALS)
def get_case_report(case_id: RowId, request: Request, principal: Principal = permission("case.read")) -> Any:
    return act(
        request,
        lambda conn, runtime: cases.show(conn, case_id=case_id, principal=principal, clock=runtime.clock),
    )


@router.post("/case-reports/{case_id}/review", summary="Review a case / 审核案例", responses=REFUSALS)
def post_case_review(
    case_id: RowId, body: ReviewRequest, request: Request, principal: Principal = permission("case.review")
) -> Any:
    return act(
        request,
        lambda conn, runtime: cases.review(
            conn,
            case_id=case_id,
            publish=body.publish,
            reason=body.reason,
            principal=principal,
            clock=runtime.clock,
        ),
    )


@router.get("/cases", summary="Published cases / 联合奖惩案例公示")
def get_cases(
    request: Request,
    measure: Annotated[str | None, Query(max_length=32)] = None,
    list_type: Annotated[str | None, Query(max_length=32)] = None,
    effect: Annotated[Literal["reward", "punishment"] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=64, description="标题或内容包含")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    _: Principal = permission("portal.view"),
) -> Any:
    found = act(
        request,
        lambda conn, _: cases.public_cases(
            conn, policy=policy_of(request), measure=measure, list_type=list_type, effect=effect, q=q,
            limit=limit, offset=offset,
        ),
    )  # fmt: skip
    return {"items": found, "limit": limit, "offset": offset}


@router.get(
    "/cases/{case_id}", summary="One published case / 案例", responses={404: {"description": "no such case"}}
)
def get_case(case_id: RowId, request: Request, _: Principal = permission("portal.view")) -> Any:
    return act(request, lambda conn, __: cases.public_case(conn, case_id=case_id, policy=policy_of(request)))
