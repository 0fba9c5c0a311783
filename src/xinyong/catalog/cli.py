"""``xinyong catalog ...``: check a catalogue edition before publishing it, and look inside one.

The lead mounts ``app`` under the main command line; it also runs alone (``python -m xinyong.catalog.cli``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from xinyong.catalog.loader import Catalog, load_catalog
from xinyong.catalog.models import FieldSpec, FieldType, Item
from xinyong.problems import ProblemError

app = typer.Typer(
    help="公共信用信息目录：检查与查看 / the public credit information catalogue: check and show.",
    no_args_is_help=True,
)

FileOption = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="目录文件；缺省为内置示范目录 / catalogue file (default: packaged)"),
]


def _console() -> Console:
    # Piped into a log or CI, rich would assume 80 columns and squeeze the field table unreadably; soft_wrap
    # keeps each problem message on one line so it can be grepped.
    width = None if sys.stdout.isatty() else 160
    return Console(soft_wrap=True, highlight=False, width=width)


def _refused(console: Console, error: ProblemError, *, title: str) -> None:
    console.print(f"[bold red]{title}（{len(error.problems)} 个问题 / {len(error.problems)} problem(s)）[/]")
    for problem in error.problems:
        console.print(Text.assemble(("✗ ", "red"), f"[{problem.code}] {problem.message_zh}"))
        console.print(Text(f"    {problem.message_en}", style="dim"))


def _load(console: Console, file: Path | None) -> Catalog:
    try:
        return load_catalog(file)
    except ProblemError as error:
        _refused(console, error, title="目录被拒绝 / catalogue refused")
        raise typer.Exit(1) from None


@app.command()
def check(file: Annotated[Path, typer.Argument(help="要检查的目录 YAML 文件 / catalogue YAML file")]) -> None:
    """检查目录文件；通过时打印摘要，被拒绝时列出每个问题并以 1 退出。"""
    console = _console()
    catalog = _load(console, file)
    console.print(f"[bold green]✓ 目录通过检查 / catalogue accepted[/]：{catalog.edition}")
    console.print(f"  来源 / source：{catalog.source}", markup=False)
    console.print(f"  SHA-256：{catalog.sha256}")
    table = _items_table(catalog)
    console.print(table)
    fields = sum(len(item.fields) for item in catalog.items)
    console.print(f"共 {len(catalog)} 个事项、{fields} 个字段 / {len(catalog)} items, {fields} fields")


@app.command()
def show(
    item: Annotated[str | None, typer.Argument(help="事项代码，如 XZCF；省略则列出全部事项")] = None,
    file: FileOption = None,
) -> None:
    """列出目录事项，或显示一个事项的全部字段。"""
    console = _console()
    catalog = _load(console, file)
    if item is None:
        console.print(f"[bold]{catalog.edition}[/]")
        console.print(_items_table(catalog))
        return
    try:
        found = catalog.item(item)
    except ProblemError as error:
        _refused(console, error, title="没有这个事项 / no such item")
        raise typer.Exit(1) from None
    _print_item(console, found)


def _items_table(catalog: Catalog) -> Table:
    table = Table(title="目录事项 / items")
    for header in ("代码", "名称", "English", "类别", "披露", "主体", "字段", "必填", "来源键"):
        table.add_column(header, overflow="fold")
    for item in catalog.items:
        table.add_row(
            item.code,
            item.name_zh,
            item.name_en,
            f"{item.category.value} {item.category.label_en}",
            f"{item.disclosure_level.value} {item.disclosure_level.label_en}",
            "、".join(k.label_zh for k in item.subject_kinds),
            str(len(item.fields)),
            str(sum(f.required for f in item.fields)),
            ", ".join(item.source_key),
        )
    return table


def _print_item(console: Console, item: Item) -> None:
    console.print(f"[bold]{item.code} {item.name_zh}[/] / {item.name_en}")
    facts = [
        ("类别 category", f"{item.category.value} ({item.category.label_en})"),
        ("披露 disclosure", f"{item.disclosure_level.value} ({item.disclosure_level.label_en})"),
        ("披露期限规则 period rule", item.disclosure_period),
        ("主体 subjects", "、".join(k.label_zh for k in item.subject_kinds)),
        ("提供单位 provider", item.provider or "—"),
        ("来源键 source key", ", ".join(item.source_key)),
        ("主体字段 subject fields", ", ".join(f"{r}={c}" for r, c in item.subject_fields.roles().items())),
        ("日期字段 date fields", ", ".join(f"{r}={c}" for r, c in item.date_fields.roles().items()) or "—"),
        (
            "时限 timeliness",
            f"政策规则 policy rule: {item.timeliness}" if item.timeliness else "—",
        ),
        ("需书面同意 consent", "是" if item.consent_required else "否"),
        ("依据 source", item.source or "—"),
    ]
    for label, value in facts:
        console.print(f"  {label}：{value}", markup=False)
    table = Table(title=f"{item.code} 字段 / fields")
    for header in ("代码", "表头", "English", "类型", "必填", "取值与规则", "别名"):
        table.add_column(header, overflow="fold")
    for spec in item.fields:
        table.add_row(
            spec.code,
            spec.name_zh,
            spec.name_en,
            _type(spec),
            _required(spec),
            _rules(spec),
            "、".join(spec.aliases),
        )
    console.print(table)


def _type(spec: FieldSpec) -> str:
    if spec.type is FieldType.DECIMAL:
        unit = f" {spec.unit}" if spec.unit else ""
        return f"decimal({spec.precision},{spec.scale}){unit}"
    return spec.type.value


def _required(spec: FieldSpec) -> str:
    if spec.required:
        return "是"
    if spec.required_if is not None:
        return f"条件：{spec.required_if.describe()}"
    return "否"


def _rules(spec: FieldSpec) -> str:
    parts = []
    if spec.enum:
        labels = spec.enum_labels or {}
        parts.append("；".join(f"{v}={labels[v]}" if v in labels else v for v in spec.enum))
    if spec.separators:
        parts.append(f"分隔符 {' '.join(spec.separators)}")
    if spec.identifier:
        parts.append(f"标识 {spec.identifier.value}")
    if spec.placeholder:
        parts.append(f"占位 {'、'.join(spec.placeholder)}")
    if spec.max_length:
        parts.append(f"≤{spec.max_length}")
    if spec.sensitive:
        parts.append("敏感·脱敏")
    return "\n".join(parts)


if __name__ == "__main__":
    app()
