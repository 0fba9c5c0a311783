"""`xinyong memoranda ...` (发起响应) and `xinyong cases ...` (案例报送): every command takes `--json`, then
prints one JSON document. `--org USCC` acts for a registered organisation (the proposing or responding
department, the reporting department); without it the command acts as the platform (the credit office).
Exit codes as in apply/cli.py: 0 done, 1 refused (each problem on stderr), 2 usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xinyong.apply.cli import _print, _tools, _work
from xinyong.cliutil import Json, Now, Org, fail
from xinyong.policy.yamlio import YamlProblem, read_yaml
from xinyong.problems import Problem, ProblemError

memoranda_app = typer.Typer(help="发起响应：联合奖惩备忘录草案 / proposed memoranda", no_args_is_help=True)
cases_app = typer.Typer(help="案例报送 / case reports", no_args_is_help=True)

ProposalId = Annotated[int, typer.Argument(help="备忘录草案编号 / proposal id", min=1, max=2**63 - 1)]
CaseId = Annotated[int, typer.Argument(help="案例编号 / case id", min=1, max=2**63 - 1)]
Reason = Annotated[str | None, typer.Option("--reason", help="理由 / reason")]


def _usage(code: str, zh: str, en: str) -> ProblemError:
    return ProblemError(Problem(code, zh, en))


# ------------------------------------------------------------------------------------------ memoranda


@memoranda_app.command("propose")
def propose(
    file: Annotated[
        Path, typer.Option("--file", help="草案 YAML（与 memoranda.yaml 中一项同形）/ the draft")
    ],
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Propose a memorandum or measures; the departments it names are asked to respond / 发起."""
    from xinyong.apply import proposals

    try:
        draft = read_yaml(file)
    except YamlProblem as exc:
        fail(_usage("memo.file", f"{file.name}：{exc.message_zh}", f"{file.name}: {exc.message_en}"), 1)
    except OSError:
        fail(_usage("memo.file", f"无法读取文件 {file.name}", f"cannot read {file.name}"), 2)
    with _work(now, org) as (runtime, conn, principal):
        shown = proposals.propose(
            conn, draft=draft, principal=principal, clock=runtime.clock, **_tools(runtime)
        )
    _print(shown, as_json)


