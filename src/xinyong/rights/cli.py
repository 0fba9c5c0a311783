"""`xinyong objection|repair|record ...`: the service counter's and the operator's commands for the subject's
rights, and the tests' way in. Every command takes `--json` and then prints one JSON document.

The command line acts as the platform (信用信息平台), as `system:cli:<operating-system user>` in the audit
trail. `--org USCC` acts for a registered organisation instead (a department whose decision the operator
enters), and is held to that department's rights. Exit codes: 0 done, 1 refused (each problem printed on
stderr, Chinese then English), 2 a usage or configuration problem.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer

from xinyong.cliutil import Json, Now, Org, acting, echo_json, fail, parse_date
from xinyong.clock import CHINA
from xinyong.problems import Problem, ProblemError

objection_app = typer.Typer(help="异议 / objections", no_args_is_help=True)
repair_app = typer.Typer(help="信用修复 / credit repair", no_args_is_help=True)
record_app = typer.Typer(help="信用记录 / credit records", no_args_is_help=True)

_ORG_ROLES = {"credit_office": "credit_office"}  # every other organisation acts as a provider


def _work(now: str | None, org: str | None = None) -> AbstractContextManager[tuple[Any, sa.Connection, Any]]:
    """(runtime, a connection in one transaction, the acting principal); refusals end the command plainly."""
    return acting(now, org, roles=_ORG_ROLES)


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, default=str)
        typer.echo(f"{key}: {value}")


def _store(runtime: Any, conn: sa.Connection, principal: Any, path: Path, material: str | None) -> int:
    from xinyong.rights import attachments

    return attachments.store_for(conn, runtime, principal, path, material=material)


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name.strip():
            fail(
                ProblemError(
                    Problem(
                        "cli.pair",
                        f"{option} 的格式应为 名称=值：{value}",
                        f"{option} takes NAME=VALUE: {value}",
                    )
                ),
                2,
            )
        out[name.strip()] = text.strip()
    return out


ExistingFile = Annotated[Path, typer.Option(exists=True, dir_okay=False, readable=True)]


# ------------------------------------------------------------------------------------------ objections


@objection_app.command("file")
def objection_file(
    record: Annotated[int, typer.Option("--record", help="信用记录编号 / record id")],
    reason: Annotated[str, typer.Option("--reason", help="异议理由 / reason")],
    kind: Annotated[str, typer.Option("--kind", help="wrong | incomplete | not_mine | unlawful")] = "wrong",
    subject: Annotated[
        str | None, typer.Option("--subject", help="申请人（信用主体）代码 / the subject's code, as checked")
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", exists=True, dir_okay=False, help="PDF/JPG/PNG")
    ] = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """File an objection to a record at the service counter / 提出异议."""
    from xinyong.rights.objections import file_objection

    with _work(now) as (runtime, conn, principal):
        ids = tuple(_store(runtime, conn, principal, p, None) for p in attach or ())
        answer = file_objection(
            conn,
            runtime=runtime,
            principal=principal,
            record_id=record,
            reason=reason,
            kind=kind,
            subject=subject,
            attachment_ids=ids,
        )
    _print(answer, as_json)


@objection_app.command("forward")
def objection_forward(objection_id: int, as_json: Json = False, now: Now = None) -> None:
    """Forward an objection to the record's source department / 转交信息提供单位核查."""
    from xinyong.rights.objections import forward

    with _work(now) as (runtime, conn, principal):
        answer = forward(conn, runtime=runtime, principal=principal, objection_id=objection_id)
    _print(answer, as_json)


