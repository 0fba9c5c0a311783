"""`xinyong org|user|token|audit ...`: the operator's commands for organisations, accounts, tokens and audit.

Every command opens the database named by XINYONG_HOME / XINYONG_DATABASE_URL, works in one transaction,
and writes what it changed to the audit trail as `system:cli:<operating-system user>`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from xinyong.cliutil import echo_json, fail, progress_bar
from xinyong.clock import CHINA
from xinyong.problems import ProblemError
from xinyong.security import admin, audit
from xinyong.security.accounts import create_subject_account, list_users
from xinyong.security.organisations import (
    KIND_LABELS,
    add_organisation,
    list_organisations,
    load_organisations,
    review_agency,
)
from xinyong.security.principal import Principal
from xinyong.security.proofing import SubjectClaim, load_proofing
from xinyong.security.settings import SecuritySettings
from xinyong.security.tokens import list_tokens

org_app = typer.Typer(help="机构 / organisations (province → prefecture → county)", no_args_is_help=True)
user_app = typer.Typer(help="用户账户 / user accounts", no_args_is_help=True)
token_app = typer.Typer(help="接口令牌 / API tokens for systems", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志 / the audit trail", no_args_is_help=True)

err = Console(stderr=True)
out = Console()


@contextmanager
def _session() -> Iterator[tuple[Any, sa.Connection, Principal]]:
    """(runtime, connection in a transaction, the acting principal); problems end the command plainly."""
    from xinyong.logging import configure_logging
    from xinyong.runtime import Runtime

    try:
        runtime = Runtime.open_current()
    except ProblemError as exc:
        _fail(exc)
    configure_logging(runtime.settings, stderr=False)
    try:
        with runtime.engine.begin() as conn:
            yield runtime, conn, Principal.system(f"cli:{getpass.getuser()}")
    except ProblemError as exc:
        _fail(exc)
    finally:
        runtime.close()


def _fail(exc: ProblemError) -> NoReturn:
    fail(exc, 1, console=err)


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else ""


def _password(username: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(f"{username} 的密码 / password", hide_input=True, confirmation_prompt=True)


# --------------------------------------------------------------------------------------------- org


@org_app.command("add")
def org_add(
    name: Annotated[str, typer.Option(help="机构名称 / name")],
    uscc: Annotated[str, typer.Option(help="统一社会信用代码 / USCC")],
    kind: Annotated[str, typer.Option(help=" | ".join(KIND_LABELS))],
    parent: Annotated[str | None, typer.Option(help="上级机构的统一社会信用代码 / parent's USCC")] = None,
    name_en: Annotated[str | None, typer.Option(help="English name")] = None,
    division: Annotated[str | None, typer.Option(help="行政区划代码 (default: USCC positions 3-8)")] = None,
) -> None:
    """Add an organisation / 新增机构."""
    with _session() as (runtime, conn, actor):
        org_id = add_organisation(
            conn,
            name=name,
            uscc=uscc,
            kind=kind,
            parent_uscc=parent,
            name_en=name_en,
            division_code=division,
            clock=runtime.clock,
        )
        audit.record(
            conn,
            principal=actor,
            action="org.add",
            clock=runtime.clock,
            object_type="organisation",
            object_id=uscc,
            detail={"name": name, "kind": kind, "parent": parent},
        )
    err.print(f"[green]✓[/] 已新增机构 / organisation added: {name} ({uscc}), id {org_id}")


@org_app.command("list")
def org_list(
    kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """List organisations as a tree / 机构列表."""
    with _session() as (_, conn, _actor):
        rows = list_organisations(conn, kind=kind)
    if as_json:
        echo_json(
            [
                {k: r[k] for k in ("uscc", "name", "kind", "division_code", "parent_uscc", "status", "depth")}
                for r in rows
            ]
        )
        return
    table = Table("USCC", "名称 / name", "kind", "division", "status")
    for r in rows:
        table.add_row(
            r["uscc"], "  " * r["depth"] + r["name"], r["kind"], r["division_code"] or "", r["status"]
        )
    out.print(table)
    err.print(f"{len(rows)} 个机构 / organisations")


@org_app.command("seed")
def org_seed(
    file: Annotated[
        Path | None, typer.Option(help="a tree of the same shape as the packaged Hubei one")
    ] = None,
) -> None:
    """Load the Hubei organisation tree (synthetic USCCs) or another file / 载入机构树."""
    with _session() as (runtime, conn, actor):
        summary = load_organisations(conn, runtime.clock, path=file)
        audit.record(
            conn,
            principal=actor,
            action="org.seed",
            clock=runtime.clock,
            detail={
                "created": summary.created,
                "existing": summary.existing,
                "file": str(file or "packaged"),
            },
        )
    err.print(
        f"[green]✓[/] 新增 {summary.created}，已有 {summary.existing} / "
        f"created {summary.created}, existing {summary.existing}"
    )


@org_app.command("qualify")
def org_qualify(
    uscc: Annotated[str, typer.Option(help="the credit service agency's USCC")],
    status: Annotated[str, typer.Option(help="approved | suspended | revoked | pending")] = "approved",
    quota: Annotated[int, typer.Option(help="authorised queries per month")] = 1000,
    valid_until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    note: Annotated[str | None, typer.Option(help="review note / 审核意见")] = None,
) -> None:
    """Record a credit service agency's qualification review and quota / 信用服务机构资质审核."""
    with _session() as (runtime, conn, actor):
        review_agency(
            conn,
            uscc=uscc,
            status=status,
            quota_per_month=quota,
            valid_until=dt.date.fromisoformat(valid_until) if valid_until else None,
            note=note,
            reviewed_by=actor.actor,
            clock=runtime.clock,
        )
        audit.record(
            conn,
            principal=actor,
            action="agency.review",
            clock=runtime.clock,
            object_type="organisation",
            object_id=uscc,
            detail={"status": status, "quota_per_month": quota, "valid_until": valid_until},
        )
    err.print(f"[green]✓[/] {uscc}: {status}, {quota}/月 month")


