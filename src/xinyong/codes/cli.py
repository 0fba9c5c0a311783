"""`xinyong code check CODE [--kind K] [--json]`: check one identifier from the command line.

Exit status 0 when the code is valid, 1 when it is not (2 for a usage error), so scripts can use it.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from xinyong.codes.check import check
from xinyong.codes.result import CodeCheck

app = typer.Typer(help="代码校验 / identifier checks", no_args_is_help=True)

_KIND_ZH = {
    "uscc": "统一社会信用代码",
    "orgcode": "组织机构代码",
    "idcard": "公民身份号码",
    "regno": "工商注册号",
    "unknown": "无法识别的代码",
}
# Labels for the parts worth showing a clerk, in display order.
_PART_LABELS = {
    "authority_code": "登记管理部门",
    "org_type_code": "机构类别",
    "division_code": "行政区划",
    "embedded_orgcode": "组织机构代码（第9-17位）",
    "birth_date": "出生日期",
    "sex_zh": "性别",
    "upgraded": "对应18位号码",
    "sequence": "顺序码",
    "subject_class": "主体类别（按顺序码首位）",
    "formatted": "书写形式",
    "check_char": "校验位",
    "detection_zh": "识别依据",
}


class KindOption(StrEnum):
    uscc = "uscc"
    orgcode = "orgcode"
    idcard = "idcard"
    regno = "regno"


@app.callback()
def _group() -> None:
    """代码校验 / identifier checks."""
    # A callback keeps `check` a named sub-command even while it is the only one.


@app.command("check")
def check_command(
    code: Annotated[str, typer.Argument(help="要校验的代码 / the identifier to check")],
    kind: Annotated[
        KindOption | None,
        typer.Option("--kind", "-k", help="代码种类，不填则自动识别 / kind; detected when omitted"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出JSON / print JSON")] = False,
    today: Annotated[
        str | None,
        typer.Option(help="以该日期为今天（YYYY-MM-DD），用于出生日期校验 / date to treat as today"),
    ] = None,
) -> None:
    """校验一个代码 / check one identifier."""
    try:
        today_date = dt.date.fromisoformat(today) if today else None
    except ValueError as exc:
        raise typer.BadParameter(f"日期格式应为YYYY-MM-DD / expected YYYY-MM-DD: {today}") from exc
    result = check(code, kind.value if kind else None, today=today_date)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_human(result)
    raise typer.Exit(0 if result.valid else 1)


def _print_human(result: CodeCheck) -> None:
    console = Console(highlight=False, soft_wrap=True)
    what = _KIND_ZH[result.kind]
    if result.valid:
        console.print(f"[bold green]✔ 有效[/]  {what}  {escape(result.normalized)}")
    else:
        console.print(f"[bold red]✘ 无效[/]  {what}  {escape(result.normalized)}")
    for key, label in _PART_LABELS.items():
        if key in result.parts and result.parts[key] is not None:
            console.print(f"  {label}：{escape(_describe(key, result.parts))}")
    for p in result.errors:
        console.print(f"  [red]错误[/] {escape(f'[{p.code}]')} {escape(p.message_zh)}")
    for p in result.warnings:
        console.print(f"  [yellow]提示[/] {escape(f'[{p.code}]')} {escape(p.message_zh)}")


def _describe(key: str, parts: dict[str, Any]) -> str:
    value = str(parts[key])
    named = {
        "authority_code": "authority_name",
        "org_type_code": "org_type_name",
        "division_code": "division_name",
    }.get(key)
    if named and parts.get(named):
        return f"{value}（{parts[named]}）"
    return value
