"""Resolve many candidates to subjects at once: the registry's one resolution algorithm, vectorised.

A candidate is one row's view of its subject: identifiers (normalised; personal ones in clear), a name, a
kind. The rules, in order:
1. Every identifier already in the registry points to its subject. A candidate takes the subject of its
   most trusted matching identifier (USCC first, see IDENTIFIER_SCHEMES); identifiers pointing to other
   subjects are evidence of a split (recorded, never acted on).
2. Candidates matching nothing that share a new identifier with each other (or with a matched candidate)
   are the same subject: connected components over shared new identifiers, by label propagation.
3. Each remaining component becomes one new subject; its first row gives the registered name and kind.
4. New identifiers are attached to their component's subject (a legacy subject gains its USCC this way).
5. A name that differs from the registered one is kept as an observed name with evidence, once.
A million-row batch costs a few joins; Python touches only the personal identifiers (HMAC, AES-GCM).

A batch resolves its file chunk by chunk in one transaction. Once a candidate is resolved, every identifier
it carries points to its subject and its name is known, so the same candidate met again resolves to the same
subject and writes nothing: a `ResolutionMemo` answers it without asking the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import sqlalchemy as sa

from xinyong.policy import load_policy
from xinyong.security.masking import mask_id_number
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.bulk import allocate_ids, insert_frame
from xinyong.store.meta import PersonName
from xinyong.subjects.models import IDENTIFIER_SCHEMES, subject_identifiers, subject_names, subjects
from xinyong.subjects.sealing import names_a_person, other_name_is_a_persons, seal_where

PERSONAL_SCHEMES = ("idcard", "iddoc")  # blind-indexed and encrypted, never stored in clear
RANK = {scheme: rank for rank, scheme in enumerate(IDENTIFIER_SCHEMES)}
_NEW = 1 << 50  # labels at or above this are new components; below, existing subject ids
_LOOKUP_IN_LIST = 2000  # above this many values, look identifiers up through a temporary table
CANDIDATE_COLUMNS = (*IDENTIFIER_SCHEMES, "name", "kind", "authoritative")


class ResolutionMemo:
    """The candidates one transaction has resolved, and their subjects: a file names the same subjects
    in every chunk (a 1M-row file, 20,000 subjects), and each was looked up again, chunk after chunk.

    Only for the transaction that did the resolving (a later one may see merges or renames). Bounded: past
    `capacity` candidates it stops remembering, and the rest are resolved as if it were not there."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        strings = {c: pl.String for c in CANDIDATE_COLUMNS if c != "authoritative"}
        self.known = pl.DataFrame(schema={**strings, "authoritative": pl.Boolean, "subject_id": pl.Int64})

    def recall(self, cands: pl.DataFrame) -> pl.Series:
        """Per candidate (CANDIDATE_COLUMNS), its subject if this memo has it, else null."""
        return cands.select(CANDIDATE_COLUMNS).join(
            self.known, on=list(CANDIDATE_COLUMNS), how="left", nulls_equal=True, maintain_order="left"
        )["subject_id"]

    def remember(self, cands: pl.DataFrame, subject_ids: pl.Series) -> None:
        room = self.capacity - self.known.height
        if room <= 0:
            return
        # One row per candidate, or a later recall would answer a candidate twice.
        fresh = (
            cands.select(CANDIDATE_COLUMNS)
            .with_columns(subject_ids.alias("subject_id"))
            .unique(CANDIDATE_COLUMNS, keep="first", maintain_order=True)
            .head(room)
        )
        self.known = pl.concat([self.known, fresh], how="vertical", rechunk=False)


def resolve_frame(
    conn: sa.Connection,
    frame: pl.DataFrame,
    *,
    now: dt.datetime,
    protector: PersonalIdProtector,
    source: str | None,
    memo: ResolutionMemo | None = None,
) -> pl.DataFrame:
    """`frame`: optional columns per identifier scheme, `name`, `kind`. Returns one row per input row:
    subject_id, created (a subject made by this call), split (identifiers pointing at two subjects).

    With a `memo`, candidates it has seen take their subject from it (created and split false: both were
    said, and acted on, the first time) and only the others are resolved, then remembered."""
    if memo is None or frame.height == 0:
        return _resolve(conn, _with_all_columns(frame), now=now, protector=protector, source=source)
    cands = _with_all_columns(frame)
    recalled = memo.recall(cands)
    if recalled.null_count() == 0:
        return pl.DataFrame({"subject_id": recalled, "created": False, "split": False})
    unknown = recalled.is_null()
    todo = cands.filter(unknown)
    resolved = _resolve(conn, todo, now=now, protector=protector, source=source)
    memo.remember(todo, resolved["subject_id"])
    if recalled.null_count() == recalled.len():
        return resolved
    positions = unknown.arg_true()
    return pl.DataFrame(
        {
            "subject_id": recalled.scatter(positions, resolved["subject_id"]),
            "created": pl.repeat(False, recalled.len(), eager=True).scatter(positions, resolved["created"]),
            "split": pl.repeat(False, recalled.len(), eager=True).scatter(positions, resolved["split"]),
        }
    )


