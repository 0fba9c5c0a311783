"""Which names are a natural person's, and sealing them on the way to storage (standard 4: a person's name is
never stored in clear).

A subject's name is a person's where policy `masking.person_names` says so — the rule the portal masks by, so
that what the public may not see is exactly what the database may not hold. Bulk writers seal a frame's
column here, each distinct name once; a single write wraps the value in `PersonName` and the column seals it
(store.meta.SealedText, SealedJson).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from xinyong.policy.models import PersonNameMasking
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.bulk import rows_after
from xinyong.store.meta import SEALED_PREFIX, PersonName
from xinyong.subjects.models import subject_evidence, subject_names, subjects


def person_name(name: str, subject_kind: str, rule: PersonNameMasking) -> str:
    """`name` marked for sealing when it is a person's name."""
    return PersonName(name) if rule.names_a_person(name, subject_kind) else name


def other_name_is_a_persons(
    name: str | None, registered: str | None, subject_kind: str, rule: PersonNameMasking
) -> bool:
    """Whether another name of a subject (former, observed, or in name-mismatch evidence) is sealed: when
    it or the registered name is a person's — a subject whose registered name is a person's has a person's
    names."""
    return rule.names_a_person(registered, subject_kind) or rule.names_a_person(name, subject_kind)


def names_a_person(names: pl.Series, kinds: pl.Series, rule: PersonNameMasking) -> pl.Series:
    """Per row, whether its name is a person's (the policy's own test, asked once per distinct pair)."""
    pairs = pl.DataFrame({"name": names, "kind": kinds})
    distinct = pairs.unique()
    verdict = [rule.names_a_person(n, k or "") for n, k in distinct.iter_rows()]
    judged = distinct.with_columns(pl.Series("person", verdict, dtype=pl.Boolean))
    return (
        pairs.join(judged, on=["name", "kind"], how="left", nulls_equal=True, maintain_order="left")["person"]
        .fill_null(False)
        .alias("person")
    )


def seal_where(values: pl.Series, where: pl.Series, protector: PersonalIdProtector) -> pl.Series:
    """`values` with those where `where` holds sealed (each distinct value sealed once)."""
    wanted = values.filter(where & values.is_not_null()).unique()
    if wanted.len() == 0:
        return values
    sealed = pl.Series([protector.seal_name(v) for v in wanted], dtype=pl.String)
    replaced = values.replace_strict(wanted, sealed, default=values)
    return pl.select(pl.when(where).then(replaced).otherwise(values)).to_series().alias(values.name)


def seal_stored_subjects(
    conn: sa.Connection, rule: PersonNameMasking, *, after: int, limit: int
) -> tuple[int | None, int]:
    """Seal, in place, the names written in clear before names were sealed, of the subjects after id `after`
    (at most `limit` of them): the subject's name, its other names and its name-mismatch evidence, where
    they are a person's (the same test resolution applies). Returns the last subject id seen (None: no more)
    and how many values were sealed. Idempotent: sealed text is left as it is."""
    stored = sa.type_coerce(subjects.c.name, sa.Text)
    query = sa.select(subjects.c.id, subjects.c.kind, subjects.c.name, stored.label("stored"))
    rows = rows_after(conn, query, subjects.c.id, after=after, limit=limit)
    if not rows:
        return None, 0
    kinds = {r.id: r.kind for r in rows}
    registered = {r.id: r.name for r in rows}
    sealed = 0
    for r in rows:
        if r.name == r.stored and rule.names_a_person(r.name, r.kind):
            conn.execute(subjects.update().where(subjects.c.id == r.id).values(name=PersonName(r.name)))
            sealed += 1
    first, last = rows[0].id, rows[-1].id

    def persons(name: str | None, sid: int) -> bool:
        return other_name_is_a_persons(name, registered[sid], kinds[sid], rule)

    names = conn.execute(
        sa.select(subject_names.c.id, subject_names.c.subject_id, subject_names.c.name).where(
            subject_names.c.subject_id.between(first, last),
            sa.type_coerce(subject_names.c.name, sa.Text).not_like(f"{SEALED_PREFIX}%"),
        )
    ).all()
    for n in names:
        if persons(n.name, n.subject_id):
            conn.execute(
                subject_names.update().where(subject_names.c.id == n.id).values(name=PersonName(n.name))
            )
            sealed += 1
    evidence = conn.execute(
        sa.select(subject_evidence.c.id, subject_evidence.c.subject_id, subject_evidence.c.detail).where(
            subject_evidence.c.subject_id.between(first, last), subject_evidence.c.kind == "name_mismatch"
        )
    ).all()
    for e in evidence:
        detail = dict(e.detail)
        # Read through the column: a sealed value comes back a PersonName, one in clear a plain str.
        clear = {k for k, v in detail.items() if type(v) is str and persons(v, e.subject_id)}
        if clear:
            detail |= {k: PersonName(detail[k]) for k in clear}
            conn.execute(subject_evidence.update().where(subject_evidence.c.id == e.id).values(detail=detail))
            sealed += len(clear)
    return last, sealed