@memoranda_app.command("respond")
def respond(
    proposal_id: ProposalId,
    accept: Annotated[bool, typer.Option("--accept/--decline", help="同意 / 不同意（须说明理由）")],
    reason: Reason = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """A named department answers: --accept, or --decline --reason TEXT / 响应."""
    from xinyong.apply import proposals

    with _work(now, org) as (runtime, conn, principal):
        shown = proposals.respond(
            conn,
            proposal_id=proposal_id,
            accept=accept,
            reason=reason,
            principal=principal,
            clock=runtime.clock,
            calendar=_tools(runtime)["calendar"],
        )
    _print(shown, as_json)


@memoranda_app.command("publish")
def publish(proposal_id: ProposalId, org: Org = None, as_json: Json = False, now: Now = None) -> None:
    """The credit office publishes a proposal every named department has answered / 发布."""
    from xinyong.apply import proposals

    with _work(now, org) as (runtime, conn, principal):
        _platform_only(principal)
        shown = proposals.publish(conn, proposal_id=proposal_id, principal=principal, clock=runtime.clock)
    _print(shown, as_json)


@memoranda_app.command("withdraw")
def withdraw(
    proposal_id: ProposalId,
    reason: Annotated[str, typer.Option("--reason", help="撤回理由 / why")],
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """The credit office withdraws a proposal / 撤回."""
    from xinyong.apply import proposals

    with _work(now, org) as (runtime, conn, principal):
        _platform_only(principal)
        shown = proposals.withdraw(
            conn, proposal_id=proposal_id, reason=reason, principal=principal, clock=runtime.clock
        )
    _print(shown, as_json)


@memoranda_app.command("show")
def show(proposal_id: ProposalId, as_json: Json = False, now: Now = None) -> None:
    """One proposal with its draft and every department's response / 查看草案."""
    from xinyong.apply import proposals

    with _work(now) as (_, conn, __):
        shown = proposals.show(conn, proposal_id=proposal_id)
    _print(shown, as_json)


@memoranda_app.command("list")
def list_(
    state: Annotated[str | None, typer.Option("--state", help="responding | published | withdrawn")] = None,
    awaiting: Annotated[
        str | None, typer.Option("--awaiting", help="待该单位响应的（统一社会信用代码）/ awaiting this org")
    ] = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Proposals, newest first / 草案列表."""
    from xinyong.apply import proposals

    with _work(now) as (_, conn, __):
        found = proposals.list_proposals(
            conn, state=state, awaiting=awaiting.strip().upper() if awaiting else None
        )
    _print(found, as_json)


def _platform_only(principal: object) -> None:
    if getattr(principal, "role", None) not in ("system", "credit_office"):
        raise ProblemError(
            Problem(
                "memo.platform_only",
                "只有信用办可以发布或撤回",
                "only the credit office publishes or withdraws",
            )
        )


# ---------------------------------------------------------------------------------------------- cases


@cases_app.command("report")
def report(
    title: Annotated[str, typer.Option("--title", help="标题 / title")],
    text: Annotated[str, typer.Option("--text", help="案例内容 / what was done")],
    measure: Annotated[str, typer.Option("--measure", help="措施代码 / measure code")],
    list_type: Annotated[str, typer.Option("--list-type", help="名单类型代码 / list type")],
    check: Annotated[
        int | None, typer.Option("--check", help="来源核查编号 / the check it came from")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="信用主体代码（无核查时）")] = None,
    attach: Annotated[list[Path] | None, typer.Option("--attach", help="附件 PDF/JPG/PNG，可多次")] = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """A department reports a case of a reward or punishment it applied / 案例报送."""
    from xinyong.apply import cases
    from xinyong.disclose.flows import resolve_code
    from xinyong.rights import attachments as files

    with _work(now, org) as (runtime, conn, principal):
        ids = tuple(files.store_for(conn, runtime, principal, path, material="case") for path in attach or [])
        made = cases.report(
            conn,
            title=title,
            text=text,
            measure=measure,
            list_type=list_type,
            check_id=check,
            subject_id=resolve_code(conn, subject, runtime) if subject and check is None else None,
            attachment_ids=ids,
            principal=principal,
            clock=runtime.clock,
        )
    _print(made, as_json)


@cases_app.command("review")
def review(
    case_id: CaseId,
    publish: Annotated[bool, typer.Option("--publish/--return", help="发布 / 退回（须说明理由）")],
    reason: Reason = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """The credit office publishes a case on the portal or returns it / 审核."""
    from xinyong.apply import cases

    with _work(now, org) as (runtime, conn, principal):
        _platform_only(principal)
        made = cases.review(
            conn, case_id=case_id, publish=publish, reason=reason, principal=principal, clock=runtime.clock
        )
    _print(made, as_json)


@cases_app.command("list")
def list_cases(
    public: Annotated[
        bool, typer.Option("--public", help="公开的案例（脱敏）/ as the public sees them")
    ] = False,
    state: Annotated[str | None, typer.Option("--state", help="submitted | published | returned")] = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Cases: all (credit office), a department's own (--org), or the published ones as shown (--public)."""
    from xinyong.apply import cases

    with _work(now, org) as (runtime, conn, principal):
        if public:
            found = cases.public_cases(conn, policy=_tools(runtime)["policy"])
        else:
            found = cases.staff_cases(conn, principal=principal, state=state)
    _print(found, as_json)


@cases_app.command("show")
def show_case(
    case_id: CaseId,
    public: Annotated[bool, typer.Option("--public", help="as the public sees it")] = False,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """One case with its attachments / 查看案例."""
    from xinyong.apply import cases

    with _work(now, org) as (runtime, conn, principal):
        if public:
            found = cases.public_case(conn, case_id=case_id, policy=_tools(runtime)["policy"])
        else:
            found = cases.show(conn, case_id=case_id, principal=principal, clock=runtime.clock)
    _print(found, as_json)