@objection_app.command("decide")
def objection_decide(
    objection_id: int,
    outcome: Annotated[str, typer.Option("--outcome", help="upheld | corrected | removed | moved")],
    reason: Annotated[str, typer.Option("--reason", help="处理理由 / reason, told to the applicant")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="FIELD=VALUE, corrected values (field code or 中文名)")
    ] = None,
    to_subject: Annotated[
        str | None,
        typer.Option("--to-subject", help="moved：记录真正所属主体的代码 / the right subject's code"),
    ] = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Decide an objection: upheld, corrected, removed or moved / 作出异议处理决定."""
    from xinyong.rights.objections import decide

    values = _pairs(set_ or [], "--set")
    with _work(now, org) as (runtime, conn, principal):
        answer = decide(
            conn,
            runtime=runtime,
            principal=principal,
            objection_id=objection_id,
            outcome=outcome,
            reason=reason,
            values=values,
            to_subject=to_subject,
        )
    _print(answer, as_json)


@objection_app.command("show")
def objection_show(objection_id: int, as_json: Json = False, now: Now = None) -> None:
    """An objection with its steps and deadlines / 查看异议."""
    from xinyong.rights.objections import show

    with _work(now) as (_runtime, conn, _principal):
        answer = show(conn, objection_id=objection_id)
    _print(answer, as_json)


# ------------------------------------------------------------------------------------------ repair


@repair_app.command("check")
def repair_check(
    record: Annotated[int, typer.Option("--record", help="信用记录编号 / record id")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """May this record be repaired, and from when / 信用修复条件检查."""
    from xinyong.rights.repair import check

    with _work(now) as (runtime, conn, _principal):
        day = parse_date(as_of) or runtime.clock.now().astimezone(CHINA).date()
        answer = check(conn, record_id=record, as_of=day).as_dict()
    _print(answer, as_json)


@repair_app.command("apply")
def repair_apply(
    record: Annotated[int, typer.Option("--record", help="信用记录编号 / record id")],
    commitment: Annotated[bool, typer.Option("--commitment", help="已签署信用承诺书")] = False,
    paid: Annotated[bool, typer.Option("--paid", help="罚款已缴清 / the fine is paid")] = False,
    rectified: Annotated[bool, typer.Option("--rectified", help="已整改 / the act is rectified")] = False,
    proof: Annotated[
        list[Path] | None,
        typer.Option("--proof", exists=True, dir_okay=False, help="履行义务的证明材料 (PDF/JPG/PNG)"),
    ] = None,
    attach: Annotated[
        list[str] | None, typer.Option("--attach", help="MATERIAL=FILE, e.g. credit_report=报告.pdf")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="申请人（信用主体）代码")] = None,
    to_source: Annotated[
        bool,
        typer.Option("--to-source", help="向作出决定的部门申请（默认向平台）/ apply to the deciding body"),
    ] = False,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Apply for credit repair, free of charge / 申请信用修复（免费）."""
    from xinyong.rights.repair import Materials, apply

    named = {code: Path(path) for code, path in _pairs(attach or [], "--attach").items()}
    with _work(now) as (runtime, conn, principal):
        attached: dict[str, list[int]] = {}
        for path in proof or ():
            attached.setdefault("proof_of_performance", []).append(
                _store(runtime, conn, principal, path, "proof_of_performance")
            )
        for code, path in named.items():
            if not path.is_file():
                raise ProblemError(Problem("cli.file", f"文件不存在：{path}", f"no such file: {path}"))
            attached.setdefault(code, []).append(_store(runtime, conn, principal, path, code))
        answer = apply(
            conn,
            runtime=runtime,
            principal=principal,
            record_id=record,
            materials=Materials(commitment=commitment, paid=paid, rectified=rectified, attached=attached),
            subject=subject,
            to_source=to_source,
        )
    _print(answer, as_json)


@repair_app.command("decide")
def repair_decide(
    application_id: int,
    reason: Annotated[str, typer.Option("--reason", help="决定理由 / reason, told to the applicant")],
    approve: Annotated[bool, typer.Option("--approve", help="同意修复")] = False,
    refuse: Annotated[bool, typer.Option("--refuse", help="不予修复")] = False,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Approve or refuse a repair application / 作出信用修复决定."""
    from xinyong.rights.repair import decide

    if approve == refuse:
        fail(
            ProblemError(
                Problem(
                    "cli.decision", "请选择 --approve 或 --refuse 之一", "give one of --approve or --refuse"
                )
            ),
            2,
        )
    with _work(now, org) as (runtime, conn, principal):
        answer = decide(
            conn,
            runtime=runtime,
            principal=principal,
            application_id=application_id,
            approve=approve,
            reason=reason,
        )
    _print(answer, as_json)


@repair_app.command("show")
def repair_show(application_id: int, as_json: Json = False, now: Now = None) -> None:
    """A repair application with its steps and deadlines / 查看信用修复申请."""
    from xinyong.rights.repair import show

    with _work(now) as (_runtime, conn, _principal):
        answer = show(conn, application_id=application_id)
    _print(answer, as_json)


# ------------------------------------------------------------------------------------------ records


@record_app.command("revoke")
def record_revoke(
    item: Annotated[str, typer.Option("--item", help="目录事项代码 / item, e.g. XZCF")],
    source: Annotated[str, typer.Option("--source", help="数据来源单位统一社会信用代码 / source USCC")],
    key: Annotated[str, typer.Option("--key", help="文书号 / the record's key (行政处罚决定书文号)")],
    revoked_on: Annotated[
        str | None, typer.Option("--revoked-on", help="决定被撤销的日期 YYYY-MM-DD（默认今天）")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="说明 / note")] = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Report a record's decision revoked: it leaves public view at once / 报告决定已撤销."""
    from xinyong.rights.revocation import revoke

    with _work(now, org) as (runtime, conn, principal):
        answer = revoke(
            conn,
            runtime=runtime,
            principal=principal,
            item_code=item,
            source_uscc=source,
            source_key=key,
            revoked_on=parse_date(revoked_on),
            reason=reason,
        )
    _print(answer, as_json)


@record_app.command("undo-move")
def record_undo_move(
    move_id: int,
    reason: Annotated[str, typer.Option("--reason", help="撤回理由 / reason")],
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Put a moved record back on the subject it was moved from / 撤回记录移交."""
    from xinyong.rights.objections import undo_move

    with _work(now) as (runtime, conn, principal):
        answer = undo_move(conn, runtime=runtime, principal=principal, move_id=move_id, reason=reason)
    _print(answer, as_json)
