"""Grants found by period, track and last number: the overlap check of every batch of grants.

`check_no_overlap` asks for a period's grants of one track that end at or after the batch's
lowest number. No index served it (`ix_grants_pool` has the invoice type before the track), so
PostgreSQL scanned every grant of the table for each batch: 3-6 ms at 20,000 grants, growing
with the history, against 0.06 ms with this index (EXPLAIN ANALYZE, bench/README.md, Dec 3).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_grants_track_end", "grants", ["year_month", "track", "end"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_grants_track_end", table_name="grants")
