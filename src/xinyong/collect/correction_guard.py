"""A later upload does not silently undo a correction (异议更正).

When an objection is decided "corrected", the rights chapter writes the department's corrected values as
the record's next version and keeps the wrong one in record_versions with the reason
`objection:<id>:corrected`. A provider whose own system still holds the old values would send them again
with its next file; loaded as an ordinary update, they would overwrite the correction without anyone
noticing. So a row whose values for a corrected field equal the pre-correction (wrong) value, where the
correction changed it, is rejected with `row.reverts_correction`. A row with new values for the field (a
newer decision) is loaded; a row with the corrected values is unchanged, as any identical row is.

Collection does not know objections: it reads the versions table (where the correction left its trace)
for the records a chunk would update, once per chunk, and compares with polars joins — the corrections are
few, the rows many, and no row is looked at in a Python loop.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.collect.messages import row_problem
from xinyong.collect.prepare import KEY, SOURCE, Context, err, norm
from xinyong.problems import Problem
from xinyong.store.tables import record_versions, records

REVERTS = "__reverts_correction"  # the corrected field codes a row would revert, comma-joined, or null
REVERTED_BY = "__reverts_objection"  # the objection whose correction it would revert
# The reason rights.objections writes on the version a correction replaced (rights.records.change_state).
CORRECTION_REASON = "objection:%:corrected"
CHUNK = 5000


def corrections(conn: sa.Connection, existing: pl.DataFrame) -> pl.DataFrame:
    """For the records this chunk's rows would update (`existing`, load.existing_records of the chunk): the
    latest correction of each, one row per corrected field (source, key, objection, field, wrong value,
    corrected value — values as text)."""
    schema = {
        SOURCE: pl.String,
        KEY: pl.String,
        "objection": pl.String,
        "field": pl.String,
        "wrong": pl.String,
        "right": pl.String,
    }
    if existing.height == 0:
        return pl.DataFrame(schema=schema)
    ids = existing["record_id"].to_list()
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        found += _corrected(conn, ids[start : start + CHUNK])
    if not found:
        return pl.DataFrame(schema=schema)
    rows = []
    for c in found:
        wrong, right = c["wrong"] or {}, c["right"] or {}
        for field in sorted(set(wrong) | set(right)):
            if wrong.get(field) != right.get(field):
                rows.append(
                    {
                        SOURCE: c["source_uscc"],
                        KEY: c["source_key"],
                        "objection": c["reason"].split(":")[1],
                        "field": field,
                        "wrong": _text(wrong.get(field)),
                        "right": _text(right.get(field)),
                    }
                )
    return pl.DataFrame(rows, schema=schema)


def _corrected(conn: sa.Connection, ids: list[int]) -> list[dict[str, Any]]:
    """The latest correction of each record: the version it replaced and the version it wrote (a later
    version of the record row, or the record itself while nothing replaced the correction)."""
    w, c, r = record_versions.alias("w"), record_versions.alias("c"), records
    latest = (
        sa.select(w.c.record_id, sa.func.max(w.c.version).label("version"))
        .where(w.c.record_id.in_(ids), w.c.reason.like(CORRECTION_REASON))
        .group_by(w.c.record_id)
        .subquery()
    )
    query = (
        sa.select(
            r.c.source_uscc,
            r.c.source_key,
            w.c.reason,
            w.c.data.label("wrong"),
            sa.case((r.c.version == w.c.version + 1, r.c.data), else_=c.c.data).label("right"),
        )
        .select_from(latest)
        .join(w, sa.and_(w.c.record_id == latest.c.record_id, w.c.version == latest.c.version))
        .join(r, r.c.id == latest.c.record_id)
        .outerjoin(c, sa.and_(c.c.record_id == latest.c.record_id, c.c.version == latest.c.version + 1))
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def mark(conn: sa.Connection, frame: pl.DataFrame, ctx: Context, existing: pl.DataFrame) -> pl.DataFrame:
    """Add REVERTS (and REVERTED_BY) to a prepared chunk: which corrected fields would the row put back to
    the value an objection found wrong? Rows with a problem in such a field already are not judged again.
    `existing`: load.existing_records of the chunk's identities."""
    found = corrections(conn, existing)
    if found.height == 0:
        return frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(REVERTS), pl.lit(None, dtype=pl.String).alias(REVERTED_BY)
        )
    codes = [f.code for f in ctx.item.fields if f.code in set(found["field"].to_list())]
    wide = (
        found.filter(pl.col("field").is_in(codes))
        .with_columns(pl.lit(True).alias("has"))
        .pivot(on="field", index=[SOURCE, KEY, "objection"], values=["wrong", "right", "has"])
    )
    joined = frame.select(SOURCE, KEY, *[norm(c) for c in codes], *[err(c) for c in codes]).join(
        wide, on=[SOURCE, KEY], how="left", maintain_order="left"
    )
    reverted = []
    for code in codes:
        sent = _as_text(pl.col(norm(code)))
        has = pl.col(f"has_{code}") if f"has_{code}" in joined.columns else pl.lit(None)
        hit = (
            has.fill_null(False)
            & pl.col(err(code)).is_null()
            & sent.eq_missing(pl.col(f"wrong_{code}"))
            & sent.ne_missing(pl.col(f"right_{code}"))
        )
        reverted.append(pl.when(hit).then(pl.lit(code)))
    marked = joined.select(
        pl.concat_list(reverted).list.drop_nulls().list.join(",").alias(REVERTS), pl.col("objection")
    ).select(
        pl.when(pl.col(REVERTS) != "").then(pl.col(REVERTS)).alias(REVERTS),
        pl.when(pl.col(REVERTS) != "").then(pl.col("objection")).alias(REVERTED_BY),
    )
    return frame.with_columns(marked[REVERTS], marked[REVERTED_BY])


def _as_text(value: pl.Expr) -> pl.Expr:
    """A prepared value as the corrected data holds it once decoded to text (strings as they are)."""
    return value.cast(pl.String)


def explain(cells: dict[str, object], ctx: Context) -> list[Problem]:
    """One problem per corrected field the row would revert (fields named; no value quoted)."""
    codes = str(cells.get(REVERTS) or "")
    return [
        row_problem("row.reverts_correction", ctx.item.field(code), objection=cells.get(REVERTED_BY))
        for code in codes.split(",")
        if code
    ]