# --------------------------------------------------------------------------------------------- user


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Option(help="lower-case login name")],
    org: Annotated[str, typer.Option(help="the organisation's USCC")],
    role: Annotated[
        str, typer.Option(help="platform_admin | credit_office | provider | government | agency")
    ],
    name: Annotated[str, typer.Option(help="显示名称 / display name")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Add a user of an organisation; the password is prompted for (or read from stdin) / 新增用户."""
    password = _password(username, password_stdin)
    with _session() as (runtime, conn, actor):
        admin.add_user(
            conn,
            actor=actor,
            username=username,
            display_name=name,
            role=role,
            password=password,
            organisation_uscc=org,
            clock=runtime.clock,
            settings=SecuritySettings.load(runtime.settings),
        )
    err.print(f"[green]✓[/] 已新增用户 / user added: {username} ({role})")


@user_app.command("add-subject")
def user_add_subject(
    kind: Annotated[str, typer.Option(help="enterprise | person")],
    name: Annotated[str, typer.Option(help="企业名称或本人姓名 / the enterprise's or person's name")],
    checked_by: Annotated[str, typer.Option(help="核验人 / the operator who checked the documents")],
    document: Annotated[
        str, typer.Option(help="核验的证件 / documents seen, e.g. 营业执照+法定代表人身份证")
    ],
    code: Annotated[
        str | None, typer.Option(help="USCC; a person's ID number is prompted for if omitted")
    ] = None,
    username: Annotated[str | None, typer.Option(help="login name (default derived)")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Open a subject account after identity proofing (counter check by default) / 开设信用主体账户."""
    if kind not in ("enterprise", "person"):
        raise typer.BadParameter("enterprise or person", param_hint="--kind")
    code = code or typer.prompt("统一社会信用代码或公民身份号码 / USCC or ID number")
    password = _password(username or name, password_stdin)
    with _session() as (runtime, conn, actor):
        sec = SecuritySettings.load(runtime.settings)
        claim = SubjectClaim(kind, code, name, {"checked_by": checked_by, "document": document})  # type: ignore[arg-type]
        user_id = create_subject_account(
            conn,
            claim=claim,
            proofing=load_proofing(sec.identity_proofing, demo=runtime.settings.demo),
            password=password,
            username=username,
            clock=runtime.clock,
            protector=runtime.protector,
            settings=sec,
        )
        created = next(u for u in list_users(conn) if u["id"] == user_id)
        audit.record(
            conn,
            principal=actor,
            action="user.add_subject",
            clock=runtime.clock,
            object_type="user",
            object_id=created["username"],
            subject=audit.SubjectRef.from_code(code, runtime.protector),
            detail={"kind": kind, "proofing": sec.identity_proofing},
        )
    err.print(f"[green]✓[/] 已开设账户 / account opened: {created['username']}")


@user_app.command("list")
def user_list(
    org: Annotated[str | None, typer.Option(help="only this organisation's users")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """List users / 用户列表."""
    with _session() as (_, conn, _actor):
        rows = list_users(conn, organisation_uscc=org)
    if as_json:
        echo_json(rows)
        return
    table = Table("username", "名称 / name", "role", "organisation", "status", "last sign-in")
    for r in rows:
        status = r["status"] + (" (locked)" if r["locked_until"] else "")
        table.add_row(
            r["username"],
            r["display_name"],
            r["role"],
            r["organisation_name"] or r["person_masked"] or "",
            status,
            _when(r["last_login_at"]),
        )
    out.print(table)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="the account to disable")]) -> None:
    """Disable an account and end its sessions / 停用账户."""
    _set_status(username, "disabled")


