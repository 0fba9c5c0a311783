"""One command line for everything an operator does. Each chapter's package brings its own sub-commands."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from xinyong.apply.cli import apply_app, check, lists_app, matters, push_app, subscribe_app
from xinyong.apply.cli_casework import cases_app, memoranda_app
from xinyong.catalog.cli import app as catalog_app
from xinyong.codes.cli import app as code_app
from xinyong.collect.cli import batch_app, ingest
from xinyong.config import DEMO_MARKER, Settings
from xinyong.deadlines.cli import build_app as build_deadlines_app
from xinyong.disclose.cli import search_app
from xinyong.policy.cli import policy_app, workdays_app
from xinyong.reports.cli import report_app
from xinyong.rights.cli import objection_app, record_app, repair_app
from xinyong.rights.notify import deliver_and_send
from xinyong.security.cli import audit_app, org_app, token_app, user_app
from xinyong.timeouts import all_consequences

app = typer.Typer(
    name="xinyong",
    help="Xinyong 信用 — 公共信用信息平台 / public credit information platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(code_app, name="code", help="统一社会信用代码等代码校验 / identifier checks")
app.add_typer(workdays_app, name="workdays", help="工作日计算 / working-day arithmetic")
app.add_typer(policy_app, name="policy", help="规则参数 / rules as data")
app.add_typer(catalog_app, name="catalog", help="公共信用信息目录 / the catalogue")
app.add_typer(org_app, name="org", help="机构 / organisations")
app.add_typer(user_app, name="user", help="用户账户 / user accounts")
app.add_typer(token_app, name="token", help="接口令牌 / API tokens")
app.add_typer(audit_app, name="audit", help="审计日志 / the audit trail")
app.command("ingest")(ingest)
app.add_typer(batch_app, name="batch", help="报送批次 / submitted batches")
app.add_typer(search_app, name="search", help="检索索引 / the name search index")
app.add_typer(record_app, name="record", help="信用记录 / credit records (revocation)")
app.add_typer(objection_app, name="objection", help="异议 / objections")
app.add_typer(repair_app, name="repair", help="信用修复 / credit repair")
app.add_typer(report_app, name="report", help="信用报告 / credit reports")
app.add_typer(lists_app, name="lists", help="红黑名单 / red and black lists")
app.command("matters")(matters)
app.command("check")(check)
app.add_typer(subscribe_app, name="subscribe", help="订阅推送 / subscriptions")
app.add_typer(push_app, name="push", help="推送 / webhook delivery")
app.add_typer(memoranda_app, name="memoranda", help="发起响应 / proposed memoranda")
app.add_typer(cases_app, name="cases", help="案例报送 / case reports")
app.add_typer(apply_app, name="apply", help="信用应用统计 / the application chapter's figures")
app.add_typer(
    build_deadlines_app(all_consequences, after_run=deliver_and_send),
    name="deadlines",
    help="办理时限 / deadlines",
)

db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
key_app = typer.Typer(help="密钥 / keys", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(key_app, name="key")

console = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema / 升级数据库结构."""
    from xinyong.store.engine import current_revision, make_engine, upgrade

    settings = Settings.from_env()
    settings.ensure_home()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    console.print(f"数据库已是最新结构 / database at revision [bold]{current_revision(engine)}[/]")
    engine.dispose()


@key_app.command("generate")
def key_generate() -> None:
    """Print a new personal-identifier key for XINYONG_PII_KEY / 生成个人身份信息密钥."""
    from xinyong.security.pii import generate_key

    typer.echo(generate_key())


@key_app.command("seal-names")
def key_seal_names() -> None:
    """Seal the persons' names stored in clear before this version / 加密存量数据中的自然人姓名.

    Safe to stop and to run again: each chunk is its own transaction and sealed names are left alone."""
    from xinyong.cliutil import open_runtime, progress_bar
    from xinyong.collect.cli import STAGES
    from xinyong.collect.sealing import seal_stored_names

    with open_runtime(None) as runtime, progress_bar(STAGES) as report:
        counts = seal_stored_names(runtime, progress=report)
    console.print(
        f"已加密 / sealed: 主体名称 subject names {counts.subject_names}，信用记录 records {counts.records}，"
        f"历史版本 versions {counts.versions}，拒收或警示行 kept rows {counts.kept_rows}"
    )


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    workers: Annotated[
        int | None, typer.Option(min=1, help="worker processes (default: the number of cores)")
    ] = None,
    backlog: Annotated[int, typer.Option(min=1, help="listen backlog (capped by net.core.somaxconn)")] = 2048,
    keep_alive: Annotated[int, typer.Option(min=1, help="seconds an idle keep-alive connection stays")] = 75,
    access_log: Annotated[bool, typer.Option(help="log every request (uvicorn's access log)")] = True,
) -> None:
    """Serve the web platform / 启动网站与接口服务."""
    _serve(
        Settings.from_env(),
        host=host,
        port=port,
        workers=workers,
        backlog=backlog,
        keep_alive=keep_alive,
        access_log=access_log,
    )


@app.command()
def demo(
    subjects: Annotated[int, typer.Option(help="how many synthetic subjects to create")] = 2000,
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="seed the database and exit")] = False,
    seed: Annotated[int, typer.Option(help="random seed of the synthetic data")] = 20170701,
) -> None:
    """Seed a demo database with synthetic Hubei data and serve it / 生成演示数据并启动."""
    from xinyong.demo.seed import seed_demo
    from xinyong.runtime import Runtime

    settings = Settings.from_env(demo=True)
    settings.ensure_home()
    (settings.home / DEMO_MARKER).write_text("This XINYONG_HOME holds synthetic demo data.\n")
    runtime = Runtime.open(settings)
    try:
        summary = seed_demo(runtime, subjects=subjects, seed=seed, console=console)
    finally:
        runtime.close()
    console.print(summary)
    if not no_serve:
        _serve(settings, host="127.0.0.1", port=port)


def _serve(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int | None = None,
    backlog: int = 2048,
    keep_alive: int = 75,
    access_log: bool = True,
) -> None:
    from rich.markup import escape

    from xinyong.problems import ProblemError
    from xinyong.web.schedule import interval_from_env, push_interval_from_env, search_interval_from_env
    from xinyong.web.serve import ServeOptions, default_workers, run

    options = ServeOptions(
        workers=workers or default_workers(),
        backlog=backlog,
        keep_alive_s=keep_alive,
        log_level=os.environ.get("XINYONG_LOG_LEVEL", "info"),
        access_log=access_log,
        deadlines_every=interval_from_env(),
        push_every=push_interval_from_env(),
        search_every=search_interval_from_env(),
    )
    console.print(
        f"Xinyong 信用 on http://{host}:{port}/  (API docs: http://{host}:{port}/docs), "
        f"{options.workers} worker(s)"
    )
    try:
        run(settings, host=host, port=port, options=options)
    except ProblemError as exc:
        for problem in exc.problems:
            console.print(f"[red]✗ {escape(problem.render())}[/]")
        raise typer.Exit(2) from exc


def main() -> None:
    app()


if __name__ == "__main__":
    main()
