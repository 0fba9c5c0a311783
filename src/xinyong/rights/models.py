"""Tables of the rights chapter (权益): authorisations, the query log, objections, repair applications and
the files applicants attach.

An authorisation (授权查询) is the subject's written consent that one named organisation may query its
授权查询-level information for one purpose until a date; it can be revoked at any time. Every query of
non-public information about a subject — under an authorisation, by a government body, by the platform —
leaves one row in `query_log`, which the subject can read (who, whom, when, purpose, what was shown:
《上海市社会信用条例》第三十四条). The audit trail records the same access for the platform's own
supervision; this table is the subject's view of it.
"""

from __future__ import annotations

import sqlalchemy as sa

# The authorisations and the query log are the subject's, but disclosure writes the log and security reads the
# authorisations: their tables live in security.models (below both), and are named here for this chapter.
from xinyong.security.models import (
    AUTHORISATION_STATES,
    QUERY_CHANNELS,
    authorisations,
    query_log,
)
from xinyong.store.meta import Json, UTCDateTime, created_at, fk, metadata, pk

__all__ = [
    "ATTACHMENT_TYPES",
    "AUTHORISATION_STATES",
    "OBJECTION_KINDS",
    "OBJECTION_OUTCOMES",
    "OBJECTION_STATES",
    "QUERY_CHANNELS",
    "REPAIR_STATES",
    "attachments",
    "authorisations",
    "objections",
    "query_log",
    "repair_applications",
]

# ------------------------------------------------------------------------------------------ objections

OBJECTION_KINDS = ("wrong", "incomplete", "not_mine", "unlawful")
OBJECTION_STATES = ("open", "forwarded", "decided")
OBJECTION_OUTCOMES = ("upheld", "corrected", "removed", "moved")

