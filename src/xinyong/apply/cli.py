"""`xinyong lists|matters|check|subscribe|push ...`: the application chapter's command line. Every command
takes `--json` and then prints one JSON document.

The command line acts as the platform (`system:cli:<user>` in the audit trail); `--org USCC` acts for a
registered organisation instead (a department checking a subject, a department proposing a listing).
Exit codes: 0 done, 1 refused (each problem on stderr, Chinese then English), 2 usage or configuration.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer

from xinyong.cliutil import Json, Now, Org, acting, echo_json, fail, open_runtime, parse_date
from xinyong.problems import Problem, ProblemError

lists_app = typer.Typer(help="红黑名单 / red and black lists", no_args_is_help=True)
subscribe_app = typer.Typer(help="订阅推送 / subscriptions", no_args_is_help=True)
push_app = typer.Typer(help="推送 / webhook delivery", no_args_is_help=True)
apply_app = typer.Typer(help="信用应用 / the application chapter's figures", no_args_is_help=True)

ORG_ROLES = {"credit_office": "credit_office", "government": "government"}


def _work(now: str | None, org: str | None = None) -> AbstractContextManager[tuple[Any, sa.Connection, Any]]:
    """(runtime, a connection in one transaction, the acting principal); refusals end the command plainly."""
    return acting(now, org, roles=ORG_ROLES)


def _print(data: Any, as_json: bool) -> None:
    if as_json:
        echo_json(data)
        return
    rows = data if isinstance(data, list) else [data]
    for row in rows:
        typer.echo("  ".join(f"{k}={v}" for k, v in row.items() if not isinstance(v, dict | list)))


def _tools(runtime: Any) -> dict[str, Any]:
    from xinyong.policy import WorkdayCalendar, load_policy

    return {"policy": load_policy(), "calendar": WorkdayCalendar.for_home(runtime.settings.home)}


# ---------------------------------------------------------------------------------------------- lists


@lists_app.command("types")
def list_types(as_json: Json = False, now: Now = None) -> None:
    """The list types with their deciding body, basis and validity / 名单类型."""
    from xinyong.apply.catalogue import load_catalogue

    try:
        _print([t.as_dict() for t in load_catalogue().list_types], as_json)
    except ProblemError as exc:
        fail(exc, 2)


@lists_app.command("propose")
def propose(
    list_type: Annotated[str, typer.Option("--type", help="名单类型代码 / list type code")],
    subject: Annotated[str, typer.Option("--subject", help="信用主体代码 / the subject's identifier")],
    reason: Annotated[str, typer.Option("--reason", help="列入事实 / the facts")],
    basis: Annotated[str, typer.Option("--basis", help="列入依据 / the legal basis")],
    record: Annotated[
        int | None, typer.Option("--record", help="所依据的信用记录 / the record it rests on")
    ] = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Propose a listing and serve the notice: the defence period starts / 拟列入并告知."""
    from xinyong.apply import service
    from xinyong.disclose.flows import resolve_code

    with _work(now, org) as (runtime, conn, principal):
        entry = service.propose(
            conn,
            list_type=list_type.strip().upper(),
            subject_id=resolve_code(conn, subject, runtime),
            reason=reason,
            basis=basis,
            record_id=record,
            principal=principal,
            clock=runtime.clock,
            **_tools(runtime),
        )
    _print(entry, as_json)


