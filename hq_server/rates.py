"""Burn rates of all branches in one query: numbers issued per hour between each branch's
first and last usage sample (the samples are kept for a recent window, branch_ops).

The same measure as branch_ops.burn_per_hour (one branch, three queries) and the notifier's
snapshot loader, for pages and calls that need every branch at once: at 10,000 branches a
query per branch costs seconds.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from hq_server.schema import usage_samples


def burn_rates(conn: Connection) -> dict[str, float]:
    ends = (
        select(
            usage_samples.c.ban,
            func.min(usage_samples.c.id).label("first"),
            func.max(usage_samples.c.id).label("last"),
        )
        .group_by(usage_samples.c.ban)
        .subquery()
    )
    first, last = aliased(usage_samples), aliased(usage_samples)
    query = (
        select(ends.c.ban, first.c.at, first.c.issued_total, last.c.at, last.c.issued_total)
        .join(first, first.c.id == ends.c.first)
        .join(last, and_(last.c.id == ends.c.last, ends.c.first != ends.c.last))
    )
    rates = {}
    for ban, at_a, total_a, at_b, total_b in conn.execute(query):
        hours = (at_b - at_a).total_seconds() / 3600
        rates[ban] = (total_b - total_a) / hours if hours > 0 else 0.0
    return rates
