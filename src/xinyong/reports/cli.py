"""`xinyong report make|verify|keys|count`: credit reports on the command line. `--json` prints one JSON
document. Exit codes: 0 done (for verify: valid), 1 refused or not valid, 2 usage or configuration.

The command line issues as an operator at a counter (`system:cli:<user>` in the audit trail): a public or
special report as anyone may have it; a full report for an organisation whose identity the operator
checked (its USCC); an authorised report acting for a registered agency (`--org`) with `--purpose`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from xinyong.cliutil import Json, Now, err, fail, open_runtime
from xinyong.problems import Problem, ProblemError

report_app = typer.Typer(help="信用报告 / credit reports", no_args_is_help=True)


def _principal(conn: Any, kind: str, code: str, org: str | None) -> Any:
    from xinyong.security.organisations import acting_for
    from xinyong.security.principal import Principal

    actor = f"cli:{getpass.getuser()}"
    if org:
        return acting_for(conn, org, actor=actor, roles={"agency": "agency", "government": "government"})
    if kind == "full":
        # At a counter, for the organisation whose identity the operator checked (by its USCC).
        return Principal(
            kind="system",
            role="subject",
            actor=f"system:{actor}",
            subject_scheme="uscc",
            subject_key=code.strip().upper(),
        )
    return Principal(kind="system", role="public", actor=f"system:{actor}", display_name=actor)


@report_app.command("make")
def make(
    code: Annotated[str, typer.Argument(help="信用主体代码 / the subject's identifier")],
    kind: Annotated[str, typer.Option("--kind", help="public | full | authorised | special")] = "public",
    out: Annotated[Path, typer.Option("--out", help="PDF to write")] = Path("report.pdf"),
    date_from: Annotated[str | None, typer.Option("--from", help="专项报告起始日 YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="专项报告截止日 YYYY-MM-DD")] = None,
    domains: Annotated[
        str | None, typer.Option("--domains", help="领域代码，逗号分隔 / domains, D1,D2")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="代表该机构（授权查询版）/ act for this agency")
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="查询目的 / purpose")] = None,
    json_out: Json = False,
    now: Now = None,
) -> None:
    """Issue a signed credit report and write its PDF / 出具信用报告."""
    from xinyong.disclose.limits import QueryRefused
    from xinyong.reports.service import issue
    from xinyong.security.errors import SecurityError

    try:
        start = dt.date.fromisoformat(date_from) if date_from else None
        end = dt.date.fromisoformat(date_to) if date_to else None
    except ValueError:
        fail([Problem("report.bad_period", "日期应为 YYYY-MM-DD", "Dates are YYYY-MM-DD", field="from")], 2)
    with open_runtime(now) as runtime:
        try:
            with runtime.engine.begin() as conn:
                issued = issue(
                    conn,
                    runtime=runtime,
                    principal=_principal(conn, kind, code, org),
                    code=code,
                    kind=kind,
                    purpose=purpose,
                    date_from=start,
                    date_to=end,
                    domains=[d.strip() for d in domains.split(",") if d.strip()] if domains else None,
                    channel="cli",
                )
        except QueryRefused as exc:
            fail([exc.problem], 1)
        except SecurityError as exc:
            fail([exc.problem], 1)
        except ProblemError as exc:
            fail(exc.problems, 1)
    out.write_bytes(issued.pdf)
    if json_out:
        typer.echo(json.dumps(issued.summary(), ensure_ascii=False))
    else:
        err.print(
            f"已出具 / issued {issued.number}: {out} ({issued.pages} 页 / pages, {issued.seconds:.3f} s)"
        )


@report_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="报告 PDF / the report's PDF")],
    json_out: Json = False,
) -> None:
    """Check a report's signature and number / 核验信用报告 (exit 0 valid, 1 not valid)."""
    from xinyong.reports.settings import ReportSettings
    from xinyong.reports.verify import verify_pdf

    try:
        data = file.read_bytes()
    except OSError:
        fail([Problem("report.unreadable", f"无法读取文件 {file}", f"Cannot read {file}")], 2)
    with open_runtime(None) as runtime, runtime.engine.connect() as conn:
        result = verify_pdf(conn, data, ReportSettings.load(runtime.settings))
    body = result.as_dict()
    if json_out:
        typer.echo(
            json.dumps(
                {k: body[k] for k in ("valid", "number", "issued_at", "subject", "reason")},
                ensure_ascii=False,
            )
        )
    else:
        err.print(
            f"{'✓' if result.valid else '✗'} {body['message_zh']} / {body['message_en']} ({result.number})"
        )
    raise typer.Exit(0 if result.valid else 1)


@report_app.command("keys")
def keys(json_out: Json = False) -> None:
    """Make the demo signing key and certificate if none is configured / 生成演示签章密钥."""
    from xinyong.clock import SystemClock
    from xinyong.config import Settings
    from xinyong.reports.settings import ReportSettings
    from xinyong.reports.signing import ensure_keys

    settings = ReportSettings.load(Settings.from_env())
    ensure_keys(settings, now=SystemClock().now())
    body = {"key": str(settings.key_file), "cert": str(settings.cert_file), "demo": settings.demo_keys}
    typer.echo(json.dumps(body, ensure_ascii=False) if json_out else f"{body}")


@report_app.command("count")
def count(json_out: Json = False) -> None:
    """How many reports were issued, by kind / 出具数量."""
    from xinyong.reports.service import counts

    with open_runtime(None) as runtime, runtime.engine.connect() as conn:
        found = counts(conn)
    typer.echo(json.dumps(found) if json_out else " ".join(f"{k}={v}" for k, v in sorted(found.items())))
