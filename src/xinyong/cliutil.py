"""What every chapter's command line shares: the `--json`/`--org`/`--now` options, opening the runtime,
printing a refusal (Chinese then English, on stderr) with its exit code, JSON output and date options.

A top-level module, below every chapter and beside the ground, so `*/cli.py` at any level may import it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.problems import Problem, ProblemError

FIXED_NOW_ENV = "XINYONG_FIXED_NOW"

err = Console(stderr=True, soft_wrap=True)

Json = Annotated[bool, typer.Option("--json", help="print JSON")]
Org = Annotated[
    str | None,
    typer.Option("--org", help="代表该机构操作（统一社会信用代码）/ act for this organisation (USCC)"),
]
Now = Annotated[
    str | None,
    typer.Option("--now", envvar=FIXED_NOW_ENV, hidden=True, help="tests only: fix the clock at this moment"),
]


def fail(problems: ProblemError | Iterable[Problem], code: int, *, console: Console = err) -> NoReturn:
    """Print each problem (both languages) on stderr and end the command with `code`."""
    for p in problems.problems if isinstance(problems, ProblemError) else problems:
        console.print(f"[red]✗ {escape(p.render())}[/]")
    raise typer.Exit(code)


def echo_json(data: Any, *, indent: int | None = 2) -> None:
    """One JSON document on stdout, Chinese kept readable; dates and decimals as text."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=indent, default=str))


def parse_date(text: str | None, field: str | None = None) -> dt.date | None:
    """An optional YYYY-MM-DD option; anything else is a usage problem (`cli.date`, exit 2)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problem = Problem("cli.date", f"日期应为 YYYY-MM-DD：{text}", f"a date is YYYY-MM-DD: {text}", field)
        fail(ProblemError(problem), 2)


@contextmanager
def open_runtime(now: str | None, *, refused: int | None = None) -> Iterator[Any]:
    """The runtime of XINYONG_HOME / XINYONG_DATABASE_URL (a configuration problem exits 2), closed after.
    With `refused`, a ProblemError raised inside the block ends the command with that exit code."""
    from xinyong.clock import FixedClock
    from xinyong.logging import configure_logging
    from xinyong.runtime import Runtime

    try:
        runtime = Runtime.open_current(clock=FixedClock(now) if now else None)
    except ProblemError as exc:
        fail(exc, 2)
    configure_logging(runtime.settings, stderr=False)
    try:
        yield runtime
    except ProblemError as exc:
        if refused is None:
            raise
        fail(exc, refused)
    finally:
        runtime.close()


@contextmanager
def acting(now: str | None, org: str | None, *, roles: dict[str, str]) -> Iterator[tuple[Any, Any, Any]]:
    """(runtime, a connection in one transaction, the acting principal); refusals end the command plainly
    (exit 1). Without `org` the command acts as the platform (`system:cli:<user>`); with it, for that
    registered organisation, whose kind maps to a role through `roles` (any other acts as a provider)."""
    from xinyong.security.organisations import acting_for

    with open_runtime(now, refused=1) as runtime, runtime.engine.begin() as conn:
        yield runtime, conn, acting_for(conn, org, actor=f"cli:{getpass.getuser()}", roles=roles)


@contextmanager
def progress_bar(labels: Mapping[str, str] | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """report(stage, done, total): a progress bar on a terminal, one bar a stage, titled by `labels`;
    elsewhere (a pipe, a log, a test) one plain line per step on stderr."""
    if not err.is_terminal:

        def line(stage: str, done: int, total: int) -> None:
            print(f"进度 / progress: {stage} {done}/{total}", file=sys.stderr, flush=True)

        yield line
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task((labels or {}).get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
