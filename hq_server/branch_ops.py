"""Use cases of the branch API besides granting (grant_batch): usage reports and burn rates.

Each function runs inside one fenced transaction (`conn`) and takes `now` from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from allocator import (
    Ban,
    NumberRange,
    PermissionDenied,
    RangeSet,
)
from allocator.errors import OverlappingRange
from hq_server.records import (
    branch_row,
    grant_usage,
    skipped_by_grant,
    track_range,
)
from hq_server.schema import (
    branches,
    grants,
    skipped,
    usage_samples,
)

SAMPLE_WINDOW = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class GrantProgress:
    """One GrantUsage of a report: the agent's whole state of one grant."""

    grant_id: str
    next_number: int
    skipped: Sequence[NumberRange]
    final: bool


def report_usage(
    conn: Connection,
    now: datetime,
    branch: Ban,
    agent_time: datetime | None,
    progress: Sequence[GrantProgress],
) -> int:
    """Keep the furthest state of each grant; order-free and idempotent. Returns grants moved."""
    branch_row(conn, branch)
    moved = sum(apply_progress(conn, branch, item) for item in progress)
    conn.execute(
        update(branches)
        .where(branches.c.ban == branch.value)
        .values(last_report_at=now, last_agent_time=agent_time)
    )
    record_sample(conn, now, branch)
    return moved


def apply_progress(conn: Connection, branch: Ban, item: GrantProgress) -> bool:
    row = conn.execute(select(grants).where(grants.c.id == item.grant_id)).first()
    if row is None or row.branch_ban != branch.value:
        raise PermissionDenied(f"grant {item.grant_id!r} is not held by branch {branch}")
    if not row.begin <= item.next_number <= row.end + 1:
        raise OverlappingRange(
            f"next number {item.next_number} is outside grant {track_range(row)}"
        )
    known = skipped_by_grant(conn, [row.id]).get(row.id)
    new_skips = [s for s in item.skipped if known is None or s.begin not in known]
    for span in new_skips:
        if not (row.begin <= span.begin and span.end < max(row.next_number, item.next_number)):
            raise OverlappingRange(f"skipped span {span} is outside the used part of grant")
        conn.execute(insert(skipped).values(grant_id=row.id, begin=span.begin, end=span.end))
    forward = item.next_number > row.next_number or (item.final and not row.final)
    if forward:
        conn.execute(
            update(grants)
            .where(grants.c.id == row.id)
            .values(
                next_number=max(row.next_number, item.next_number), final=row.final or item.final
            )
        )
    return forward or bool(new_skips)


def issued_total(conn: Connection, branch: Ban) -> int:
    rows = conn.execute(select(grants).where(grants.c.branch_ban == branch.value)).all()
    skips = skipped_by_grant(conn, [r.id for r in rows])
    return sum(grant_usage(r, skips.get(r.id, RangeSet()))[0].count for r in rows)


def record_sample(conn: Connection, now: datetime, branch: Ban) -> None:
    conn.execute(
        insert(usage_samples).values(
            ban=branch.value, at=now, issued_total=issued_total(conn, branch)
        )
    )
    conn.execute(
        usage_samples.delete()
        .where(usage_samples.c.ban == branch.value)
        .where(usage_samples.c.at < now - SAMPLE_WINDOW)
    )


def burn_per_hour(conn: Connection, branch: Ban) -> float:
    """Numbers issued per hour over the recent samples."""
    first, last = conn.execute(
        select(func.min(usage_samples.c.id), func.max(usage_samples.c.id)).where(
            usage_samples.c.ban == branch.value
        )
    ).one()
    if first is None or first == last:
        return 0.0
    a = conn.execute(select(usage_samples).where(usage_samples.c.id == first)).one()
    b = conn.execute(select(usage_samples).where(usage_samples.c.id == last)).one()
    hours = (b.at - a.at).total_seconds() / 3600
    return (b.issued_total - a.issued_total) / hours if hours > 0 else 0.0
