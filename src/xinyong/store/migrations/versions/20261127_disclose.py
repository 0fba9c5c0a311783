"""disclose and rights: the search index slots, authorisations, the query log, a records index.

Revision ID: 0004_disclose
Revises: 0003_collect
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

import xinyong.store.meta

revision = "0004_disclose"
down_revision = "0003_collect"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = xinyong.store.meta.UTCDateTime(timezone=True)
SLOTS = ("a", "b")


def upgrade() -> None:
    op.create_table(
        "search_builds",
        sa.Column("id", ID, nullable=False),
        sa.Column("slot", sa.String(length=1), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("subjects", sa.Integer(), server_default="0", nullable=False),
        sa.Column("grams", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("max_subject_id", ID, server_default="0", nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("refreshed_at", WHEN, nullable=True),
        sa.CheckConstraint(
            "status IN ('building', 'active', 'retired', 'failed')", name=op.f("ck_search_builds_status")
        ),
        sa.CheckConstraint("slot IN ('a', 'b')", name=op.f("ck_search_builds_slot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_builds")),
    )
    for slot in SLOTS:
        op.create_table(
            f"search_grams_{slot}",
            sa.Column("gram", sa.String(length=8), nullable=False),
            sa.Column("subject_id", ID, nullable=False),
            sa.PrimaryKeyConstraint("gram", "subject_id", name=op.f(f"pk_search_grams_{slot}")),
            sqlite_with_rowid=False,
        )
        op.create_table(
            f"search_gram_stats_{slot}",
            sa.Column("gram", sa.String(length=8), nullable=False),
            sa.Column("df", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("gram", name=op.f(f"pk_search_gram_stats_{slot}")),
            sqlite_with_rowid=False,
        )

    op.create_table(
        "authorisations",
        sa.Column("id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("document_ref", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f("ck_authorisations_status")),
        sa.CheckConstraint("valid_until >= valid_from", name=op.f("ck_authorisations_period")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_authorisations_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_authorisations_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
    )
    op.create_index(
        "ix_authorisations_organisation_subject", "authorisations", ["organisation_id", "subject_id"]
    )
    op.create_index(op.f("ix_authorisations_subject_id"), "authorisations", ["subject_id"])

    op.create_table(
        "query_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("organisation_id", ID, nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("authorisation_id", ID, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("shown", xinyong.store.meta.Json, nullable=False),
        sa.CheckConstraint(
            "channel IN ('portal', 'api', 'csv', 'report', 'check')", name=op.f("ck_query_log_channel")
        ),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["authorisations.id"],
            name=op.f("fk_query_log_authorisation_id_authorisations"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_query_log_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_query_log_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_log")),
    )
    op.create_index("ix_query_log_subject_at", "query_log", ["subject_id", "at"])

    op.create_index(
        "ix_records_source_item_decision", "records", ["source_uscc", "item_code", "decision_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_records_source_item_decision", table_name="records")
    op.drop_index("ix_query_log_subject_at", table_name="query_log")
    op.drop_table("query_log")
    op.drop_index(op.f("ix_authorisations_subject_id"), table_name="authorisations")
    op.drop_index("ix_authorisations_organisation_subject", table_name="authorisations")
    op.drop_table("authorisations")
    for slot in reversed(SLOTS):
        op.drop_table(f"search_gram_stats_{slot}")
        op.drop_table(f"search_grams_{slot}")
    op.drop_table("search_builds")
