"""Tables of the subject registry.

A subject is known by several identifiers (USCC, and the legacy 注册号, 组织机构代码, 税务登记号, ...); each
(scheme, value) belongs to exactly one subject, so look-ups are deterministic. A natural person's ID number
is never stored in clear: `value` holds an HMAC blind index and `value_cipher` an AES-GCM copy. Nor is a
person's name: `name` columns seal it (store.meta.SealedText, security.pii.seal_name).
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, SealedJson, SealedText, UTCDateTime, created_at, fk, metadata, pk

SUBJECT_KINDS = ("legal_person", "other_org", "individual_business", "natural_person")
SUBJECT_STATES = ("active", "merged")
# The order in which legacy identifiers are trusted when no USCC is given.
IDENTIFIER_SCHEMES = ("uscc", "orgcode", "regno", "taxno", "inst_cert", "social_org_cert", "idcard", "iddoc")

subjects = sa.Table(
    "subjects",
    metadata,
    pk(),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("uscc", sa.String(18), unique=True),
    sa.Column("name", SealedText, nullable=False),
    sa.Column("name_pinyin", sa.String(64)),
    sa.Column("division_code", sa.String(6)),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    fk("merged_into_id", "subjects.id", nullable=True, index=False),
    created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # An opaque page address (24 random hex characters) for a subject without a public code; the database
    # draws it for every inserted row (migration 0005_disclose: a default on PostgreSQL, a trigger on SQLite).
    sa.Column("public_ref", sa.String(24)),
    sa.Index("uq_subjects_public_ref", "public_ref", unique=True),
    sa.CheckConstraint(f"kind IN {SUBJECT_KINDS!r}", name="kind"),
    sa.CheckConstraint(f"status IN {SUBJECT_STATES!r}", name="status"),
)

subject_identifiers = sa.Table(
    "subject_identifiers",
    metadata,
    pk(),
    fk("subject_id", "subjects.id"),
    sa.Column("scheme", sa.String(24), nullable=False),
    sa.Column("value", sa.String(64), nullable=False),
    sa.Column("value_cipher", sa.LargeBinary),
    sa.Column("value_masked", sa.String(32)),
    # How we know: "declared" by a provider, or "derived" (the 组织机构代码 inside a USCC).
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("source", sa.String(64)),
    created_at(),
    sa.UniqueConstraint("scheme", "value", name="uq_subject_identifiers_scheme_value"),
    sa.CheckConstraint(f"scheme IN {IDENTIFIER_SCHEMES!r}", name="scheme"),
)

subject_names = sa.Table(
    "subject_names",
    metadata,
    pk(),
    fk("subject_id", "subjects.id"),
    sa.Column("name", SealedText, nullable=False),
    # current: the registered name; former: 曾用名; observed: a name some provider used.
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("source", sa.String(64)),
    sa.Column("first_seen", UTCDateTime(), nullable=False),
    sa.Column("last_seen", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("subject_id", "name", name="uq_subject_names_subject_name"),
    # The batch check resolves rows given by exact name (current or former) in one query per chunk.
    sa.Index("ix_subject_names_name", "name"),
)

subject_evidence = sa.Table(
    "subject_evidence",
    metadata,
    pk(),
    fk("subject_id", "subjects.id"),
    # name_mismatch: same identifier, another name; identifier_split: identifiers of one row belong to
    # different subjects; kind_mismatch: a provider says another subject kind.
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", SealedJson, nullable=False),
    sa.Column("source", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    created_at(),
)

subject_merges = sa.Table(
    "subject_merges",
    metadata,
    pk(),
    fk("kept_id", "subjects.id"),
    fk("merged_id", "subjects.id"),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(100), nullable=False),
    # Exactly what moved, so that undo puts back exactly that and nothing else.
    sa.Column("moved", Json, nullable=False),
    created_at(),
    sa.Column("undone_at", UTCDateTime()),
    sa.Column("undone_by", sa.String(100)),
)

# One record re-attached to another subject (its provider matched it to the wrong one): the registry's
# evidence of who, when, why, from which subject to which, and what asked for it (an objection), kept like
# a merge so that undo puts back exactly what moved.
record_moves = sa.Table(
    "record_moves",
    metadata,
    pk(),
    fk("record_id", "records.id"),
    fk("from_subject_id", "subjects.id", index=False),
    fk("to_subject_id", "subjects.id", index=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(100), nullable=False),
    # What asked for the move, e.g. "objection:12" (the registry names it, it does not know objections).
    sa.Column("requested_by", sa.String(64)),
    created_at(),
    sa.Column("undone_at", UTCDateTime()),
    sa.Column("undone_by", sa.String(100)),
    sa.Column("undo_reason", sa.Text),
)
