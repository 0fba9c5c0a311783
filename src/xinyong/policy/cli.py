"""Command line for the policy and the working-day calendar (`xinyong policy`, `xinyong workdays`).

Exit codes: 0 done; 2 a problem the operator must fix (unknown calendar year, invalid file, bad date),
printed in Chinese and English on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from xinyong.policy.calendar_overrides import parse_override_file
from xinyong.policy.loader import load_policy, parse_policy_file, policy_path
from xinyong.policy.models import Policy
from xinyong.policy.workdays import WorkdayCalendar
from xinyong.problems import Problem, ProblemError

workdays_app = typer.Typer(
    help="工作日计算（法定节假日与调休） / working-day arithmetic with the statutory holiday calendar.",
    no_args_is_help=True,
)
policy_app = typer.Typer(
    help="策略规则 / the policy rules (periods, deadlines) and their sources.", no_args_is_help=True
)

EXIT_PROBLEM = 2

CalendarOption = Annotated[
    Path | None,
    typer.Option(
        "--calendar",
        help="覆盖文件或目录 / override file or directory "
        "(default: $XINYONG_CALENDAR, else $XINYONG_HOME/calendar)",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")]


def _fail(*problems: Problem) -> NoReturn:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for p in problems:
        err.print(f"[{p.code}] {p.message_zh}", markup=False)
        err.print(f"[{p.code}] {p.message_en}", markup=False)
    raise typer.Exit(EXIT_PROBLEM)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        _fail(
            Problem(
                "calendar.bad_date",
                f"日期格式不对：{text!r}，应为 YYYY-MM-DD",
                f"not a date: {text!r}, expected YYYY-MM-DD",
            )
        )


def _calendar(path: Path | None) -> WorkdayCalendar:
    try:
        return WorkdayCalendar(path)
    except ProblemError as exc:
        _fail(*exc.problems)


@workdays_app.command("add")
def add_command(
    date: Annotated[str, typer.Argument(help="起始日 YYYY-MM-DD（不计入） / start day, not counted")],
    days: Annotated[int, typer.Argument(help="工作日数 / number of working days")],
    as_json: JsonOption = False,
    calendar: CalendarOption = None,
) -> None:
    """第 N 个工作日（起始日不计） / the Nth working day after DATE."""
    start = _date(date)
    cal = _calendar(calendar)
    try:
        result = cal.add(start, days)
        skipped = [d for d, _ in cal.holidays_between(start, result) if d not in (start, result)]
    except ProblemError as exc:
        _fail(*exc.problems)
    if as_json:
        payload = {
            "start": start.isoformat(),
            "days": days,
            "result": result.isoformat(),
            "skipped_holidays": [d.isoformat() for d in skipped],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        typer.echo(result.isoformat())


@workdays_app.command("between")
def between_command(
    date1: Annotated[str, typer.Argument(help="起始日 YYYY-MM-DD（不计入） / start, excluded")],
    date2: Annotated[str, typer.Argument(help="结束日 YYYY-MM-DD（计入） / end, included")],
    as_json: JsonOption = False,
    calendar: CalendarOption = None,
) -> None:
    """(DATE1, DATE2] 内的工作日数，反向为负 / working days in (DATE1, DATE2], negative if reversed."""
    start, end = _date(date1), _date(date2)
    cal = _calendar(calendar)
    try:
        count = cal.between(start, end)
    except ProblemError as exc:
        _fail(*exc.problems)
    if as_json:
        typer.echo(json.dumps({"start": start.isoformat(), "end": end.isoformat(), "working_days": count}))
    else:
        typer.echo(str(count))


@workdays_app.command("years")
def years_command(calendar: CalendarOption = None) -> None:
    """已知年份及其来源 / the years the calendar knows and where each comes from."""
    cal = _calendar(calendar)
    table = Table(title="工作日历已知年份 / known calendar years")
    table.add_column("年份 Year")
    table.add_column("来源 Source")
    for year, source in cal.known_years():
        table.add_row(str(year), source)
    Console(soft_wrap=True).print(table)
    typer.echo(f"覆盖文件位置 / override location: {cal.override_location} ({cal.override_origin})")


@workdays_app.command("check")
def check_calendar_command(file: Annotated[Path, typer.Argument(help="覆盖文件 / override file")]) -> None:
    """检查一个工作日历覆盖文件 / validate a calendar override file before installing it."""
    try:
        parsed = parse_override_file(file)
        WorkdayCalendar(file)  # also the cross-file rules, as the calendar would load it
    except ProblemError as exc:
        _fail(*exc.problems)
    for year, schedule in sorted(parsed.root.items()):
        rest = sum(len(s.days()) for s in schedule.holidays)
        typer.echo(
            f"OK {year}: {rest} 个假日 / holiday days, {len(schedule.workdays)} 个调休工作日 / 调休 workdays"
            f" — {schedule.source}"
        )


def _rows(policy: Policy) -> list[dict[str, str | bool | None]]:
    return [
        {
            "rule": path,
            "value": entry.describe_value(),
            "confirmed": entry.confirmed,
            "source": entry.source,
            "note": entry.note,
        }
        for path, entry in policy.iter_rules()
    ]


@policy_app.command("show")
def show_command(
    as_json: JsonOption = False,
    file: Annotated[
        Path | None, typer.Option("--file", help="策略文件 / policy file (default: active)")
    ] = None,
) -> None:
    """列出全部规则及来源 / list every rule with its value and source ([C] confirmed, [U] default)."""
    try:
        policy = load_policy(file)
    except ProblemError as exc:
        _fail(*exc.problems)
    rows = _rows(policy)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"策略 / policy: {file or policy_path()}", show_lines=True)
    table.add_column("规则 Rule", overflow="fold")
    table.add_column("取值 Value", overflow="fold")
    table.add_column("C/U")
    table.add_column("来源 Source", overflow="fold")
    table.add_column("说明 Note", overflow="fold")
    for row in rows:
        table.add_row(
            str(row["rule"]),
            str(row["value"]),
            "[C]" if row["confirmed"] else "[U]",
            str(row["source"]),
            str(row["note"] or ""),
        )
    Console(soft_wrap=False).print(table, markup=False)


@policy_app.command("check")
def check_policy_command(file: Annotated[Path, typer.Argument(help="策略文件 / policy file")]) -> None:
    """检查策略文件 / validate a policy file (exit 2 with every problem and its YAML path)."""
    try:
        policy = parse_policy_file(file)
    except ProblemError as exc:
        _fail(*exc.problems)
    rules = list(policy.iter_rules())
    unconfirmed = sum(1 for _, e in rules if not e.confirmed)
    typer.echo(f"OK {file}: {len(rules)} 条规则 / rules, {unconfirmed} 条未确认 [U] / unconfirmed")
