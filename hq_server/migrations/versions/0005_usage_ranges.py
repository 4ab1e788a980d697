"""Usage reports: a running issued total per branch; skip sets as whole ranges; old samples
found by time.

`branches.issued_total` is what the burn-rate samples record (before, each report summed
every grant of the branch and its skips). Skipped numbers were stored as the disjoint pieces
each report added (a span reported as 10, then 10-11, became two rows); they become one row
per range of the set, which is how usage reports now keep them. The scheduler drops every
branch's old usage samples at once (before, each report dropped its branch's): an index on `at`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

branches = sa.table("branches", sa.column("ban"), sa.column("issued_total"))
grants = sa.table(
    "grants", sa.column("id"), sa.column("branch_ban"), sa.column("begin"), sa.column("next_number")
)
skipped = sa.table("skipped", sa.column("grant_id"), sa.column("begin"), sa.column("end"))


def upgrade() -> None:
    with op.batch_alter_table("branches") as batch:
        batch.add_column(
            sa.Column("issued_total", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_index("ix_usage_samples_at", "usage_samples", ["at"], unique=False)
    conn = op.get_bind()
    merge_skipped_ranges(conn)
    touched = (
        sa.select(sa.func.coalesce(sa.func.sum(grants.c.next_number - grants.c.begin), 0))
        .where(grants.c.branch_ban == branches.c.ban)
        .scalar_subquery()
    )
    blank = (
        sa.select(sa.func.coalesce(sa.func.sum(skipped.c.end - skipped.c.begin + 1), 0))
        .select_from(skipped.join(grants, skipped.c.grant_id == grants.c.id))
        .where(grants.c.branch_ban == branches.c.ban)
        .scalar_subquery()
    )
    conn.execute(sa.update(branches).values(issued_total=touched - blank))


def merge_skipped_ranges(conn: sa.Connection) -> None:
    """Adjacent pieces of one grant's skip set become one row (they never overlap)."""
    rows = conn.execute(
        sa.select(skipped.c.grant_id, skipped.c.begin, skipped.c.end).order_by(
            skipped.c.grant_id, skipped.c.begin
        )
    ).all()
    merged: list[tuple[str, int, int]] = []
    for grant_id, begin, end in rows:
        if merged and merged[-1][0] == grant_id and begin <= merged[-1][2] + 1:
            merged[-1] = (grant_id, merged[-1][1], max(merged[-1][2], end))
        else:
            merged.append((grant_id, begin, end))
    if len(merged) == len(rows):
        return
    conn.execute(skipped.delete())
    conn.execute(sa.insert(skipped), [{"grant_id": g, "begin": b, "end": e} for g, b, e in merged])


def downgrade() -> None:
    op.drop_index("ix_usage_samples_at", table_name="usage_samples")
    with op.batch_alter_table("branches") as batch:
        batch.drop_column("issued_total")
