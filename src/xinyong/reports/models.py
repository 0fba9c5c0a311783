"""The table of issued credit reports (信用报告): one row per report, numbered, with its canonical JSON
(sealed: AES-GCM under the platform's personal-data key, since a full report may name a person) and the
SHA-256 digests of that JSON and of the signed PDF, so that `/verify/{number}` can say what was issued and
check an uploaded PDF byte for byte."""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, UTCDateTime, fk, metadata, pk

__all__ = ["KINDS", "reports"]

KINDS = ("public", "full", "authorised", "special")

reports = sa.Table(
    "reports",
    metadata,
    pk(),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    fk("subject_id", "subjects.id"),
    sa.Column("audience", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("issued_at", UTCDateTime(), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("period_from", sa.Date, nullable=True),
    sa.Column("period_to", sa.Date, nullable=True),
    sa.Column("domains", Json, nullable=True),
    # What the verify page may show anyone: the subject as the public sees it (a person's name masked).
    sa.Column("subject_label", sa.String(300), nullable=False),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("content_sealed", sa.LargeBinary, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("pdf_sha256", sa.String(64), nullable=True),
    sa.Column("pages", sa.Integer, nullable=True),
    sa.Column("signer_sha256", sa.String(64), nullable=True),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("organisation_uscc", sa.String(18), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.CheckConstraint(f"kind IN {KINDS!r}", name="kind"),
    sa.Index("ix_reports_subject_kind_issued", "subject_id", "kind", "issued_at"),
)