def _resolve(
    conn: sa.Connection,
    cands: pl.DataFrame,
    *,
    now: dt.datetime,
    protector: PersonalIdProtector,
    source: str | None,
) -> pl.DataFrame:
    cands = cands.with_row_index("ci")
    pairs, matched = _matched(conn, _pairs(cands, protector))
    labels = (
        cands.select("ci")
        .join(matched, on="ci", how="left")
        .with_columns(
            pl.coalesce("direct", pl.col("ci").cast(pl.Int64) + _NEW).alias("label"),
            (pl.col("owners").fill_null(0) > 1).alias("split"),
        )
    )
    new_pairs = pairs.filter(pl.col("owner").is_null())
    labels, value_labels = _components(labels, new_pairs)

    created = _create_subjects(conn, cands, labels, now=now, source=source, protector=protector)
    labels = labels.join(created, on="label", how="left").with_columns(
        pl.coalesce("new_id", "label").alias("subject_id")
    )
    value_owner = value_labels.join(created, on="label", how="left").select(
        "scheme", "value", pl.coalesce("new_id", "label").alias("subject_id")
    )
    _attach_identifiers(
        conn,
        new_pairs,
        value_owner,
        now=now,
        source=source,
        protector=protector,
        created_ids=created["new_id"],
    )
    result = labels.select("ci", "subject_id", (pl.col("label") >= _NEW).alias("created"), "split").sort("ci")
    new_names = created.select(pl.col("new_id").alias("subject_id"), "registered", "kind")
    _names(conn, cands, result, new_names, now=now, source=source, protector=protector)
    _split_evidence(conn, result, pairs, now=now, source=source)
    return result.drop("ci")


def match_frame(conn: sa.Connection, frame: pl.DataFrame, *, protector: PersonalIdProtector) -> pl.DataFrame:
    """Rule 1 alone, writing nothing: per input row, `subject_id` (the subject its most trusted known
    identifier points to, null when none is known) and `identified` (whether the row has any identifier).

    resolve_frame would give a matched row this same subject; a row it would create a subject for has
    no subject here. A caller can so ask "which subject does this row name?" before deciding to write.
    """
    cands = _with_all_columns(frame).with_row_index("ci")
    pairs, matched = _matched(conn, _pairs(cands, protector))
    return (
        cands.select("ci")
        .join(matched, on="ci", how="left", maintain_order="left")
        .select(
            pl.col("direct").alias("subject_id"),
            pl.col("ci").is_in(pairs["ci"].implode()).alias("identified"),
        )
    )


