"""`xinyong search …`: build and inspect the name search index (register `search_app` in xinyong.cli)."""

from __future__ import annotations

import typer

from xinyong.cliutil import echo_json
from xinyong.config import Settings
from xinyong.runtime import Runtime

search_app = typer.Typer(help="名称检索索引 / the name search index", no_args_is_help=True)


@search_app.command("rebuild")
def rebuild_command() -> None:
    """Build the whole index beside the one in use, then switch to it / 重建检索索引（不停服）."""
    from xinyong.disclose.search import rebuild

    runtime = Runtime.open(Settings.from_env())
    try:
        summary = rebuild(
            runtime.engine, clock=runtime.clock, progress=lambda stage, n: typer.echo(f"{stage} {n}")
        )
    finally:
        runtime.close()
    typer.echo(
        f"索引已切换到槽位 {summary.slot}：{summary.subjects} 个主体，{summary.grams} 个词元 / "
        f"index switched to slot {summary.slot}: {summary.subjects} subjects, {summary.grams} grams "
        f"({summary.seconds:.1f}s)"
    )


@search_app.command("refresh")
def refresh_command() -> None:
    """Add subjects created since the last build / 增量加入新主体."""
    from xinyong.disclose.search import refresh

    runtime = Runtime.open(Settings.from_env())
    try:
        added = refresh(runtime.engine, clock=runtime.clock)
    finally:
        runtime.close()
    typer.echo(f"已加入 {added} 个主体 / {added} subjects added")


@search_app.command("status")
def status_command() -> None:
    """The index in use and how many subjects wait for it / 索引状态."""
    from xinyong.disclose.search import index_status

    runtime = Runtime.open(Settings.from_env())
    try:
        with runtime.engine.connect() as conn:
            echo_json(index_status(conn))
    finally:
        runtime.close()