@lists_app.command("decide")
def decide(
    entry_id: Annotated[int, typer.Argument(help="名单条目编号 / entry id")],
    valid_until: Annotated[str, typer.Option("--valid-until", help="有效期至 YYYY-MM-DD / valid until")],
    statement_waived: Annotated[
        bool, typer.Option("--statement-waived", help="当事人放弃陈述申辩 / the subject waived its statement")
    ] = False,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Decide and publish a listing (after the defence period) / 作出列入决定并公示."""
    from xinyong.apply import service

    until = parse_date(valid_until, "valid_until")
    assert until is not None
    with _work(now, org) as (runtime, conn, principal):
        entry = service.decide(
            conn,
            entry_id=entry_id,
            valid_until=until,
            statement_waived=statement_waived,
            principal=principal,
            clock=runtime.clock,
            **_tools(runtime),
        )
    _print(entry, as_json)


@lists_app.command("remove")
def remove(
    entry_id: Annotated[int, typer.Argument(help="名单条目编号 / entry id")],
    reason: Annotated[
        str, typer.Option("--reason", help="expired | repaired | revoked | new_adverse | withdrawn")
    ],
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Take an entry off its list; it stays in history / 移出名单."""
    from xinyong.apply import service

    with _work(now, org) as (runtime, conn, principal):
        entry = service.remove(
            conn,
            entry_id=entry_id,
            reason=reason.strip(),
            principal=principal,
            clock=runtime.clock,
            policy=_tools(runtime)["policy"],
        )
    _print(entry, as_json)


@lists_app.command("expire")
def expire(
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Remove every entry whose validity has ended / 到期自动移出."""
    from xinyong.apply import service

    day = parse_date(as_of, "as_of")
    with _work(now) as (runtime, conn, principal):
        removed = service.expire(
            conn,
            as_of=day or service.today(runtime.clock),
            principal=principal,
            clock=runtime.clock,
            policy=_tools(runtime)["policy"],
        )
    _print({"removed": removed}, as_json)


def matters(as_json: Json = False, now: Now = None) -> None:
    """The business matters a check is made for / 业务事项代码."""
    from xinyong.apply.catalogue import load_catalogue

    _print([m.model_dump() for m in load_catalogue().matters], as_json)


def check(
    code: Annotated[
        str | None, typer.Argument(help="信用主体代码 / the subject's identifier (or --name, or --batch)")
    ] = None,
    matter: Annotated[
        str, typer.Option("--matter", help="业务事项代码 / business matter (xinyong matters)")
    ] = "",
    name: Annotated[
        str | None, typer.Option("--name", help="无代码时按名称核查：返回候选 / by name: candidates")
    ] = None,
    division: Annotated[
        str | None, typer.Option("--division", help="按名称核查时的行政区划代码 / division code for --name")
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="批量核查 CSV/XLSX 文件 / a CSV or XLSX of subjects")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="批量核查结果 XLSX / where the batch's XLSX goes")
    ] = None,
    org: Org = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Check a subject for a business matter: its lists and the measures that apply / 逢办必查.

    By identifier (CODE), by name with a division (candidates, no measures), or a batch file (--batch, --out).
    """
    from xinyong.apply import batch as batch_check
    from xinyong.apply import candidates
    from xinyong.apply.flows import check as check_subject

    if not matter:
        _usage(
            "check.matter_missing", "请用 --matter 给出业务事项代码", "give the business matter with --matter"
        )
    if batch is not None:
        if out is None:
            _usage(
                "check.out_missing", "批量核查须用 --out 指定结果文件", "a batch check needs --out FILE.xlsx"
            )
        with _work(now, org) as (runtime, conn, principal):
            result = batch_check.check_file(
                conn, runtime, path=batch, filename=batch.name, matter=matter, principal=principal
            )
        assert out is not None
        out.write_bytes(result.xlsx)
        _print(result.summary | {"out": str(out)}, as_json)
        return
    if code is None and name is None:
        _usage(
            "check.subject_missing",
            "请给出信用主体代码，或 --name 与 --division，或 --batch 文件",
            "give the subject's identifier, or --name with --division, or a --batch file",
        )
    with _work(now, org) as (runtime, conn, principal):
        if code is not None:
            answer = check_subject(conn, runtime, code=code, matter=matter, principal=principal)
        else:
            assert name is not None
            answer = candidates.candidates(conn, runtime, name=name, division=division, matter=matter)
    _print(answer, as_json)


def _usage(code: str, zh: str, en: str) -> NoReturn:
    fail(ProblemError(Problem(code, zh, en)), 2)


# ----------------------------------------------------------------------------------------------- push


@subscribe_app.command("add")
def subscribe_add(
    org: Annotated[
        str, typer.Option("--org", help="订阅单位统一社会信用代码 / the subscribing organisation")
    ],
    events: Annotated[
        str, typer.Option("--events", help="事件类型，逗号分隔 / event types, comma-separated")
    ],
    url: Annotated[
        str | None, typer.Option("--url", help="推送地址 / webhook URL (omit: pull feed only)")
    ] = None,
    list_types: Annotated[
        str | None, typer.Option("--lists", help="只订阅这些名单类型 / only these list types")
    ] = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Subscribe an organisation to events; prints the id and the signing secret (shown once) / 订阅."""
    from xinyong.apply import service

    with _work(now) as (runtime, conn, principal):
        made = service.subscribe(
            conn,
            org_uscc=org.strip().upper(),
            url=url,
            event_types=events.split(","),
            list_types=[t.strip().upper() for t in list_types.split(",")] if list_types else None,
            principal=principal,
            clock=runtime.clock,
        )
    _print(made, as_json)


@push_app.command("run")
def push_run(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Deliver pending events to subscribers' webhooks / 推送."""
    from xinyong.apply.push import run_once

    if not once:
        fail(
            ProblemError(
                Problem(
                    "push.once_only",
                    "请使用 --once；持续推送由 xinyong serve 运行",
                    "use --once; continuous delivery runs inside xinyong serve",
                )
            ),
            2,
        )
    with open_runtime(now, refused=1) as runtime:
        report = run_once(runtime)
    _print(report, as_json)


# -------------------------------------------------------------------------------------------- figures


@apply_app.command("figures")
def figures(
    start: Annotated[str | None, typer.Option("--from", help="起始日期 YYYY-MM-DD（含）/ first day")] = None,
    end: Annotated[str | None, typer.Option("--to", help="截止日期 YYYY-MM-DD（含）/ last day")] = None,
    as_json: Json = False,
    now: Now = None,
) -> None:
    """Checks per department and matter, feedback rate, measures applied, entries added and removed, push
    delays / 应用统计."""
    from xinyong.apply.figures import figures as compute

    first, last = parse_date(start, "from"), parse_date(end, "to")
    with open_runtime(now, refused=1) as runtime, runtime.engine.connect() as conn:
        answer = compute(conn, start=first, end=last)
    if as_json:
        _print(answer, True)
        return
    typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
