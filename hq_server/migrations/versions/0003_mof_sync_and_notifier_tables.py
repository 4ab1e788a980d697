"""MOF sync's and the notifier's tables, which their packages used to create at run time.

Alembic owns every table of the HQ database now. A database whose tables were made the old way
keeps them: each table is created only where it is missing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def missing(table: str) -> bool:
    return table not in sa.inspect(op.get_bind()).get_table_names()


def upgrade() -> None:
    if missing("mof_documents"):
        op.create_table(
            "mof_documents",
            sa.Column("name", sa.String(length=160), nullable=False),
            sa.Column("key", sa.String(length=120), nullable=False),
            sa.Column("message_type", sa.String(length=5), nullable=False),
            sa.Column("head_ban", sa.String(length=8), nullable=False),
            sa.Column("branch_ban", sa.String(length=8), nullable=False),
            sa.Column("invoice_type", sa.String(length=2), nullable=False),
            sa.Column("year_month", sa.String(length=5), nullable=False),
            sa.Column("track", sa.String(length=2), nullable=False),
            sa.Column("main_begin", sa.Integer(), nullable=True),
            sa.Column("main_end", sa.Integer(), nullable=True),
            sa.Column("revision", sa.Integer(), nullable=False),
            sa.Column("part", sa.Integer(), nullable=False),
            sa.Column("parts", sa.Integer(), nullable=False),
            sa.Column("mig_version", sa.String(length=3), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("content", sa.LargeBinary(), nullable=False),
            sa.Column("state", sa.String(length=16), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("turnkey_id", sa.String(length=80), nullable=True),
            sa.Column("error_code", sa.String(length=32), nullable=True),
            sa.Column("error_detail", sa.Text(), nullable=False),
            sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name"),
        )
        op.create_index("mof_documents_key", "mof_documents", ["key", "revision"])
        op.create_index("mof_documents_period", "mof_documents", ["message_type", "year_month"])
        op.create_index("mof_documents_state", "mof_documents", ["state"])

    if missing("mof_result_files"):
        op.create_table(
            "mof_result_files",
            sa.Column("path", sa.String(length=1000), nullable=False),
            sa.Column("problem", sa.Text(), nullable=False),
            sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("path"),
        )
    if missing("mof_results"):
        op.create_table(
            "mof_results",
            sa.Column("source", sa.String(length=1000), nullable=False),
            sa.Column("correlation", sa.String(length=80), nullable=False),
            sa.Column("message_id", sa.String(length=120), nullable=False),
            sa.Column("ok", sa.Boolean(), nullable=False),
            sa.Column("codes", sa.String(length=200), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("source", "correlation"),
        )
        op.create_index("mof_results_correlation", "mof_results", ["correlation"])

    if missing("mof_message_ids"):
        op.create_table(
            "mof_message_ids",
            sa.Column("correlation", sa.String(length=80), nullable=False),
            sa.Column("document", sa.String(length=160), nullable=False),
            sa.Column("attempt", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["document"],
                ["mof_documents.name"],
            ),
            sa.PrimaryKeyConstraint("correlation"),
        )
    if missing("notify_conditions"):
        op.create_table(
            "notify_conditions",
            sa.Column("key", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("source", sa.String(length=10), nullable=False),
            sa.Column("ban", sa.String(length=8), nullable=True),
            sa.Column("state", sa.String(length=10), nullable=False),
            sa.Column("episode", sa.Integer(), nullable=False),
            sa.Column("facts_json", sa.Text(), nullable=False),
            sa.Column("first_seen", sa.DateTime(), nullable=False),
            sa.Column("last_seen", sa.DateTime(), nullable=False),
            sa.Column("resolved_at", sa.DateTime(), nullable=True),
            sa.Column("open_mail_at", sa.DateTime(), nullable=True),
            sa.Column("resolved_mail_at", sa.DateTime(), nullable=True),
            sa.Column("next_reminder_at", sa.DateTime(), nullable=True),
            sa.Column("reminders_sent", sa.Integer(), nullable=False),
            sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
            sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("key"),
        )
        op.create_index("ix_notify_conditions_state", "notify_conditions", ["state"])

    if missing("notify_messages"):
        op.create_table(
            "notify_messages",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("dedupe_key", sa.String(length=600), nullable=False),
            sa.Column("message_id", sa.String(length=200), nullable=False),
            sa.Column("condition_key", sa.String(length=200), nullable=True),
            sa.Column("event", sa.String(length=10), nullable=False),
            sa.Column("recipient", sa.String(length=320), nullable=False),
            sa.Column("subject", sa.Text(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("state", sa.String(length=10), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
            sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
            sa.Column("claim_token", sa.BigInteger(), nullable=True),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.Column("sent_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("dedupe_key"),
            sa.UniqueConstraint("message_id"),
        )
        op.create_index("ix_notify_messages_condition", "notify_messages", ["condition_key"])
        op.create_index("ix_notify_messages_due", "notify_messages", ["state", "next_attempt_at"])

    if missing("notify_attempts"):
        op.create_table(
            "notify_attempts",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("message", sa.Integer(), nullable=False),
            sa.Column("attempt", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("outcome", sa.String(length=10), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("fencing_token", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["message"],
                ["notify_messages.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_notify_attempts_message"), "notify_attempts", ["message"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notify_attempts_message"), table_name="notify_attempts")

    op.drop_table("notify_attempts")
    op.drop_index("ix_notify_messages_due", table_name="notify_messages")
    op.drop_index("ix_notify_messages_condition", table_name="notify_messages")

    op.drop_table("notify_messages")
    op.drop_index("ix_notify_conditions_state", table_name="notify_conditions")

    op.drop_table("notify_conditions")
    op.drop_table("mof_message_ids")
    op.drop_index("mof_results_correlation", table_name="mof_results")

    op.drop_table("mof_results")
    op.drop_table("mof_result_files")
    op.drop_index("mof_documents_state", table_name="mof_documents")
    op.drop_index("mof_documents_period", table_name="mof_documents")
    op.drop_index("mof_documents_key", table_name="mof_documents")

    op.drop_table("mof_documents")
