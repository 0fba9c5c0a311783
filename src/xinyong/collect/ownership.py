"""Who may write which record: the trust boundary of 归集.

A record's identity is (item, data source, source key), and the data source is what the row says in its
数据来源单位统一社会信用代码. What a row says is not proof: a provider could name another department as the
source and overwrite that department's penalties. So every row is checked against the organisation tree:
only the source itself, or a collection system the tree places above it (it forwards for the source,
汇集转报), may create or change the source's records. Any other row is rejected with its reason, and
nothing of the other source changes.

A re-submission that names another subject than the record it would update is rejected too: which subject
a record is about is never changed by a silent update (a wrong subject is a correction for the credit
office, with its own trail).

Both checks are vectorised: the tree is read once per batch, subjects are matched per chunk in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from xinyong.catalog.models import Item
from xinyong.collect.messages import row_problem
from xinyong.collect.prepare import SOURCE, Context, err
from xinyong.problems import Problem, ProblemError
from xinyong.security.organisations import subtree
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.tables import organisations
from xinyong.subjects.resolve import match_frame

SOURCE_PROBLEM = "__source_problem"  # row.source_not_permitted / row.source_unregistered, or null
SOURCE_NAME = "__source_name"  # the registered name of a refused row's source, for the message
SUBJECT_CHANGED = "__subject_changed"


@dataclass(frozen=True)
class Submitter:
    id: int
    uscc: str
    name: str
    speaks_for: frozenset[str]  # its own USCC and those of every organisation below it in the tree


def submitter(conn: sa.Connection, uscc: str) -> Submitter:
    """The submitting organisation and whose records it may send; an unknown one is refused."""
    code = uscc.strip().upper()
    row = conn.execute(
        sa.select(organisations.c.id, organisations.c.name).where(organisations.c.uscc == code)
    ).first()
    if row is None:
        raise ProblemError(
            Problem(
                "batch.unknown_submitter",
                f"报送单位 {uscc} 尚未在平台登记，请信用信息中心先用 "
                f"`xinyong org add --name 单位名称 --uscc {uscc} --kind provider` 登记后再报送",
                f"The submitter {uscc} is not registered: the credit information centre registers it with "
                f"`xinyong org add --name NAME --uscc {uscc} --kind provider`, then send again",
            )
        )
    return Submitter(id=int(row.id), uscc=code, name=row.name, speaks_for=frozenset(subtree(conn, code)))


def mark_sources(conn: sa.Connection, frame: pl.DataFrame, ctx: Context, sender: Submitter) -> pl.DataFrame:
    """Add SOURCE_PROBLEM (and SOURCE_NAME) to a prepared chunk: may `sender` write each row's source?

    Items without a source field take the submitter as the source: always its own. A source cell that is
    itself invalid is already a cell problem and is not judged again here.
    """
    if ctx.source_field is None:
        return frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(SOURCE_PROBLEM),
            pl.lit(None, dtype=pl.String).alias(SOURCE_NAME),
        )
    foreign = (
        pl.col(err(ctx.source_field)).is_null()
        & pl.col(SOURCE).is_not_null()
        & ~pl.col(SOURCE).is_in(list(sender.speaks_for))
    )
    sources = frame.filter(foreign)[SOURCE].unique().to_list()
    names = _registered_names(conn, sources)
    name = pl.col(SOURCE).replace_strict(names, default=None, return_dtype=pl.String)
    problem = (
        pl.when(foreign & name.is_not_null())
        .then(pl.lit("row.source_not_permitted"))
        .when(foreign)
        .then(pl.lit("row.source_unregistered"))
    )
    return frame.with_columns(problem.alias(SOURCE_PROBLEM), pl.when(foreign).then(name).alias(SOURCE_NAME))


def _registered_names(conn: sa.Connection, usccs: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for start in range(0, len(usccs), 5000):
        chunk = usccs[start : start + 5000]
        query = sa.select(organisations.c.uscc, organisations.c.name).where(organisations.c.uscc.in_(chunk))
        names.update((row.uscc, row.name) for row in conn.execute(query))
    return names


def explain(cells: dict[str, object], ctx: Context, sender: Submitter) -> list[Problem]:
    """Words for one rejected row's ownership problems (organisations named; no cell of the row quoted)."""
    problems = []
    code = cells.get(SOURCE_PROBLEM)
    if code is not None and ctx.source_field is not None:
        problems.append(
            row_problem(
                str(code),
                ctx.item.field(ctx.source_field),
                submitter=sender.uscc,
                submitter_name=sender.name,
                source=cells[SOURCE],
                source_name=cells.get(SOURCE_NAME) or cells[SOURCE],
            )
        )
    if cells.get(SUBJECT_CHANGED):
        problems.append(
            row_problem("row.subject_changed", None, source=cells[SOURCE], **_key_names(ctx.item))
        )
    return problems


def _key_names(item: Item) -> dict[str, str]:
    return {
        "key_zh": "、".join(item.field(c).name_zh for c in item.source_key),
        "key_en": ", ".join(item.field(c).name_en for c in item.source_key),
    }


def subject_changes(
    conn: sa.Connection,
    candidates: pl.DataFrame,
    old_subject: pl.Series,
    *,
    protector: PersonalIdProtector,
) -> tuple[pl.Series, pl.Series]:
    """Per row: does it name another subject than the record it would update, and which subject to keep.

    `candidates` are the rows' subject identifiers (the frame subject resolution takes) and `old_subject`
    the subject of the record each row's identity already has (null for a new record). A row names
    another subject when its identifiers lead to a different subject or to none known (resolution would
    create a new one). A row with no identifier at all cannot name another subject: it keeps the record's.
    Returns (changed, keep): `keep` is the record's subject for rows that keep it without resolution.
    """
    existing = old_subject.is_not_null()
    changed = pl.Series(SUBJECT_CHANGED, [False] * candidates.height, dtype=pl.Boolean)
    keep = pl.Series("keep", [None] * candidates.height, dtype=pl.Int64)
    if not existing.any():
        return changed, keep
    index = pl.Series("i", range(candidates.height), dtype=pl.Int64).filter(existing)
    matched = match_frame(conn, candidates.filter(existing), protector=protector)
    old = old_subject.filter(existing)
    differs = matched["identified"] & (matched["subject_id"].is_null() | (matched["subject_id"] != old))
    anonymous = ~matched["identified"]
    changed = changed.scatter(index.filter(differs.fill_null(True)), True)
    keep = keep.scatter(index.filter(anonymous), old.filter(anonymous))
    return changed, keep