def _matched(conn: sa.Connection, pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pairs with the subject owning each (`owner`), and per candidate its most trusted owner."""
    owners = _owners(conn, pairs.select("scheme", "value").unique())
    pairs = pairs.join(owners, on=["scheme", "value"], how="left")
    matched = (
        pairs.filter(pl.col("owner").is_not_null())
        .sort("ci", "rank")
        .group_by("ci", maintain_order=True)
        .agg(pl.col("owner").first().alias("direct"), pl.col("owner").n_unique().alias("owners"))
    )
    return pairs, matched


def _with_all_columns(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in (*IDENTIFIER_SCHEMES, "name", "kind") if c not in frame.columns]
    frame = frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
    if "authoritative" not in frame.columns:
        frame = frame.with_columns(pl.lit(False).alias("authoritative"))
    return frame


def _pairs(cands: pl.DataFrame, protector: PersonalIdProtector) -> pl.DataFrame:
    """(candidate, scheme, stored value) for every identifier a candidate can be found by."""
    parts = []
    for scheme in IDENTIFIER_SCHEMES:
        part = cands.select("ci", pl.lit(scheme).alias("scheme"), pl.col(scheme).alias("value"))
        parts.append(part.with_columns(pl.col("value").alias("clear"), pl.lit("declared").alias("origin")))
    # A USCC's positions 9-17 are its 组织机构代码: records carrying only the old code find the subject.
    derived = cands.filter(pl.col("uscc").str.len_chars() == 18).select(
        "ci", pl.lit("orgcode").alias("scheme"), pl.col("uscc").str.slice(8, 9).alias("value")
    )
    parts.append(derived.with_columns(pl.col("value").alias("clear"), pl.lit("derived").alias("origin")))
    pairs = pl.concat(parts).filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
    pairs = pairs.with_columns(pl.col("scheme").replace_strict(RANK, return_dtype=pl.Int32).alias("rank"))
    personal = pairs.filter(pl.col("scheme").is_in(PERSONAL_SCHEMES))
    if personal.height:
        clear = personal["value"].unique().to_list()
        index = pl.DataFrame({"clear": clear, "hashed": [protector.blind_index(v) for v in clear]})
        pairs = (
            pairs.join(index, on="clear", how="left")
            .with_columns(
                pl.when(pl.col("scheme").is_in(PERSONAL_SCHEMES))
                .then(pl.col("hashed"))
                .otherwise(pl.col("value"))
                .alias("value")
            )
            .drop("hashed")
        )
    # Declared beats derived for the same identifier of the same candidate.
    return pairs.sort("ci", "scheme", "value", "origin").unique(
        ["ci", "scheme", "value"], keep="first", maintain_order=True
    )


def _owners(conn: sa.Connection, wanted: pl.DataFrame) -> pl.DataFrame:
    schema = {"scheme": pl.String, "value": pl.String, "owner": pl.Int64}
    if wanted.height == 0:
        return pl.DataFrame(schema=schema)
    t = subject_identifiers
    if wanted.height <= _LOOKUP_IN_LIST:
        rows: list[Any] = []
        for (scheme,), group in wanted.group_by("scheme"):
            rows += conn.execute(
                sa.select(t.c.scheme, t.c.value, t.c.subject_id).where(
                    t.c.scheme == scheme, t.c.value.in_(group["value"].to_list())
                )
            ).all()
        return pl.DataFrame(rows, schema=schema, orient="row")
    conn.exec_driver_sql("DROP TABLE IF EXISTS resolve_keys")
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE resolve_keys (scheme VARCHAR(24) NOT NULL, value VARCHAR(64) NOT NULL)"
    )
    insert_frame(conn, "resolve_keys", wanted)
    rows = conn.exec_driver_sql(
        "SELECT i.scheme, i.value, i.subject_id FROM resolve_keys k "
        "JOIN subject_identifiers i ON i.scheme = k.scheme AND i.value = k.value"
    ).all()
    conn.exec_driver_sql("DROP TABLE resolve_keys")
    return pl.DataFrame(rows, schema=schema, orient="row")


def _components(labels: pl.DataFrame, new_pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Spread the smallest label across candidates sharing a new identifier until nothing changes.

    Matched candidates keep their subject (their own identifiers decided it); unmatched ones take the
    smallest label they can reach, so an existing subject (small id) beats a new component (≥ _NEW).
    """
    fixed = labels.filter(pl.col("label") < _NEW).select("ci")
    current = labels.select("ci", "label")
    for _ in range(64):  # components are tiny; more rounds than this means a data problem, not a graph
        value_labels = new_pairs.join(current, on="ci").group_by("scheme", "value").agg(pl.col("label").min())
        reach = (
            new_pairs.join(value_labels, on=["scheme", "value"])
            .group_by("ci")
            .agg(pl.col("label").min().alias("reach"))
        )
        updated = current.join(reach, on="ci", how="left").with_columns(
            pl.when(pl.col("ci").is_in(fixed["ci"].implode()))
            .then(pl.col("label"))
            .otherwise(pl.min_horizontal("label", "reach"))
            .alias("next")
        )
        if updated.filter(pl.col("next") != pl.col("label")).height == 0:
            break
        current = updated.select("ci", pl.col("next").alias("label"))
    value_labels = new_pairs.join(current, on="ci").group_by("scheme", "value").agg(pl.col("label").min())
    return labels.drop("label").join(current, on="ci"), value_labels


def kind_of_new_subject(declared: pl.Expr, uscc: pl.Expr, personal: pl.Expr) -> pl.Expr:
    """The kind a new subject is registered as: the one declared, else what its codes say (a USCC starting
    92 is an 个体工商户's, a personal ID number a natural person's), else a legal person."""
    return pl.coalesce(
        declared,
        pl.when(uscc.str.starts_with("92")).then(pl.lit("individual_business")),
        pl.when(personal).then(pl.lit("natural_person")),
        pl.lit("legal_person"),
    )


def _create_subjects(
    conn: sa.Connection,
    cands: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    now: dt.datetime,
    source: str | None,
    protector: PersonalIdProtector,
) -> pl.DataFrame:
    """One subject per new component; its first row names it (sealed when a person's name). Returns
    label → new_id, with the registered name in clear and the kind."""
    members = labels.filter(pl.col("label") >= _NEW).join(cands, on="ci").sort("ci")
    if members.height == 0:
        return pl.DataFrame(
            schema={"label": pl.Int64, "new_id": pl.Int64, "registered": pl.String, "kind": pl.String}
        )
    first = members.group_by("label", maintain_order=True).agg(
        pl.col("name").drop_nulls().first(),
        pl.col("kind").drop_nulls().first(),
        pl.col("uscc").drop_nulls().first(),
        pl.col("idcard").drop_nulls().first(),
        (pl.col("idcard").is_not_null() | pl.col("iddoc").is_not_null()).any().alias("personal"),
    )
    ids = allocate_ids(conn, "subjects", first.height)
    at = pl.lit(now.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC"))
    rows = first.with_columns(pl.Series("id", ids, dtype=pl.Int64)).select(
        "id",
        kind_of_new_subject(pl.col("kind"), pl.col("uscc"), pl.col("personal")).alias("kind"),
        "uscc",
        pl.col("name").fill_null("（未提供名称）"),
        pl.coalesce(pl.col("uscc").str.slice(2, 6), pl.col("idcard").str.slice(0, 6)).alias("division_code"),
        pl.lit("active").alias("status"),
        at.alias("created_at"),
        at.alias("updated_at"),
    )
    person = names_a_person(rows["name"], rows["kind"], load_policy().masking.person_names)
    stored = rows.with_columns(seal_where(rows["name"], person, protector))
    insert_frame(conn, "subjects", stored)
    insert_frame(
        conn,
        "subject_names",
        stored.select(
            pl.col("id").alias("subject_id"),
            "name",
            pl.lit("current").alias("role"),
            pl.lit(source, dtype=pl.String).alias("source"),
            at.alias("first_seen"),
            at.alias("last_seen"),
        ),
    )
    return first.select("label").with_columns(
        pl.Series("new_id", ids, dtype=pl.Int64), rows["name"].alias("registered"), rows["kind"]
    )


def _attach_identifiers(
    conn: sa.Connection,
    new_pairs: pl.DataFrame,
    value_owner: pl.DataFrame,
    *,
    now: dt.datetime,
    source: str | None,
    protector: PersonalIdProtector,
    created_ids: pl.Series,
) -> None:
    # Sorted in full and joined in order: ids follow the file, so two runs write identical tables.
    fresh = (
        new_pairs.sort("origin", "ci", "rank", "value")  # "declared" before "derived"
        .unique(["scheme", "value"], keep="first", maintain_order=True)
        .join(value_owner, on=["scheme", "value"], maintain_order="left")
    )
    if fresh.height == 0:
        return
    personal = fresh["scheme"].is_in(PERSONAL_SCHEMES)
    clear = fresh["clear"].to_list()
    cipher = [protector.encrypt(c) if p else None for c, p in zip(clear, personal, strict=True)]
    masked = [mask_id_number(c) if p else None for c, p in zip(clear, personal, strict=True)]
    frame = fresh.select(
        "subject_id",
        "scheme",
        "value",
        pl.Series("value_cipher", cipher, dtype=pl.Binary),
        pl.Series("value_masked", masked, dtype=pl.String),
        "origin",
        pl.lit(source, dtype=pl.String).alias("source"),
        pl.lit(now.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC")).alias("created_at"),
    )
    insert_frame(conn, "subject_identifiers", frame)
    # A legacy subject (known by 注册号 or 组织机构代码) that now brings its USCC gets it as its main code.
    legacy = fresh.filter((pl.col("scheme") == "uscc") & ~pl.col("subject_id").is_in(created_ids.implode()))
    if legacy.height:
        conn.execute(
            subjects.update()
            .where(subjects.c.id == sa.bindparam("sid"), subjects.c.uscc.is_(None))
            .values(uscc=sa.bindparam("new_uscc"), updated_at=now),
            [
                {"sid": sid, "new_uscc": uscc}
                for sid, uscc in legacy.select("subject_id", "value").iter_rows()
            ],
        )


def _names(
    conn: sa.Connection,
    cands: pl.DataFrame,
    result: pl.DataFrame,
    new_names: pl.DataFrame,
    *,
    now: dt.datetime,
    source: str | None,
    protector: PersonalIdProtector,
) -> None:
    """Names other than the registered one: kept as observed names (sealed when the subject's names are a
    person's), with evidence, once per subject."""
    # The registration authority's word renames instead (service._rename): no evidence for it.
    named = result.join(cands.select("ci", "name", "authoritative"), on="ci").filter(
        pl.col("name").is_not_null() & ~pl.col("authoritative")
    )
    named = named.select("subject_id", "name").unique(maintain_order=True)
    if named.height == 0:
        return
    # A subject made by this call has one name, the one just written: only older subjects are read back.
    ids = named.join(new_names, on="subject_id", how="anti")["subject_id"].unique().to_list()
    known: list[Any] = list(new_names.select("subject_id", "registered").iter_rows())
    registered: list[Any] = list(new_names.select("subject_id", "registered", "kind").iter_rows())
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        known += conn.execute(
            sa.select(subject_names.c.subject_id, subject_names.c.name).where(
                subject_names.c.subject_id.in_(chunk)
            )
        ).all()
        registered += conn.execute(
            sa.select(subjects.c.id, subjects.c.name, subjects.c.kind).where(subjects.c.id.in_(chunk))
        ).all()
    known_frame = pl.DataFrame(known, schema={"subject_id": pl.Int64, "name": pl.String}, orient="row")
    registered_frame = pl.DataFrame(
        registered, schema={"subject_id": pl.Int64, "registered": pl.String, "kind": pl.String}, orient="row"
    )
    observed = named.join(known_frame, on=["subject_id", "name"], how="anti").join(
        registered_frame, on="subject_id"
    )
    if observed.height == 0:
        return
    observed = observed.sort("subject_id", "name")  # joins do not keep order: make the inserts repeatable
    rule = load_policy().masking.person_names
    person = pl.Series(
        [
            other_name_is_a_persons(name, registered, kind, rule)
            for name, registered, kind in observed.select("name", "registered", "kind").iter_rows()
        ],
        dtype=pl.Boolean,
    )
    at = pl.lit(now.astimezone(dt.UTC), dtype=pl.Datetime("us", "UTC"))
    insert_frame(
        conn,
        "subject_names",
        observed.select(
            "subject_id",
            seal_where(observed["name"], person, protector),
            pl.lit("observed").alias("role"),
            pl.lit(source, dtype=pl.String).alias("source"),
            at.alias("first_seen"),
            at.alias("last_seen"),
        ),
    )
    sealed = [PersonName if p else str for p in person]
    _evidence(
        conn,
        [
            (sid, "name_mismatch", {"registered_name": seal(reg), "observed_name": seal(name)})
            for (sid, name, reg), seal in zip(
                observed.select("subject_id", "name", "registered").iter_rows(), sealed, strict=True
            )
        ],
        now=now,
        source=source,
    )


def _split_evidence(
    conn: sa.Connection, result: pl.DataFrame, pairs: pl.DataFrame, *, now: dt.datetime, source: str | None
) -> None:
    split = result.filter(pl.col("split"))
    if split.height == 0:
        return
    others = (
        pairs.join(split.select("ci", "subject_id"), on="ci")
        .filter(pl.col("owner").is_not_null() & (pl.col("owner") != pl.col("subject_id")))
        .group_by("ci", "subject_id")
        .agg(pl.col("owner").unique().sort().alias("others"), pl.col("scheme").alias("schemes"))
        .sort("ci")
    )
    _evidence(
        conn,
        [
            (sid, "identifier_split", {"other_subject_ids": others_, "schemes": sorted(set(schemes))})
            for _, sid, others_, schemes in others.iter_rows()
        ],
        now=now,
        source=source,
    )


def _evidence(
    conn: sa.Connection, rows: list[tuple[int, str, dict[str, Any]]], *, now: dt.datetime, source: str | None
) -> None:
    from xinyong.subjects.models import subject_evidence

    if rows:
        conn.execute(
            subject_evidence.insert(),
            [
                {"subject_id": s, "kind": k, "detail": d, "source": source, "created_at": now}
                for s, k, d in rows
            ],
        )