# An objection (异议) to one record. `open_record_id` equals `record_id` while the objection is open and is
# NULL once decided: its unique constraint is what refuses a second open objection on the same record,
# even when two are filed at the same moment (NULLs never collide, on either database).
objections = sa.Table(
    "objections",
    metadata,
    pk(),
    fk("record_id", "records.id"),
    fk("subject_id", "subjects.id"),
    sa.Column("open_record_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    # The record's state before it was marked: an upheld objection puts it back.
    sa.Column("record_state_before", sa.String(16), nullable=False),
    sa.Column("filed_by", sa.String(100), nullable=False),
    sa.Column("filed_via", sa.String(16), nullable=False),  # self (signed in) or counter (an operator)
    created_at(),
    sa.Column("forwarded_at", UTCDateTime()),
    sa.Column("forwarded_by", sa.String(100)),
    sa.Column("forwarded_to_uscc", sa.String(18)),
    sa.Column("outcome", sa.String(16)),
    sa.Column("decision_reason", sa.Text),
    sa.Column("decided_at", UTCDateTime()),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_by_uscc", sa.String(18)),  # NULL: the platform decided
    sa.Column("corrected_version", sa.Integer),  # the record version the correction wrote
    # outcome "moved": the registry's record_moves row (not_mine: the record went to the right subject)
    sa.Column("move_id", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
    sa.CheckConstraint(f"kind IN {OBJECTION_KINDS!r}", name="kind"),
    sa.CheckConstraint(f"state IN {OBJECTION_STATES!r}", name="state"),
    sa.CheckConstraint(f"outcome IS NULL OR outcome IN {OBJECTION_OUTCOMES!r}", name="outcome"),
)

# ------------------------------------------------------------------------------------------ credit repair

REPAIR_STATES = ("submitted", "approved", "refused")

# A credit repair application (信用修复申请). Like objections, `open_record_id` allows one open application
# per record. `materials` maps each material code of the policy to the attachment ids that prove it.
repair_applications = sa.Table(
    "repair_applications",
    metadata,
    pk(),
    fk("record_id", "records.id"),
    fk("subject_id", "subjects.id"),
    sa.Column("open_record_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), unique=True),
    sa.Column("item_code", sa.String(16), nullable=False),
    sa.Column("penalty_class", sa.String(8)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("commitment", sa.Boolean, nullable=False),
    sa.Column("paid", sa.Boolean, nullable=False),
    sa.Column("rectified", sa.Boolean, nullable=False),
    sa.Column("materials", Json, nullable=False),
    # Who decides: NULL the platform, else the deciding body (the record's source department) by USCC.
    sa.Column("decider_uscc", sa.String(18)),
    sa.Column("applied_by", sa.String(100), nullable=False),
    sa.Column("applied_via", sa.String(16), nullable=False),
    created_at(),
    sa.Column("decision_reason", sa.Text),
    sa.Column("decided_at", UTCDateTime()),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_by_uscc", sa.String(18)),
    sa.Index("ix_repair_applications_subject_item", "subject_id", "item_code", "state"),
    sa.CheckConstraint(f"state IN {REPAIR_STATES!r}", name="state"),
)

# ------------------------------------------------------------------------------------------ attachments

ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")

# Files an applicant sends (proof of payment, a commitment, a court ruling…): stored outside the database
# under XINYONG_HOME/attachments by their SHA-256, their type judged by content, never by the file name.
attachments = sa.Table(
    "attachments",
    metadata,
    pk(),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(32), nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("matter_kind", sa.String(32)),
    sa.Column("matter_id", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
    sa.Column("material", sa.String(48)),
    sa.Column("uploaded_by", sa.String(100), nullable=False),
    created_at(),
    sa.Index("ix_attachments_matter", "matter_kind", "matter_id"),
    sa.CheckConstraint(f"media_type IN {ATTACHMENT_TYPES!r}", name="media_type"),
)

# ------------------------------------------------------------------------------------------ notifications

PARTY_KINDS = ("subject", "organisation", "platform")
DELIVERY_STATES = ("none", "pending", "sent", "failed")

# The site inbox (站内消息): one row per party told of a step of an objection or a repair. Written only by
# rights.notify from the event outbox, so every step that writes an event tells the parties, once (the
# unique key on event and party). `party_key`: the subject's id, the organisation's USCC, or "platform".
# `email_state`: "none" (no address on file), "pending" until the adapter sent it, then "sent"/"failed".
notifications = sa.Table(
    "notifications",
    metadata,
    pk(),
    sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("party_kind", sa.String(16), nullable=False),
    sa.Column("party_key", sa.String(32), nullable=False),
    sa.Column("matter_kind", sa.String(16), nullable=False),
    sa.Column("matter_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("record_id", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
    sa.Column("title_zh", sa.String(200), nullable=False),
    sa.Column("title_en", sa.String(200), nullable=False),
    sa.Column("body_zh", sa.Text, nullable=False),
    sa.Column("body_en", sa.Text, nullable=False),
    created_at(),
    sa.Column("read_at", UTCDateTime()),
    sa.Column("email_state", sa.String(16), nullable=False),
    sa.Column("email_to", sa.String(200)),
    sa.Column("email_at", UTCDateTime()),
    sa.UniqueConstraint("event_id", "party_kind", "party_key", name="uq_notifications_event_party"),
    sa.Index("ix_notifications_party", "party_kind", "party_key", "id"),
    sa.CheckConstraint(f"party_kind IN {PARTY_KINDS!r}", name="party_kind"),
    sa.CheckConstraint(f"email_state IN {DELIVERY_STATES!r}", name="email_state"),
)

# How far the notifier has read the event outbox (one row, id 1): delivery resumes after it, never twice.
notifier_cursor = sa.Table(
    "notifier_cursor",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
)

# Where a party wants to be told outside the site: an e-mail address and/or a mobile number.
notification_contacts = sa.Table(
    "notification_contacts",
    metadata,
    pk(),
    sa.Column("party_kind", sa.String(16), nullable=False),
    sa.Column("party_key", sa.String(32), nullable=False),
    sa.Column("email", sa.String(200)),
    sa.Column("phone", sa.String(20)),
    created_at(),
    sa.UniqueConstraint("party_kind", "party_key", name="uq_notification_contacts_party"),
    sa.CheckConstraint(f"party_kind IN {PARTY_KINDS!r}", name="party_kind"),
)
