"""Trust: the HQ's fixed settings (HeadBan), enrolment tokens and issued branch certificates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hq_settings",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "enroll_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("branch_ban", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["branch_ban"], ["branches.ban"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("branch_ban", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("not_after", sa.DateTime(), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("token_id", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["branch_ban"], ["branches.ban"]),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_index("ix_certificates_branch", "certificates", ["branch_ban", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_certificates_branch", table_name="certificates")
    op.drop_table("certificates")
    op.drop_table("enroll_tokens")
    op.drop_table("hq_settings")
