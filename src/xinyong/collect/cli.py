"""`xinyong ingest FILE` and `xinyong batch list|show|errors|timeliness`: collection from the command line.

Exit codes, for scripts that drive the platform: 0 the batch was loaded (some rows may have been
rejected: see the summary), 1 the whole file was refused (each problem is printed), 2 a usage problem
(unknown item or submitter, unknown batch, bad option, database not migrated).

For tests only: `--now` (or XINYONG_FIXED_NOW) fixes the platform clock and zeroes the timings, so that two
runs produce byte-identical databases; XINYONG_INGEST_CHUNK_ROWS sets how many rows are checked at a time.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xinyong.cliutil import FIXED_NOW_ENV, echo_json, err, fail, open_runtime, progress_bar
from xinyong.problems import Problem, ProblemError

batch_app = typer.Typer(help="报送批次 / submitted batches", no_args_is_help=True)

CHUNK_ENV = "XINYONG_INGEST_CHUNK_ROWS"
STAGES = {
    "read": "读取 / read",
    "checked": "校验 / check",
    "loaded": "入库 / load",
    # xinyong key seal-names
    "subjects": "主体名称 / subjects",
    "records": "信用记录 / records",
    "record_versions": "记录历史版本 / record versions",
    "rejected_rows": "拒收行 / rejected rows",
    "row_warnings": "警示行 / rows with warnings",
}

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        envvar=FIXED_NOW_ENV,
        hidden=True,
        help="tests only: fix the clock at this ISO moment and report zero seconds",
    ),
]


def ingest(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV / xlsx / xls / json / jsonl"),
    ],
    item: Annotated[str, typer.Option("--item", help="目录事项代码 / catalogue item, e.g. XZCF")],
    provider: Annotated[str, typer.Option("--provider", help="报送单位统一社会信用代码 / submitter's USCC")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv|xlsx|xls|json|jsonl (default: from the file name)"),
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel 工作表名称 / sheet name (default: first)")] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            "--header-row",
            min=1,
            help="表头所在行号 / the row holding the headers (default: found among the first rows)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    now: NowOption = None,
) -> None:
    """Ingest a provider's file for one catalogue item / 归集一个报送文件."""
    from xinyong.collect.auditing import record_submission
    from xinyong.collect.service import CHUNK_ROWS
    from xinyong.collect.service import ingest as run_ingest
    from xinyong.security.principal import Principal

    chunk_rows = _chunk_rows(CHUNK_ROWS)
    with open_runtime(now) as runtime, progress_bar(STAGES) as report:
        try:
            summary = run_ingest(
                runtime,
                path=file,
                item_code=item.strip().upper(),
                submitter_uscc=provider,
                fmt=fmt,
                sheet=sheet,
                header_row=header_row,
                progress=report,
                chunk_rows=chunk_rows,
                timer=(lambda: 0.0) if now else time.perf_counter,
            )
        except ProblemError as exc:
            fail(exc, 2)
        with runtime.engine.begin() as conn:
            record_submission(
                conn,
                principal=Principal.system(f"cli:{getpass.getuser()}"),
                summary=summary,
                submitter=provider,
                clock=runtime.clock,
            )
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_summary(summary.as_dict())
    if summary.status == "refused":
        for problem in summary.problems:
            err.print(f"[red]✗ {escape(problem.render())}[/]")
        raise typer.Exit(1)


