"""The batch check: a CSV or XLSX of up to `lists.check_batch_max_rows` subjects (the bidders of a tender)
checked against one business matter, answered as an XLSX with one row per input line.

    check_file(conn, runtime, path=…, filename=…, matter="ZBTB", principal=…)
      → BatchResult(summary={"rows", "resolved", "with_measures", "mandatory", "not_found", "ambiguous",
                             "invalid", "seconds", "first_check_id", "last_check_id", …}, xlsx=b"…")

The file is read by collection's readers (the same encodings, byte scans, xlsx guard and cell caps as any
provider file; only CSV and XLSX are taken). A row names its subject by an identifier (any: USCC, 注册号,
组织机构代码, an ID number), or by its exact name with a division code. Resolution is set-based: all the
identifiers in one query per 5,000 (subjects.service.find_subject_ids, the bulk form of the single check's
look-up), all the names in one query per 5,000; then the entries in force of every resolved subject in one
query per 5,000. A name is never guessed: it resolves only when exactly one organisation in the division has
it as its current or former name; otherwise the row says `ambiguous` or `not_found` and is checked one at a
time (the name-only check answers candidates). Every resolved row is a check of its own — bulk-inserted, each
with its id, so the department reports feedback on it like on any other check — and the batch is one audit
entry naming the check ids it made.

Row statuses: checked | not_found | ambiguous | invalid (no identifier and no name with a division, or a
code that does not check).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.apply import service
from xinyong.apply.answers import entries_of_many, is_personal, lists_and_measures, matter_dict, matter_of
from xinyong.apply.candidates import division_scope
from xinyong.apply.errors import Refused
from xinyong.apply.proposals import active_catalogue
from xinyong.codes.divisions import lookup_division
from xinyong.collect.readers import ReadLimits, detect_format, read_file
from xinyong.disclose.codes import typo
from xinyong.disclose.service import is_person_name
from xinyong.policy import load_policy
from xinyong.problems import ProblemError
from xinyong.runtime import Runtime
from xinyong.security import audit
from xinyong.security.masking import mask_ids_in_text
from xinyong.security.principal import Principal
from xinyong.spreadsheet import about_sheet, text_workbook
from xinyong.store.bulk import allocate_ids, insert_frame
from xinyong.subjects.models import subject_names, subjects
from xinyong.subjects.service import find_subject_ids

FORMATS = ("csv", "xlsx")
CHUNK = 5000
# The headers a batch file may use for each column (a template is in docs/apply.md).
HEADERS = {
    "identifier": (
        "代码",
        "统一社会信用代码",
        "信用代码",
        "证件号码",
        "身份证号码",
        "identifier",
        "code",
        "subject",
    ),
    "name": ("名称", "主体名称", "单位名称", "企业名称", "投标人", "投标人名称", "name"),
    "division": ("行政区划", "行政区划代码", "区划代码", "division"),
}
_ALIASES = {alias.lower(): column for column, aliases in HEADERS.items() for alias in aliases}
STATUS_ZH = {"checked": "已核查", "not_found": "未找到", "ambiguous": "多个同名主体", "invalid": "无法核查"}


@dataclasses.dataclass
class BatchResult:
    summary: dict[str, Any]
    xlsx: bytes


def check_file(
    conn: sa.Connection,
    runtime: Runtime,
    *,
    path: Path,
    filename: str,
    matter: str,
    principal: Principal,
) -> BatchResult:
    """Check every subject of the file against `matter`; Refused (422) for a file that is not a CSV or
    XLSX, that cannot be read, has no identifier or name column, or holds more rows than the policy allows."""
    started = time.perf_counter()
    catalogue = active_catalogue(conn)
    business = matter_of(catalogue, matter)
    policy = load_policy()
    frame = _read(path, filename, policy.lists.check_batch_max_rows.value)
    rows = _resolve(conn, runtime, frame, policy)
    day = service.today(runtime.clock)
    resolved = rows.filter(pl.col("status") == "checked")
    ids = resolved["subject_id"].to_list()
    found = entries_of_many(conn, ids, day=day)
    about = _subjects_of(conn, ids)
    answers: list[str] = []
    lists_col: list[str] = []
    measures_col: list[str] = []
    mandatory_col: list[bool] = []
    measure_counts: list[int] = []
    for subject_id in ids:
        subject = about[subject_id]
        lists, measures = lists_and_measures(
            found.get(subject_id, ()), kind=subject.kind, matter=business.code, catalogue=catalogue
        )
        answer = {
            "subject": service.subject_ref(subject),
            "matter": matter_dict(business),
            "checked_on": day.isoformat(),
            "lists": lists,
            "measures": measures,
        }
        answers.append(json.dumps(answer, ensure_ascii=False, separators=(",", ":")))
        lists_col.append("；".join(f"{x['name_zh']}（至 {x['valid_until']}）" for x in lists))
        measures_col.append(
            "；".join(
                f"{m['code']} {m['content_zh']}{'（必须）' if m['mandatory'] else ''}" for m in measures
            )
        )
        mandatory_col.append(any(m["mandatory"] for m in measures))
        measure_counts.append(len(measures))
    check_ids = _store_checks(conn, resolved, answers, measure_counts, business.code, principal, runtime)
    resolved = resolved.with_columns(
        pl.Series("check_id", check_ids, dtype=pl.Int64),
        pl.Series("subject_code", [service.subject_ref(about[s])["code"] for s in ids], dtype=pl.String),
        pl.Series("subject_name", [service.subject_ref(about[s])["name"] for s in ids], dtype=pl.String),
        pl.Series("lists", lists_col, dtype=pl.String),
        pl.Series("measures", measures_col, dtype=pl.String),
        pl.Series("mandatory", mandatory_col, dtype=pl.Boolean),
        pl.Series("measure_count", measure_counts, dtype=pl.Int64),
    )
    out = rows.join(resolved.select("line", *_ANSWER_COLUMNS), on="line", how="left").sort("line")
    counts = out["status"].value_counts()
    by_status = dict(zip(counts["status"].to_list(), counts["count"].to_list(), strict=True))
    summary = {
        "rows": out.height,
        "resolved": resolved.height,
        "with_measures": int((resolved["measure_count"] > 0).sum()),
        "mandatory": int(resolved["mandatory"].sum()),
        "not_found": by_status.get("not_found", 0),
        "ambiguous": by_status.get("ambiguous", 0),
        "invalid": by_status.get("invalid", 0),
        "matter": matter_dict(business),
        "checked_on": day.isoformat(),
        "first_check_id": check_ids[0] if check_ids else None,
        "last_check_id": check_ids[-1] if check_ids else None,
    }
    audit.record(
        conn,
        principal=principal,
        action="apply.check_batch",
        clock=runtime.clock,
        object_type="check",
        object_id=f"{summary['first_check_id']}-{summary['last_check_id']}" if check_ids else None,
        purpose=f"matter:{business.code}",
        detail={k: summary[k] for k in ("rows", "resolved", "with_measures", "not_found", "ambiguous")}
        | {"persons": sum(1 for s in ids if is_personal(about[s].kind, about[s].name, policy))},
    )
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return BatchResult(summary=summary, xlsx=_xlsx(out, summary, filename))


_ANSWER_COLUMNS = (
    "check_id",
    "subject_code",
    "subject_name",
    "lists",
    "measures",
    "mandatory",
    "measure_count",
)


# --------------------------------------------------------------------------------------------- reading


def _refused(code: str, zh: str, en: str, field: str = "file") -> Refused:
    return Refused.one(code, zh, en, field=field)


def _read(path: Path, filename: str, max_rows: int) -> pl.DataFrame:
    """The file's rows as (line, identifier, name, division), or Refused."""
    try:
        fmt = detect_format(Path(filename or path.name))
    except ProblemError:
        fmt = None
    if fmt not in FORMATS:
        raise _refused(
            "check.batch_format",
            "批量核查只接受 CSV 或 XLSX 文件",
            "a batch check takes a CSV or XLSX file only",
        )

    def score(cells: Sequence[str | None]) -> int:
        return sum(1 for c in cells if c and c.strip().lower() in _ALIASES)

    try:
        read = read_file(path, fmt=fmt, header_score=score, limits=ReadLimits.from_policy())
    except ProblemError as exc:
        raise Refused(*exc.problems) from exc
    columns: dict[str, str] = {}
    for header in read.headers:
        column = _ALIASES.get((header or "").strip().lower())
        if column and column not in columns:
            columns[column] = header
    if "identifier" not in columns and "name" not in columns:
        names = "、".join(HEADERS["identifier"][:3] + HEADERS["name"][:2])
        raise _refused(
            "check.batch_columns",
            f"文件没有可识别的主体列：应有“代码”或“名称”列（如 {names}）",
            "the file has no subject column: it needs a code column (代码, 统一社会信用代码 …) "
            "or a name column (名称 …)",
        )
    if read.height > max_rows:
        raise _refused(
            "check.batch_too_many",
            f"一次批量核查最多 {max_rows} 行，文件有 {read.height} 行；请拆分后分别核查",
            f"a batch check takes at most {max_rows} rows; the file has {read.height}: split it",
        )
    if read.height == 0:
        raise _refused("check.batch_empty", "文件没有数据行", "the file has no data rows")
    frame = read.frame
    text = {
        column: (
            frame[columns[column]].cast(pl.String).str.strip_chars()
            if column in columns
            else pl.Series(column, [None] * frame.height, dtype=pl.String)
        )
        for column in HEADERS
    }
    return pl.DataFrame(
        {
            "line": read.row_numbers_for(0, frame.height),
            "identifier": text["identifier"],
            "name": text["name"],
            "division": text["division"],
        }
    ).with_columns([pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in HEADERS])


