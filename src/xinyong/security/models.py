"""Tables of the security layer: accounts, sessions, API tokens, agency qualifications, the audit chain, and
the subject's authorisations (授权查询) with the log of queries about it.

Nothing here holds a secret in clear: passwords are argon2 hashes, session and API tokens are SHA-256
digests of 256-bit random values, a natural person's ID number is a blind index plus an AES-GCM copy.
Organisations themselves live in `store.tables.organisations` (every chapter refers to them).
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, UTCDateTime, created_at, fk, metadata, pk

USER_STATES = ("active", "disabled")

# One table for every human account. An organisation's staff (and an enterprise acting for its own USCC)
# carry organisation_id; a natural person acting for themself carries person_key (the blind index of their
# ID number) instead, so that "who is the subject" is known without ever storing the number in clear.
users = sa.Table(
    "users",
    metadata,
    pk(),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False),
    fk("organisation_id", "organisations.id", nullable=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("person_key", sa.String(64), unique=True),
    sa.Column("person_cipher", sa.LargeBinary),
    sa.Column("person_masked", sa.String(32)),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.Column("last_login_at", UTCDateTime()),
    sa.Column("password_changed_at", UTCDateTime(), nullable=False),
    # Identity proofing of a subject account: which adapter vouched, when, and its reference.
    sa.Column("proofed_by", sa.String(64)),
    sa.Column("proofed_at", UTCDateTime()),
    sa.Column("proof_ref", sa.String(200)),
    created_at(),
    sa.CheckConstraint(f"status IN {USER_STATES!r}", name="status"),
    sa.CheckConstraint("organisation_id IS NOT NULL OR person_key IS NOT NULL", name="belongs"),
)

# Failed sign-ins per account *and client address*. A lock-out shuts one address out of one account, with a
# back-off that doubles at each lock-out — never the account as a whole, so knowing a username is not enough
# to lock its owner out. (The earlier account-wide lock, users.failed_logins / users.locked_until, was
# dropped by migration 0015_console: nothing wrote or read it any more.)
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    pk(),
    fk("user_id", "users.id", index=False),
    sa.Column("client", sa.String(45), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lockouts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", UTCDateTime()),
    sa.Column("last_failure_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("user_id", "client"),
)

user_sessions = sa.Table(
    "user_sessions",
    metadata,
    pk(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    fk("user_id", "users.id"),
    created_at(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("ip", sa.String(45)),
    sa.Column("user_agent", sa.String(200)),
)

# One-time links to set a password (an administrator's reset, or a new account's first password). Only the
# SHA-256 of the link's secret is kept; a link works once (used_at) and until expires_at.
password_resets = sa.Table(
    "password_resets",
    metadata,
    pk(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    fk("user_id", "users.id"),
    sa.Column("created_by", sa.String(100), nullable=False),
    created_at(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime()),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    pk(),
    fk("organisation_id", "organisations.id"),
    sa.Column("name", sa.String(100), nullable=False),
    # The visible part of a token (xyt_XXXXXXXX): lets an operator list and revoke it without the secret.
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("scopes", Json, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    created_at(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("revoked_by", sa.String(100)),
    sa.Column("last_used_at", UTCDateTime()),
)

QUALIFICATION_STATES = ("pending", "approved", "suspended", "revoked")

# A credit service agency may make authorised queries only after its qualification is reviewed, and only
# within its quota. The quota counts queries per calendar month (China Standard Time).
agency_qualifications = sa.Table(
    "agency_qualifications",
    metadata,
    pk(),
    fk("organisation_id", "organisations.id", index=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("quota_per_month", sa.Integer, nullable=False),
    sa.Column("quota_period", sa.String(7)),
    sa.Column("quota_used", sa.Integer, nullable=False, server_default="0"),
    sa.Column("valid_until", sa.Date),
    sa.Column("reviewed_by", sa.String(100)),
    sa.Column("reviewed_at", UTCDateTime()),
    sa.Column("note", sa.Text),
    created_at(),
    sa.UniqueConstraint("organisation_id", name="uq_agency_qualifications_organisation_id"),
    sa.CheckConstraint(f"status IN {QUALIFICATION_STATES!r}", name="status"),
)

AUDIT_OUTCOMES = ("ok", "denied", "failed")

# Append-only and hash-chained: each entry's hash covers its content and the previous entry's hash, so an
# edited, inserted or deleted row breaks the chain at that point. Database triggers (see the migration)
# refuse UPDATE and DELETE; `audit_head` holds the last seq and hash so that a cut-off tail shows too.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("actor_role", sa.String(32)),
    sa.Column("organisation_uscc", sa.String(18)),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("object_type", sa.String(32)),
    sa.Column("object_id", sa.String(100)),
    # Whom the actor looked at: the registry's id, a key that can be searched (a USCC, or the blind index
    # of an ID number) and a label safe to show (masked for natural persons).
    sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer, "sqlite")),
    sa.Column("subject_key", sa.String(64), index=True),
    sa.Column("subject_label", sa.String(200)),
    sa.Column("level", sa.String(16)),
    sa.Column("purpose", sa.String(200)),
    sa.Column("ip", sa.String(45)),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("detail", Json),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_subject_id", "subject_id"),
    sa.CheckConstraint(f"outcome IN {AUDIT_OUTCOMES!r}", name="outcome"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


# ------------------------------------------------------------------- authorisations and the query log
# The subject's rights (授权查询, 查询记录; rights.service grants and lists them), kept here below the
# chapters because disclosure records every non-public query and access checks authorisations: neither
# may import the rights chapter.

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
