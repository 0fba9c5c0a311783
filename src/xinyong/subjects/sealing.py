"""Which names are a natural person's, and sealing them on the way to storage (standard 4: a person's name is
never stored in clear).

A subject's name is a person's where policy `masking.person_names` says so — the rule the portal masks by, so
that what the public may not see is exactly what the database may not hold. Bulk writers seal a frame's
column here, each distinct name once; a single write wraps the value in `PersonName` and the column seals it
(store.meta.SealedText, SealedJson).
"""

from __future__ import annotations

import polars as pl

from xinyong.policy.models import PersonNameMasking
from xinyong.security.pii import PersonalIdProtector
from xinyong.store.meta import PersonName


def person_name(name: str, subject_kind: str, rule: PersonNameMasking) -> str:
    """`name` marked for sealing when it is a person's name."""
    return PersonName(name) if rule.names_a_person(name, subject_kind) else name


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
