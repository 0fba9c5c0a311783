"""Tables of the rights chapter (权益): the subject's authorisations and the log of queries about it.

An authorisation (授权查询) is the subject's written consent that one named organisation may query its
授权查询-level information for one purpose until a date; it can be revoked at any time. Every query of
non-public information about a subject — under an authorisation, by a government body, by the platform —
leaves one row in `query_log`, which the subject can read (who, whom, when, purpose, what was shown:
《上海市社会信用条例》第三十四条). The audit trail records the same access for the platform's own
supervision; this table is the subject's view of it.
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, UTCDateTime, created_at, fk, metadata, pk

AUTHORISATION_STATES = ("active", "revoked")
QUERY_CHANNELS = ("portal", "api", "csv", "report", "check")

authorisations = sa.Table(
    "authorisations",
    metadata,
    pk(),
    fk("subject_id", "subjects.id"),
    fk("organisation_id", "organisations.id", index=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    # The written authorisation itself (授权书) is paper or a signed file: its reference is kept here.
    sa.Column("document_ref", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("granted_by", sa.String(100), nullable=False),
    created_at(),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("revoked_by", sa.String(100)),
    sa.Index("ix_authorisations_organisation_subject", "organisation_id", "subject_id"),
    sa.CheckConstraint(f"status IN {AUTHORISATION_STATES!r}", name="status"),
    sa.CheckConstraint("valid_until >= valid_from", name="period"),
)

query_log = sa.Table(
    "query_log",
    metadata,
    pk(),
    fk("subject_id", "subjects.id", index=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("actor_role", sa.String(32), nullable=False),
    fk("organisation_id", "organisations.id", nullable=True, index=False),
    sa.Column("organisation_name", sa.String(200)),
    sa.Column("audience", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    fk("authorisation_id", "authorisations.id", nullable=True, index=False),
    sa.Column("channel", sa.String(16), nullable=False),
    # What was shown: the record ids and how many (the subject sees the count; the platform the ids).
    sa.Column("shown", Json, nullable=False),
    sa.Index("ix_query_log_subject_at", "subject_id", "at"),
    sa.CheckConstraint(f"channel IN {QUERY_CHANNELS!r}", name="channel"),
)