# ------------------------------------------------------------------------------------------ resolving


_BY_NAMES = (
    sa.select(
        subject_names.c.name, subjects.c.id, subjects.c.kind, subjects.c.division_code, subject_names.c.role
    )
    .join(subjects, subjects.c.id == subject_names.c.subject_id)
    .where(
        subject_names.c.name.in_(sa.bindparam("names", expanding=True)),
        subject_names.c.role.in_([sa.literal_column("'current'"), sa.literal_column("'former'")]),
        subjects.c.status == "active",
        subjects.c.kind != "natural_person",
    )
)


def _resolve(conn: sa.Connection, runtime: Runtime, frame: pl.DataFrame, policy: Any) -> pl.DataFrame:
    """Each row with `status`, `subject_id`, `how` (identifier | exact_name | former_name), `note`."""
    codes = [c for c in frame["identifier"].unique().to_list() if c]
    by_code = find_subject_ids(conn, codes, protector=runtime.protector)
    # A code nobody holds: a typo to name, or simply not registered here.
    bad = {c: p for c in codes if c not in by_code and (p := _code_problem(c))}
    names = [n for n in frame.filter(pl.col("identifier").is_null())["name"].unique().to_list() if n]
    holders: list[tuple[Any, ...]] = []
    for start in range(0, len(names), CHUNK):
        holders += conn.execute(_BY_NAMES, {"names": names[start : start + CHUNK]}).all()
    named = pl.DataFrame(
        [
            (name, sid, division, role)
            for name, sid, kind, division, role in holders
            if not is_person_name(name, kind, policy)  # a person's name is never a key (masked publicly)
        ],
        schema={"name": pl.String, "sid": pl.Int64, "registered": pl.String, "role": pl.String},
        orient="row",
    )
    out = []
    for line, identifier, name, division in frame.iter_rows():
        if identifier:
            if identifier in by_code:
                out.append((line, "checked", by_code[identifier], "identifier", None))
            elif identifier in bad:
                out.append((line, "invalid", None, None, bad[identifier]))
            else:
                out.append((line, "not_found", None, None, "没有主体持有该代码 / no subject holds this code"))
            continue
        if not name or not division or not (len(division) == 6 and lookup_division(division)):
            note = (
                "应有代码，或名称与六位行政区划代码 / needs a code, or a name with a six-digit division code"
            )
            out.append((line, "invalid", None, None, note))
            continue
        out.append((line, "by_name", None, None, None))
    rows = pl.DataFrame(
        out,
        schema={
            "line": pl.Int64,
            "status": pl.String,
            "subject_id": pl.Int64,
            "how": pl.String,
            "note": pl.String,
        },
        orient="row",
    )
    rows = frame.join(rows, on="line", how="left", maintain_order="left")
    by_name = rows.filter(pl.col("status") == "by_name")
    if by_name.height:
        matched = (
            by_name.select("line", "name", "division")
            .join(named, on="name", how="left")
            .filter(
                pl.col("sid").is_null()
                | pl.col("registered").str.starts_with(
                    pl.col("division").map_elements(division_scope, return_dtype=pl.String)
                )
            )
            .group_by("line")
            .agg(
                pl.col("sid").drop_nulls().unique().alias("sids"),
                pl.col("role").drop_nulls().first().alias("role"),
            )
        )
        # A line whose only holders are outside its division has no group left: it found nobody.
        matched = (
            by_name.select("line")
            .join(matched, on="line", how="left")
            .with_columns(pl.col("sids").fill_null(pl.lit([], dtype=pl.List(pl.Int64))))
        )
        decided = matched.select(
            "line",
            pl.when(pl.col("sids").list.len() == 1)
            .then(pl.lit("checked"))
            .when(pl.col("sids").list.len() > 1)
            .then(pl.lit("ambiguous"))
            .otherwise(pl.lit("not_found"))
            .alias("n_status"),
            pl.when(pl.col("sids").list.len() == 1).then(pl.col("sids").list.first()).alias("n_sid"),
            pl.when(pl.col("sids").list.len() == 1)
            .then(
                pl.when(pl.col("role") == "former")
                .then(pl.lit("former_name"))
                .otherwise(pl.lit("exact_name"))
            )
            .alias("n_how"),
            pl.when(pl.col("sids").list.len() > 1)
            .then(
                pl.lit(
                    "该区划内有多个同名主体，请改用代码 / "
                    "several subjects in the division have this name: use a code"
                )
            )
            .when(pl.col("sids").list.len() == 0)
            .then(
                pl.lit(
                    "该区划内没有此名称的主体（名称须完全一致）/ "
                    "no subject of this exact name in the division"
                )
            )
            .alias("n_note"),
        )
        rows = (
            rows.join(decided, on="line", how="left")
            .with_columns(
                pl.coalesce("n_status", "status").alias("status"),
                pl.coalesce("n_sid", "subject_id").alias("subject_id"),
                pl.coalesce("n_how", "how").alias("how"),
                pl.coalesce("n_note", "note").alias("note"),
            )
            .drop("n_status", "n_sid", "n_how", "n_note")
        )
    return rows


