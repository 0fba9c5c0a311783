"""Tables of the application chapter (应用): list entries, checks and their feedback, push subscriptions
and deliveries, and the cursors of the chapter's outbox readers.

A list entry (名单条目) lives `noticed` (告知 served, the defence period running) → `listed` (decided and
published, with its validity) → `removed` (expired, repaired, revoked, or a red-list member with a new
adverse record). Nothing is deleted: a removed entry keeps its row, its reason and its day.
"""

from __future__ import annotations

import sqlalchemy as sa

from xinyong.store.meta import Json, UTCDateTime, created_at, fk, metadata, pk

__all__ = [
    "CASE_STATES",
    "DELIVERY_STATES",
    "ENTRY_STATES",
    "PROPOSAL_STATES",
    "REMOVAL_REASONS",
    "RESPONSE_ANSWERS",
    "case_reports",
    "check_feedback",
    "checks",
    "deliveries",
    "list_entries",
    "memo_proposals",
    "memo_responses",
    "outbox_cursors",
    "subscriptions",
]

ENTRY_STATES = ("noticed", "listed", "removed")
REMOVAL_REASONS = ("expired", "repaired", "revoked", "new_adverse", "withdrawn")
DELIVERY_STATES = ("pending", "delivered", "dead")

list_entries = sa.Table(
    "list_entries",
    metadata,
    pk(),
    sa.Column("list_type", sa.String(32), nullable=False),
    fk("subject_id", "subjects.id"),
    # The credit record the listing rests on (a penalty, a court's 失信 decision), when there is one: its
    # repair or revocation removes the entry.
    fk("record_id", "records.id", nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("basis", sa.Text, nullable=False),
    sa.Column("proposed_by", sa.String(100), nullable=False),
    sa.Column("proposed_by_uscc", sa.String(18), nullable=True),
    sa.Column("noticed_on", sa.Date, nullable=False),
    sa.Column("defence_due", sa.Date, nullable=False),
    sa.Column("statement_waived", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("decided_on", sa.Date, nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.Column("removed_on", sa.Date, nullable=True),
    sa.Column("removed_reason", sa.String(16), nullable=True),
    sa.Column("removed_by", sa.String(100), nullable=True),
    created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(f"state IN {ENTRY_STATES!r}", name="state"),
    sa.CheckConstraint(
        f"removed_reason IS NULL OR removed_reason IN {REMOVAL_REASONS!r}", name="removed_reason"
    ),
    sa.Index("ix_list_entries_state_valid_until", "state", "valid_until"),
)

# One check (逢办必查): who asked about whom for which business matter, and the answer given, as given.
checks = sa.Table(
    "checks",
    metadata,
    pk(),
    fk("subject_id", "subjects.id"),
    sa.Column("matter", sa.String(16), nullable=False),
    sa.Column("checked_by", sa.String(100), nullable=False),
    sa.Column("org_uscc", sa.String(18), nullable=True),
    sa.Column("answer", Json, nullable=False),
    # How many measures the answer offered: the denominator of the feedback rate, counted in SQL.
    sa.Column("measure_count", sa.Integer, nullable=False, server_default="0"),
    created_at(),
    sa.Index("ix_checks_org_matter", "org_uscc", "matter"),
    sa.Index("ix_checks_created_at", "created_at"),
)

# What the checking department did with one measure of a check (反馈): the seed's "application" figure.
check_feedback = sa.Table(
    "check_feedback",
    metadata,
    pk(),
    fk("check_id", "checks.id"),
    sa.Column("measure", sa.String(32), nullable=False),
    sa.Column("applied", sa.Boolean, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("case_ref", sa.String(100), nullable=True),
    sa.Column("reported_by", sa.String(100), nullable=False),
    sa.Column("org_uscc", sa.String(18), nullable=True),
    created_at(),
    sa.UniqueConstraint("check_id", "measure", name="uq_check_feedback_check_measure"),
)

# A department's subscription: which events (and, for list events, which list types) go to which URL.
# `secret` signs the webhook bodies (HMAC-SHA256); it is shown once when the subscription is made and must
# be kept here to sign, as a webhook secret always is. `scanned_to` is the last event id already turned
# into deliveries for it.
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    pk(),
    sa.Column("org_uscc", sa.String(18), nullable=False, index=True),
    sa.Column("url", sa.String(500), nullable=True),
    sa.Column("event_types", Json, nullable=False),
    sa.Column("list_types", Json, nullable=True),
    sa.Column("secret", sa.String(80), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("scanned_to", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    created_at(),
)

# One event for one subscription. The event id is the idempotency key the receiver deduplicates on; the
# unique constraint makes sure the worker never queues the same event twice for the same subscription.
deliveries = sa.Table(
    "deliveries",
    metadata,
    pk(),
    fk("subscription_id", "subscriptions.id", index=False),
    fk("event_id", "events.id"),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_error", sa.String(300), nullable=True),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.Column("delay_ms", sa.Integer, nullable=True),
    created_at(),
    sa.CheckConstraint(f"state IN {DELIVERY_STATES!r}", name="state"),
    sa.UniqueConstraint("subscription_id", "event_id", name="uq_deliveries_subscription_event"),
    sa.Index("ix_deliveries_state_next", "state", "next_attempt_at"),
)

# Where each of the chapter's outbox readers has got to (e.g. "apply.removals": entries removed when the
# record under them is repaired or revoked).
outbox_cursors = sa.Table(
    "outbox_cursors",
    metadata,
    sa.Column("name", sa.String(48), primary_key=True),
    sa.Column("last_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
)


# ------------------------------------------------------------------------------------------ 发起响应

PROPOSAL_STATES = ("responding", "published", "withdrawn")
RESPONSE_ANSWERS = ("pending", "accepted", "declined")

# A memorandum (or measures added to one: `extends`) proposed by a department (发起): the draft as the YAML
# memoranda have it (`document` holds code, name, document, targets, measures), the departments it names
# asked to respond. Published, it joins the YAML memoranda in every check (apply.memoranda).
memo_proposals = sa.Table(
    "memo_proposals",
    metadata,
    pk(),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("extends", sa.String(32), nullable=True),
    sa.Column("draft", Json, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("proposed_by", sa.String(100), nullable=False),
    sa.Column("proposed_by_uscc", sa.String(18), nullable=True),
    sa.Column("decided_by", sa.String(100), nullable=True),
    sa.Column("decided_on", sa.Date, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(f"state IN {PROPOSAL_STATES!r}", name="state"),
    sa.Index("ix_memo_proposals_state", "state", "id"),
)

# One named department's answer (响应) to a proposal: pending until it accepts, or declines with a reason.
memo_responses = sa.Table(
    "memo_responses",
    metadata,
    pk(),
    fk("proposal_id", "memo_proposals.id"),
    sa.Column("org_uscc", sa.String(18), nullable=False),
    sa.Column("org_name", sa.String(200), nullable=False),
    sa.Column("answer", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("answered_by", sa.String(100), nullable=True),
    sa.Column("answered_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint(f"answer IN {RESPONSE_ANSWERS!r}", name="answer"),
    sa.UniqueConstraint("proposal_id", "org_uscc", name="uq_memo_responses_proposal_org"),
    sa.Index("ix_memo_responses_org_answer", "org_uscc", "answer"),
)

# ------------------------------------------------------------------------------------------ 案例报送

CASE_STATES = ("submitted", "published", "returned")

# A department's report of a reward or punishment it applied (案例报送): reviewed by the credit office,
# published ones shown on the portal (masked). Attachments live in the attachment store (matter "case").
case_reports = sa.Table(
    "case_reports",
    metadata,
    pk(),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("measure", sa.String(32), nullable=False),
    sa.Column("list_type", sa.String(32), nullable=False),
    sa.Column("effect", sa.String(16), nullable=False),
    fk("check_id", "checks.id", nullable=True),
    fk("subject_id", "subjects.id", nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reported_by", sa.String(100), nullable=False),
    sa.Column("org_uscc", sa.String(18), nullable=True),
    sa.Column("org_name", sa.String(200), nullable=True),
    sa.Column("reviewed_by", sa.String(100), nullable=True),
    sa.Column("reviewed_on", sa.Date, nullable=True),
    sa.Column("review_reason", sa.Text, nullable=True),
    created_at(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(f"state IN {CASE_STATES!r}", name="state"),
    sa.Index("ix_case_reports_state_id", "state", "id"),
)