@batch_app.command("list")
def batch_list(
    provider: Annotated[
        str | None,
        typer.Option("--provider", help="报送单位统一社会信用代码 / only this submitter's batches"),
    ] = None,
    item: Annotated[str | None, typer.Option(help="目录事项代码 / catalogue item")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="最多列出 / at most this many")] = 50,
    before: Annotated[
        int | None, typer.Option(min=1, help="只列批次号小于此值的 / only batches older than this id")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    now: NowOption = None,
) -> None:
    """The batches sent, newest first / 报送批次列表."""
    from xinyong.clock import CHINA
    from xinyong.collect.queries import list_batches

    with open_runtime(now) as runtime, runtime.engine.connect() as conn:
        page = list_batches(
            conn,
            submitter_uscc=provider.strip().upper() if provider else None,
            item=item.strip().upper() if item else None,
            before=before,
            limit=limit,
        )
    if as_json:
        body = {"items": page.items, "next": page.next_cursor, "total": page.total}
        echo_json(body)
        return
    table = Table("批次", "事项", "状态", "报送单位 submitter", "行数 rows", "接收时间")
    table.columns[4].no_wrap = table.columns[5].no_wrap = True
    table.columns[3].overflow = "fold"  # a name cut short with "…" could be another department's
    for b in page.items:
        counts = "+".join(str(b[k]) for k in ("inserted", "updated", "unchanged", "rejected"))
        table.add_row(
            str(b["batch_id"]),
            escape(b["item"]),
            escape(b["status"]),
            escape(b["submitter"]["name"] or b["submitter"]["uscc"]),
            f"{b['received']} = {counts}",
            b["created_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if b["created_at"] else "",
        )
    out = Console()
    out.print(table)
    more = f"; 下一页 / next page: --before {page.next_cursor}" if page.next_cursor else ""
    out.print("行数 rows = 新增 + 更新 + 未变 + 退回 (inserted + updated + unchanged + rejected)")
    out.print(f"共 {page.total} 个批次 / {page.total} batches, {len(page.items)} shown{more}")


@batch_app.command("show")
def batch_show(
    batch_id: Annotated[int, typer.Argument(help="批次号 / batch id")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    now: NowOption = None,
) -> None:
    """A batch's status and counts / 查看批次状态."""
    from xinyong.collect.feedback import not_found
    from xinyong.collect.queries import batch_view

    with open_runtime(now) as runtime, runtime.engine.connect() as conn:
        view = batch_view(conn, batch_id)
    if view is None:
        fail(ProblemError(not_found(batch_id)), 2)
    if as_json:
        echo_json(view)
    else:
        _print_summary(view)


@batch_app.command("errors")
def batch_errors(
    batch_id: Annotated[int, typer.Argument(help="批次号 / batch id")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="file to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv | xlsx")] = "xlsx",
    lang: Annotated[str, typer.Option(help="问题说明的语言 / language of the reasons: zh | en")] = "zh",
    open_only: Annotated[
        bool, typer.Option("--open-only", help="leave out rows a later batch already corrected")
    ] = False,
    now: NowOption = None,
) -> None:
    """Write the 问题数据反馈 file of a batch (rejected rows, rows loaded with a warning, and the reasons)
    / 导出问题数据反馈."""
    from xinyong.collect.feedback import FORMATS, build_feedback, render
    from xinyong.security import audit
    from xinyong.security.principal import Principal

    if fmt not in FORMATS or lang not in ("zh", "en"):
        fail(
            ProblemError(
                Problem(
                    "feedback.format",
                    "--format 只能是 csv 或 xlsx，--lang 只能是 zh 或 en",
                    "--format must be csv or xlsx, --lang zh or en",
                )
            ),
            2,
        )
    with open_runtime(now) as runtime, runtime.engine.begin() as conn:
        try:
            feedback = build_feedback(
                conn,
                batch_id,
                runtime,
                lang=lang,
                status="open" if open_only else None,  # type: ignore[arg-type]
            )
        except ProblemError as exc:
            fail(exc, 2)
        out.write_bytes(render(feedback, fmt))
        # The file shows personal ID numbers in clear: who took it is on the record.
        audit.record(
            conn,
            principal=Principal.system(f"cli:{getpass.getuser()}"),
            action="batch.errors",
            clock=runtime.clock,
            object_type="batch",
            object_id=batch_id,
            detail={"format": fmt, "rows": len(feedback.rows)},
        )
    rows = len(feedback.rows)
    err.print(
        f"[green]✓[/] 已写出 {rows} 行问题数据（退回及入库待核实）/ wrote {rows} rows (rejected, or loaded "
        f"to be checked): {escape(str(out))}"
    )


@batch_app.command("timeliness")
def batch_timeliness(
    item: Annotated[str | None, typer.Option(help="目录事项代码 / catalogue item")] = None,
    since: Annotated[
        str | None, typer.Option(help="首次接收不早于 / first received on or after, YYYY-MM-DD")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    now: NowOption = None,
) -> None:
    """Timeliness per source department (双公示 7 working days) / 各数据来源单位报送及时性."""
    import datetime as dt

    from xinyong.collect.queries import timeliness_by_provider

    try:
        day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        fail(ProblemError(Problem("cli.date", f"日期无效：{since}", f"not a date: {since}", "since")), 2)
    with open_runtime(now) as runtime, runtime.engine.connect() as conn:
        figures = [t.as_dict() for t in timeliness_by_provider(conn, item=item, since=day)]
    if as_json:
        typer.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    table = Table("统一社会信用代码 USCC", "数据来源单位 source", "记录", "已计", "逾期 late", "平均工作日")
    table.columns[0].no_wrap = True  # a USCC broken over two lines cannot be copied
    for f in figures:
        table.add_row(
            f["source_uscc"],
            escape(f["source_name"] or ""),
            str(f["records"]),
            str(f["measured"]),
            str(f["late"]),
            "" if f["average_working_days"] is None else f"{f['average_working_days']:.2f}",
        )
    Console().print(table)
    Console().print("记录 records, 已计 measured (working days known), 平均工作日 average working days")


# ------------------------------------------------------------------------------------------- helpers


def _chunk_rows(default: int) -> int:
    value = os.environ.get(CHUNK_ENV, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        fail(
            ProblemError(
                Problem(
                    "cli.chunk_rows",
                    f"{CHUNK_ENV} 应为正整数，而不是“{value}”",
                    f"{CHUNK_ENV} must be a positive integer, not '{value}'",
                )
            ),
            2,
        )
    return int(value)


def _print_summary(s: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)
    status = {"done": "[green]已入库 done[/]", "refused": "[red]整批拒收 refused[/]"}.get(
        s["status"], escape(s["status"])
    )
    out.print(
        f"批次 / batch [bold]{s['batch_id']}[/]  事项 / item {escape(s['item'])}  {status}"
        + (f"  文件 / file {escape(s['filename'])}" if s.get("filename") else "")
        + (f"（{s['format']}, {s['encoding']}）" if s.get("format") else "")
    )
    out.print(
        f"收到 received {s['received']} = 新增 inserted {s['inserted']} + 更新 updated {s['updated']}"
        f" + 未变 unchanged {s['unchanged']} + 退回 rejected {s['rejected']}"
    )
    extra = [f"逾期 late {s.get('late', 0)}"]
    if s.get("seconds") is not None:
        extra.append(f"用时 seconds {s['seconds']}")
    out.print("  ".join(extra))
    for w in s.get("warnings", []):
        out.print(f"[yellow]! {escape((Problem(**w) if isinstance(w, dict) else w).render())}[/]")
    row_warnings = any(str(w.get("code", "")).startswith("row.") for w in s.get("warnings", []))
    if (s["rejected"] or row_warnings) and s["status"] == "done":
        out.print(
            f"问题数据反馈 / feedback: xinyong batch errors {s['batch_id']} --format xlsx "
            f"--out batch-{s['batch_id']}-feedback.xlsx"
        )
