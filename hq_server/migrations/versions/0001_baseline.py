"""Baseline: the HQ tables, plus the no-overlap exclusion constraint on PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leadership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year_month", sa.String(length=5), nullable=False),
        sa.Column("invoice_type", sa.String(length=2), nullable=False),
        sa.Column("track", sa.String(length=2), nullable=False),
        sa.Column("begin", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("granted_numbers", sa.BigInteger(), nullable=False),
        sa.Column("granted_high", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year_month", "invoice_type", "track", "begin", name="uq_assignment"),
    )
    op.create_table(
        "branches",
        sa.Column("ban", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("booklets_per_request", sa.Integer(), nullable=False),
        sa.Column("booklets_per_period", sa.Integer(), nullable=False),
        sa.Column("low_water_count", sa.Integer(), nullable=False),
        sa.Column("low_water_minutes", sa.Float(), nullable=False),
        sa.Column("min_booklets", sa.Integer(), nullable=False),
        sa.Column("max_booklets", sa.Integer(), nullable=False),
        sa.Column("emails", sa.Text(), nullable=False),
        sa.Column("config_version", sa.BigInteger(), nullable=False),
        sa.Column("last_report_at", sa.DateTime(), nullable=True),
        sa.Column("last_agent_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ban"),
    )
    op.create_table(
        "quota_schedule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ban", sa.String(length=8), nullable=False),
        sa.Column("effective_from", sa.DateTime(), nullable=False),
        sa.Column("booklets_per_request", sa.Integer(), nullable=False),
        sa.Column("booklets_per_period", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ban"], ["branches.ban"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("branch_ban", sa.String(length=8), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("year_month", sa.String(length=5), nullable=False),
        sa.Column("invoice_type", sa.String(length=2), nullable=False),
        sa.Column("track", sa.String(length=2), nullable=False),
        sa.Column("begin", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("booklets", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignments.id"]),
        sa.ForeignKeyConstraint(["branch_ban"], ["branches.ban"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index(
        "ix_grants_pool", "grants", ["year_month", "invoice_type", "track", "begin"], unique=False
    )
    op.create_index("ix_grants_branch", "grants", ["branch_ban", "year_month"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # btree_gist gives GiST the `=` on text that the constraint combines with `&&` on ranges.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE grants ADD CONSTRAINT ex_grants_no_overlap EXCLUDE USING gist "
            '(year_month WITH =, track WITH =, int4range("begin", "end", \'[]\') WITH &&)'
        )
    op.create_table(
        "skipped",
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("begin", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"]),
        sa.PrimaryKeyConstraint("grant_id", "begin"),
    )
    op.create_table(
        "usage_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ban", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("issued_total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_usage_samples_ban_at", "usage_samples", ["ban", "at"], unique=False)
    op.create_table(
        "closed_periods",
        sa.Column("year_month", sa.String(length=5), nullable=False),
        sa.Column("invoice_type", sa.String(length=2), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("year_month", "invoice_type"),
    )
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    for table in (
        "audit",
        "closed_periods",
        "usage_samples",
        "skipped",
        "grants",
        "quota_schedule",
        "branches",
        "assignments",
        "leadership",
    ):
        op.drop_table(table)