@user_app.command("enable")
def user_enable(
    username: Annotated[str, typer.Argument(help="the account to enable (also unlocks it)")],
) -> None:
    """Enable (and unlock) an account / 启用账户."""
    _set_status(username, "active")


@user_app.command("reset-link")
def user_reset_link(
    username: Annotated[str, typer.Argument(help="the account whose password is to be set")],
) -> None:
    """A one-time link to set the account's password (printed once; earlier links stop working) /
    生成一次性设置密码链接."""
    with _session() as (runtime, conn, actor):
        link = admin.issue_reset_link(
            conn,
            actor=actor,
            username=username,
            clock=runtime.clock,
            settings=SecuritySettings.load(runtime.settings),
        )
    err.print(
        f"[green]✓[/] {username}: 一次性链接，有效期至 {_when(link.expires_at)} / one-time link, "
        "valid until then; prefix it with the console's address"
    )
    typer.echo(link.path)


def _set_status(username: str, status: str) -> None:
    with _session() as (runtime, conn, actor):
        admin.change_status(conn, actor=actor, username=username, status=status, clock=runtime.clock)
    err.print(f"[green]✓[/] {username}: {status}")


# --------------------------------------------------------------------------------------------- token


@token_app.command("issue")
def token_issue(
    org: Annotated[str, typer.Option(help="the organisation's USCC")],
    role: Annotated[str, typer.Option(help="provider | government | agency | credit_office")],
    name: Annotated[str, typer.Option(help="which system uses it, e.g. 省市场监管局数据报送系统")],
    scope: Annotated[
        list[str] | None, typer.Option(help="a permission (repeat); default: all of the role's")
    ] = None,
    days: Annotated[int, typer.Option(help="valid for this many days")] = 90,
) -> None:
    """Issue an API token. It is printed once, on stdout; only its hash is kept / 签发接口令牌."""
    with _session() as (runtime, conn, actor):
        issued = admin.issue_api_token(
            conn,
            actor=actor,
            organisation_uscc=org,
            role=role,
            name=name,
            scopes=scope,
            days=days,
            clock=runtime.clock,
            settings=SecuritySettings.load(runtime.settings),
        )
    err.print(
        f"[green]✓[/] 令牌 {issued.prefix}，有效期至 {_when(issued.expires_at)}，"
        f"权限 / scopes: {', '.join(issued.scopes)}\n"
        "  这是唯一一次显示该令牌，请立即妥善保存 / this is the only time the token is shown: store it now."
    )
    typer.echo(issued.token)


