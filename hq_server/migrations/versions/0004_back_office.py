"""Back office: web users, and the pools' and branches' numbers over time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("password_changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "pool_history",
        sa.Column("year_month", sa.String(length=5), nullable=False),
        sa.Column("invoice_type", sa.String(length=2), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("granted", sa.BigInteger(), nullable=False),
        sa.Column("free", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("year_month", "invoice_type", "at"),
    )
    op.create_table(
        "branch_history",
        sa.Column("ban", sa.String(length=8), nullable=False),
        sa.Column("year_month", sa.String(length=5), nullable=False),
        sa.Column("invoice_type", sa.String(length=2), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("issued", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ban", "year_month", "invoice_type", "at"),
    )
    op.create_index("ix_branch_history_at", "branch_history", ["at"])


def downgrade() -> None:
    op.drop_index("ix_branch_history_at", table_name="branch_history")
    op.drop_table("branch_history")
    op.drop_table("pool_history")
    op.drop_table("web_users")
