"""Burn rates in one query: numbers issued per hour between each branch's first and last usage
sample (the samples are kept for a recent window, branch_ops), by the one rule of
`allocator.forecast.rate_between`.

Pages, the usage listing and the notifier's snapshot need every branch at once: at 10,000
branches a query per branch costs seconds. `ban` narrows it to one branch.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from allocator.forecast import rate_between
from hq_server.schema import usage_samples


def burn_rates(conn: Connection, ban: str | None = None) -> dict[str, float]:
    ends = select(
        usage_samples.c.ban,
        func.min(usage_samples.c.id).label("first"),
        func.max(usage_samples.c.id).label("last"),
    ).group_by(usage_samples.c.ban)
    if ban is not None:
        ends = ends.where(usage_samples.c.ban == ban)
    ends = ends.subquery()
    first, last = aliased(usage_samples), aliased(usage_samples)
    query = (
        select(ends.c.ban, first.c.at, first.c.issued_total, last.c.at, last.c.issued_total)
        .join(first, first.c.id == ends.c.first)
        .join(last, and_(last.c.id == ends.c.last, ends.c.first != ends.c.last))
    )
    return {
        row_ban: rate_between((at_a, total_a), (at_b, total_b))
        for row_ban, at_a, total_a, at_b, total_b in conn.execute(query)
    }
