"""`xinyong deadlines run|list`: time out overdue tasks, and read an organisation's queue.

`run` is idempotent: it prints what it did, `{"suspended": [...], "overdue": [...], "reminded": [...]}`,
and a second run for the same day prints empty lists. `xinyong serve` runs it on a schedule too
(XINYONG_DEADLINES_INTERVAL_S, docs/rights.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import typer
from rich.markup import escape

from xinyong.cliutil import FIXED_NOW_ENV, echo_json, err, fail, open_runtime
from xinyong.clock import CHINA
from xinyong.deadlines.service import VIEWS, Consequence, Owner, run, tasks_for
from xinyong.problems import ProblemError

NowOption = Annotated[
    str | None,
    typer.Option("--now", envvar=FIXED_NOW_ENV, hidden=True, help="tests only: fix the clock at this moment"),
]


AfterRun = Callable[[Any], Mapping[str, int]]


def build_app(
    consequences: Callable[[], Mapping[str, Consequence]], after_run: AfterRun | None = None
) -> typer.Typer:
    """The command group, given the chapters' consequences and what to do once a run is committed
    (`after_run(runtime)`: deliver the notifications it caused) — the engine cannot import them itself."""
    app = typer.Typer(help="办理时限 / deadlines", no_args_is_help=True)

    @app.command("run")
    def run_command(
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="处理日期 YYYY-MM-DD（默认今天）/ the day to run as")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        now: NowOption = None,
    ) -> None:
        """Time out overdue tasks, apply their consequences, send reminders / 处理到期办理事项."""
        with open_runtime(now) as runtime:
            day = _date(as_of) or runtime.clock.now().astimezone(CHINA).date()
            try:
                report = run_once(runtime, as_of=day, consequences=consequences())
            except ProblemError as exc:
                fail(exc, 1)
            if after_run is not None:
                # The run's reminders and suspensions reach the inboxes and mailboxes now, as in `serve`.
                after_run(runtime)
        _print(report, as_json)

    @app.command("list")
    def list_command(
        org: Annotated[
            str, typer.Option("--org", help="机构统一社会信用代码，或 platform / USCC or platform")
        ],
        view: Annotated[str, typer.Option("--view", help=" | ".join(VIEWS))] = "open",
        as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        now: NowOption = None,
    ) -> None:
        """One organisation's tasks: due today, overdue, done, open / 待办."""
        code = org.strip().upper()
        owner = Owner.platform() if code == "PLATFORM" else Owner.organisation(code)
        with open_runtime(now) as runtime, runtime.engine.connect() as conn:
            day = _date(as_of) or runtime.clock.now().astimezone(CHINA).date()
            try:
                found = tasks_for(conn, owner=owner, view=view, as_of=day)  # type: ignore[arg-type]
            except ProblemError as exc:
                fail(exc, 2)
        _print([t.as_dict() for t in found], as_json)

    return app


def run_once(runtime: Any, *, as_of: dt.date, consequences: Mapping[str, Consequence]) -> dict[str, Any]:
    """One run in one transaction, audited when it changed anything."""
    from xinyong.security import audit
    from xinyong.security.principal import Principal

    with runtime.engine.begin() as conn:
        report = run(conn, as_of=as_of, clock=runtime.clock, consequences=consequences)
        if report.changed:
            answer = report.as_dict()
            audit.record(
                conn,
                principal=Principal.system("deadlines"),
                action="deadlines.run",
                clock=runtime.clock,
                detail={"as_of": as_of.isoformat(), **{k: len(v) for k, v in answer.items()}},
            )
    return report.as_dict()


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]✗ 日期格式应为 YYYY-MM-DD / a date is YYYY-MM-DD: {escape(text)}[/]")
        raise typer.Exit(2) from None


def _print(data: Any, as_json: bool) -> None:
    echo_json(data, indent=2 if as_json else None)