def _code_problem(code: str) -> str | None:
    """Why a code that nobody holds does not even check (the single check's words for a typo)."""
    problem = typo(code)
    if problem is None:
        return None
    return f"{mask_ids_in_text(problem.message_zh)} / {mask_ids_in_text(problem.message_en)}"


_ABOUT = sa.select(*service.SUBJECT_REF_COLUMNS).where(subjects.c.id.in_(sa.bindparam("ids", expanding=True)))


def _subjects_of(conn: sa.Connection, ids: Sequence[int]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        found.update({row.id: row for row in conn.execute(_ABOUT, {"ids": unique[start : start + CHUNK]})})
    return found


# -------------------------------------------------------------------------------------------- writing


def _store_checks(
    conn: sa.Connection,
    resolved: pl.DataFrame,
    answers: list[str],
    measure_counts: list[int],
    matter: str,
    principal: Principal,
    runtime: Runtime,
) -> list[int]:
    """One check row per resolved line, bulk-inserted with ids allocated up front."""
    if not answers:
        return []
    if conn.dialect.name == "sqlite":
        # allocate_ids needs the write lock held: a write that changes nothing takes it.
        conn.exec_driver_sql("UPDATE checks SET matter = matter WHERE 0")
    ids = allocate_ids(conn, "checks", len(answers))
    at = runtime.clock.now().astimezone(dt.UTC)
    frame = pl.DataFrame(
        {
            "id": ids,
            "subject_id": resolved["subject_id"],
            "matter": [matter] * len(ids),
            "checked_by": [principal.actor[:100]] * len(ids),
            "org_uscc": [principal.organisation_uscc] * len(ids),
            "answer": answers,
            "measure_count": measure_counts,
            "created_at": [at] * len(ids),
        },
        schema={
            "id": pl.Int64,
            "subject_id": pl.Int64,
            "matter": pl.String,
            "checked_by": pl.String,
            "org_uscc": pl.String,
            "answer": pl.String,
            "measure_count": pl.Int32,
            "created_at": pl.Datetime("us", "UTC"),
        },
    )
    insert_frame(conn, "checks", frame)
    return ids


def _xlsx(rows: pl.DataFrame, summary: dict[str, Any], filename: str) -> bytes:
    buffer = io.BytesIO()
    book, text, head = text_workbook(buffer)
    warn = book.add_format({"font_color": "#C00000", "num_format": "@"})
    sheet = book.add_worksheet("核查结果")
    headers = [
        "行号 / line",
        "输入代码 / code given",
        "输入名称 / name given",
        "输入区划 / division given",
        "状态 / status",
        "主体代码 / subject code",
        "主体名称 / subject name",
        "匹配方式 / matched by",
        "名单 / lists",
        "措施 / measures",
        "有强制措施 / mandatory",
        "核查编号 / check id",
        "说明 / note",
    ]
    widths = [8, 22, 30, 10, 14, 22, 30, 12, 40, 70, 10, 12, 50]
    for col, (header, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.set_column(col, col, width, text)
        sheet.write_string(0, col, header, head)
    for at, row in enumerate(rows.iter_rows(named=True), start=1):
        status = row["status"]
        values = [
            str(row["line"]),
            # An ID number given is never echoed in clear, whichever column it was typed into.
            mask_ids_in_text(row["identifier"] or ""),
            mask_ids_in_text(row["name"] or ""),
            mask_ids_in_text(row["division"] or ""),
            f"{STATUS_ZH.get(status, status)} / {status}",
            row["subject_code"] or "",
            row["subject_name"] or "",
            row["how"] or "",
            row["lists"] or "",
            row["measures"] or "",
            ("是 / yes" if row["mandatory"] else "否 / no") if status == "checked" else "",
            str(row["check_id"]) if row["check_id"] is not None else "",
            row["note"] or "",
        ]
        for col, value in enumerate(values):
            if value:  # the column's text format applies; only a row that did not resolve is marked
                if col == 4 and status != "checked":
                    sheet.write_string(at, col, value, warn)
                else:
                    sheet.write_string(at, col, value)
    sheet.freeze_panes(1, 1)
    sheet.autofilter(0, 0, rows.height, len(headers) - 1)
    lines = [
        ("文件 / file", Path(filename).name),
        ("业务事项 / matter", f"{summary['matter']['code']} {summary['matter']['name_zh']}"),
        ("核查日期 / checked on", summary["checked_on"]),
        (
            "行数 / rows",
            f"共 {summary['rows']}，已核查 {summary['resolved']}"
            f"（有措施 {summary['with_measures']}），未找到 {summary['not_found']}，"
            f"同名多个 {summary['ambiguous']}，无法核查 {summary['invalid']} / rows {summary['rows']}, "
            f"checked {summary['resolved']} (with measures {summary['with_measures']}), "
            f"not found {summary['not_found']}, ambiguous {summary['ambiguous']}, "
            f"invalid {summary['invalid']}",
        ),
        (
            "反馈 / feedback",
            "每个已核查行有其核查编号：按 POST /api/v1/checks/{编号}/feedback 反馈措施落实情况。 / "
            "Each checked line has its check id: report what was done with "
            "POST /api/v1/checks/{id}/feedback.",
        ),
    ]
    about_sheet(book, lines, label_width=26)
    book.close()
    return buffer.getvalue()