@token_app.command("revoke")
def token_revoke(prefix: Annotated[str, typer.Argument(help="the token's prefix, xyt_XXXXXXXX")]) -> None:
    """Revoke an API token at once / 撤销接口令牌."""
    with _session() as (runtime, conn, actor):
        admin.revoke_api_token(conn, actor=actor, prefix=prefix, clock=runtime.clock)
    err.print(f"[green]✓[/] 已撤销 / revoked {prefix}")


@token_app.command("list")
def token_list(
    org: Annotated[str | None, typer.Option(help="only this organisation's tokens")] = None,
) -> None:
    """List API tokens (prefixes only) / 令牌列表."""
    with _session() as (_, conn, _actor):
        rows = list_tokens(conn, organisation_uscc=org)
    # The prefix is what `token revoke` takes: never shortened to fit a narrow terminal.
    prefix = Column("prefix", no_wrap=True, min_width=max((len(r["prefix"]) for r in rows), default=0))
    table = Table(prefix, "name", "organisation", "role", "expires", "revoked", "last used")
    for r in rows:
        table.add_row(
            r["prefix"],
            r["name"],
            r["organisation_name"],
            r["role"],
            _when(r["expires_at"]),
            _when(r["revoked_at"]),
            _when(r["last_used_at"]),
        )
    out.print(table)


# --------------------------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        list[str] | None,
        typer.Option(help="SEQ:HASH recorded earlier elsewhere (repeat); catches a rewritten chain"),
    ] = None,
) -> None:
    """Walk the hash chain and name the first broken link / 校验审计链."""
    anchors = {}
    for item in anchor or []:
        seq, _, digest = item.partition(":")
        anchors[int(seq)] = digest
    walking = progress_bar({"verify": "核验审计链 / verifying the chain"})
    with _session() as (_, conn, _actor), walking as report:
        result = audit.verify(conn, anchors=anchors, progress=report)
        kept = audit.kept_anchor(conn.engine)
        if result.ok and kept is not None:
            kept.advance(conn, result.head_seq, result.head_hash)
    if result.broken is not None:
        err.print(
            f"[red]✗ 审计链在第 {result.broken.seq} 条断开 / "
            f"audit chain broken at entry {result.broken.seq}[/]"
        )
        err.print(f"  {escape(result.broken.problem.render())}")
        raise typer.Exit(1)
    err.print(f"[green]✓[/] 审计链完整：{result.entries} 条 / audit chain intact: {result.entries} entries")
    # Keep this line somewhere else (a ticket, a signed e-mail): passed back as --anchor it proves that
    # nothing up to here was rewritten since.
    typer.echo(f"{result.head_seq}:{result.head_hash}")


@audit_app.command("show")
def audit_show(
    subject: Annotated[str, typer.Option(help="the subject's USCC, other code, or ID number")],
    limit: Annotated[int, typer.Option(help="newest first, at most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
) -> None:
    """Who did what concerning one subject, newest first / 查看与某信用主体有关的审计记录."""
    from xinyong.subjects.service import find_subject_id

    with _session() as (runtime, conn, actor):
        ref = audit.SubjectRef.from_code(subject, runtime.protector)
        subject_id = find_subject_id(conn, subject, protector=runtime.protector)
        rows = audit.entries(conn, subject=ref, subject_id=subject_id, limit=limit)
        audit.record(
            conn,
            principal=actor,
            action="audit.show",
            clock=runtime.clock,
            subject=ref,
            detail={"entries": len(rows)},
        )
    if as_json:
        echo_json([{k: v for k, v in r.items() if k not in ("prev_hash", "hash")} for r in rows])
        return
    table = Table("#", "时间 / at", "actor", "organisation", "action", "level", "purpose", "ip", "outcome")
    for r in rows:
        table.add_row(
            str(r["seq"]),
            _when(r["at"]),
            r["actor"],
            r["organisation_uscc"] or "",
            r["action"],
            r["level"] or "",
            r["purpose"] or "",
            r["ip"] or "",
            r["outcome"],
        )
    out.print(table)
    err.print(f"{len(rows)} 条 / entries about {ref.label}")
