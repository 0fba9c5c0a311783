"""`xinyong deadlines run|list`: time out overdue tasks, and read an organisation's queue.

`run` is idempotent: it prints what it did, `{"suspended": [...], "overdue": [...], "reminded": [...]}`,
and a second run for the same day prints empty lists. `xinyong serve` runs it on a schedule too
(XINYONG_DEADLINES_INTERVAL_S, docs/rights.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from xinyong.clock import CHINA
from xinyong.deadlines.service import VIEWS, Consequence, Owner, run, tasks_for
from xinyong.problems import ProblemError

err = Console(stderr=True, soft_wrap=True)
FIXED_NOW_ENV = "XINYONG_FIXED_NOW"

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
        with _runtime(now) as runtime:
            day = _date(as_of) or runtime.clock.now().astimezone(CHINA).date()
            try:
                report = run_once(runtime, as_of=day, consequences=consequences())
            except ProblemError as exc:
                _fail(exc, 1)
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
        with _runtime(now) as runtime, runtime.engine.connect() as conn:
            day = _date(as_of) or runtime.clock.now().astimezone(CHINA).date()
            try:
                found = tasks_for(conn, owner=owner, view=view, as_of=day)  # type: ignore[arg-type]
            except ProblemError as exc:
                _fail(exc, 2)
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


@contextmanager
def _runtime(now: str | None) -> Iterator[Any]:
    from xinyong.clock import FixedClock
    from xinyong.logging import configure_logging
    from xinyong.runtime import Runtime

    try:
        runtime = Runtime.open_current(clock=FixedClock(now) if now else None)
    except ProblemError as exc:
        _fail(exc, 2)
    configure_logging(runtime.settings, stderr=False)
    try:
        yield runtime
    finally:
        runtime.close()


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]✗ 日期格式应为 YYYY-MM-DD / a date is YYYY-MM-DD: {escape(text)}[/]")
        raise typer.Exit(2) from None


def _print(data: Any, as_json: bool) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2 if as_json else None, default=str))


def _fail(exc: ProblemError, code: int) -> NoReturn:
    for p in exc.problems:
        err.print(f"[red]✗ {escape(p.render())}[/]")
    raise typer.Exit(code)
