"""Core tables of the data picture in docs/architecture.md: providers, catalogue versions, batches,
rejected rows, records with their versions and provenance.

A record's identity is (item, source organisation USCC, source key): a re-submission updates the same
record, and the same fact forwarded by a city collection system is one record with two provenance rows.
Nothing here is ever deleted; states change and earlier versions stay in record_versions.
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, SealedJson, UTCDateTime, created_at, fk, metadata, pk

ORG_KINDS = ("credit_office", "provider", "government", "agency", "enterprise", "platform")

organisations = sa.Table(
    "organisations",
    metadata,
    pk(),
    sa.Column("uscc", sa.String(18), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200)),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("division_code", sa.String(6)),
    fk("parent_id", "organisations.id", nullable=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    created_at(),
    sa.CheckConstraint(f"kind IN {ORG_KINDS!r}", name="kind"),
)

catalog_versions = sa.Table(
    "catalog_versions",
    metadata,
    pk(),
    sa.Column("sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("edition", sa.String(200), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    created_at(),
)

BATCH_STATES = ("received", "loading", "done", "failed", "refused")

batches = sa.Table(
    "batches",
    metadata,
    pk(),
    sa.Column("item_code", sa.String(16), nullable=False, index=True),
    fk("submitter_id", "organisations.id"),
    fk("catalog_version_id", "catalog_versions.id", nullable=True, index=False),
    sa.Column("filename", sa.String(260)),
    sa.Column("file_sha256", sa.String(64)),
    sa.Column("format", sa.String(16)),
    sa.Column("encoding", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("received", sa.Integer, nullable=False, server_default="0"),
    sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("report", Json),
    created_at(),
    sa.Column("finished_at", UTCDateTime()),
    sa.CheckConstraint(f"status IN {BATCH_STATES!r}", name="status"),
)

rejected_rows = sa.Table(
    "rejected_rows",
    metadata,
    pk(),
    fk("batch_id", "batches.id"),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("item_code", sa.String(16), nullable=False),
    # The source department as the row gave it (possibly invalid, hence wider than a USCC): a correction
    # closes a rejected row only when it comes for the same source and the same key.
    sa.Column("source_uscc", sa.String(64)),
    sa.Column("source_key", sa.String(256)),
    sa.Column("raw", Json, nullable=False),
    sa.Column("reasons", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    fk("corrected_by_batch_id", "batches.id", nullable=True, index=False),
    sa.Index("ix_rejected_rows_open_key", "item_code", "source_key", "status"),
)

# Rows that loaded but that the clerk should check (an implausible amount, a name unlike the registered one,
# an ID number masked in free text): the provider's cells as sent (ID numbers encrypted) and the warnings,
# for the batch's feedback file.
row_warnings = sa.Table(
    "row_warnings",
    metadata,
    pk(),
    fk("batch_id", "batches.id"),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("item_code", sa.String(16), nullable=False),
    sa.Column("source_key", sa.String(256)),
    sa.Column("raw", Json, nullable=False),
    sa.Column("reasons", Json, nullable=False),
)

RECORD_STATES = ("active", "disputed", "corrected", "withdrawn", "repaired", "suspended", "expired")

records = sa.Table(
    "records",
    metadata,
    pk(),
    sa.Column("item_code", sa.String(16), nullable=False),
    sa.Column("source_uscc", sa.String(18), nullable=False),
    sa.Column("source_key", sa.String(256), nullable=False),
    fk("subject_id", "subjects.id"),
    sa.Column("state", sa.String(16), nullable=False, server_default="active"),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("decision_date", sa.Date),
    sa.Column("valid_until", sa.Date),
    # When the act or event ended: adverse information is disclosed for a period counted from it.
    sa.Column("act_end_date", sa.Date),
    # 双公示 timeliness: working days from decision to first receipt, and whether that broke the rule.
    sa.Column("receipt_working_days", sa.Integer),
    sa.Column("late", sa.Boolean),
    sa.Column("data", SealedJson, nullable=False),
    sa.Column("original", SealedJson),
    sa.Column("content_hash", sa.String(32), nullable=False),
    fk("first_batch_id", "batches.id", index=False),
    fk("last_batch_id", "batches.id", index=False),
    sa.Column("first_seen", UTCDateTime(), nullable=False),
    sa.Column("last_seen", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("item_code", "source_uscc", "source_key", name="uq_records_identity"),
    sa.Index("ix_records_item_decision", "item_code", "decision_date"),
    # The console's dashboards (console/stats.py) count a period's records by item, source, month and
    # timeliness: this index covers them all, so a period reads only its own slice of the index.
    sa.Index(
        "ix_records_first_seen_figures",
        "first_seen",
        "source_uscc",
        "item_code",
        "late",
        "receipt_working_days",
    ),
    sa.CheckConstraint(f"state IN {RECORD_STATES!r}", name="state"),
)

record_versions = sa.Table(
    "record_versions",
    metadata,
    pk(),
    fk("record_id", "records.id"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("data", SealedJson, nullable=False),
    sa.Column("original", SealedJson),
    sa.Column("content_hash", sa.String(32), nullable=False),
    fk("batch_id", "batches.id", nullable=True, index=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("superseded_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("record_id", "version", name="uq_record_versions_record_version"),
)

record_provenance = sa.Table(
    "record_provenance",
    metadata,
    fk("record_id", "records.id", index=False),
    fk("batch_id", "batches.id"),
    sa.Column("row_number", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint("record_id", "batch_id", "row_number"),
)
