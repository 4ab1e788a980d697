"""Use cases of the branch API: grant a range, record usage, build a branch's configuration.

Each function runs inside one fenced transaction (`conn`) and takes `now` from the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from allocator import (
    Ban,
    NumberRange,
    PeriodClosed,
    PermissionDenied,
    RangeSet,
    Refused,
    TrackRange,
    booklets_allowed,
    plan_grant,
)
from allocator.errors import OverlappingRange
from hq_server import audit
from hq_server.records import (
    PoolKey,
    assigned_ranges,
    branch_pool_state,
    branch_row,
    grant_usage,
    pool_free_runs,
    quota_of,
    skipped_by_grant,
    track_range,
)
from hq_server.schema import (
    assignments,
    branches,
    closed_periods,
    grants,
    skipped,
    usage_samples,
)

SAMPLE_WINDOW = timedelta(hours=2)


class PeriodNotAssigned(Refused):
    """No MOF range is known for the period and type a branch asked for."""


class BranchDisabled(Refused):
    """An admin disabled the branch: it gets no more grants."""


@dataclass(frozen=True, slots=True)
class RangeRequest:
    request_id: str
    branch: Ban
    pool: PoolKey
    booklets: int


def find_grant(conn: Connection, request_id: str) -> Row[Any] | None:
    return conn.execute(select(grants).where(grants.c.request_id == request_id)).first()


def require_open(conn: Connection, pool: PoolKey, now: datetime) -> None:
    if now >= pool.period.end():
        raise PeriodClosed(f"period {pool.year_month} ended at {pool.period.end().isoformat()}")
    closed = conn.execute(
        select(closed_periods.c.closed_at)
        .where(closed_periods.c.year_month == pool.year_month)
        .where(closed_periods.c.invoice_type == pool.type_code)
    ).first()
    if closed is not None:
        raise PeriodClosed(f"period {pool.year_month} type {pool.type_code} is closed")


def request_range(conn: Connection, now: datetime, token: int, req: RangeRequest) -> Row[Any]:
    """Grant the next booklets to a branch; a retried request id returns the original grant."""
    existing = find_grant(conn, req.request_id)
    if existing is not None:
        if existing.branch_ban != req.branch.value:
            raise PermissionDenied(
                f"request id {req.request_id!r} belongs to branch {existing.branch_ban}"
            )
        return existing
    branch = branch_row(conn, req.branch)
    if not branch.enabled:
        raise BranchDisabled(f"branch {req.branch} is disabled and gets no more ranges")
    require_open(conn, req.pool, now)
    pool = assigned_ranges(conn, req.pool)
    if not pool:
        raise PeriodNotAssigned(
            f"period {req.pool.year_month} type {req.pool.type_code} has no assignment yet"
        )
    granted, current = branch_pool_state(conn, req.pool, req.branch)
    booklets = booklets_allowed(req.booklets, quota_of(branch), granted)
    grant = plan_grant(pool_free_runs(conn, req.pool), current, booklets)
    assignment_id = next(
        i for i, a in pool if a.track == grant.track and a.range.overlaps(grant.range)
    )
    return insert_grant(conn, now, token, req, grant, assignment_id)


def insert_grant(
    conn: Connection,
    now: datetime,
    token: int,
    req: RangeRequest,
    grant: TrackRange,
    assignment_id: int,
) -> Row[Any]:
    check_no_overlap(conn, req.pool, grant)
    conn.execute(
        update(assignments)
        .where(assignments.c.id == assignment_id)
        .values(
            granted_numbers=assignments.c.granted_numbers + grant.range.count,
            granted_high=func.max(func.coalesce(assignments.c.granted_high, -1), grant.range.end)
            if conn.dialect.name == "sqlite"
            else func.greatest(func.coalesce(assignments.c.granted_high, -1), grant.range.end),
        )
    )
    grant_id = str(uuid.uuid4())
    conn.execute(
        insert(grants).values(
            id=grant_id,
            request_id=req.request_id,
            branch_ban=req.branch.value,
            assignment_id=assignment_id,
            year_month=req.pool.year_month,
            invoice_type=req.pool.type_code,
            track=grant.track.code,
            begin=grant.range.begin,
            end=grant.range.end,
            booklets=grant.range.booklets,
            granted_at=now,
            fencing_token=token,
            next_number=grant.range.begin,
            final=False,
        )
    )
    audit.append(
        conn,
        now,
        req.branch.value,
        "grant",
        grant_id=grant_id,
        request_id=req.request_id,
        year_month=req.pool.year_month,
        invoice_type=req.pool.type_code,
        range=str(grant),
        booklets=grant.range.booklets,
        fencing_token=token,
    )
    row = find_grant(conn, req.request_id)
    assert row is not None
    return row


def check_no_overlap(conn: Connection, pool: PoolKey, grant: TrackRange) -> None:
    """The database-side guard: no stored grant of the pool overlaps the new one.

    Stored grants are disjoint, so only the one starting last at or before the new grant's end
    can overlap it: an index lookup, not a scan.
    """
    clash = conn.execute(
        select(grants.c.id, grants.c.branch_ban, grants.c.begin, grants.c.end)
        .where(grants.c.year_month == pool.year_month)
        .where(grants.c.invoice_type == pool.type_code)
        .where(grants.c.track == grant.track.code)
        .where(grants.c.begin <= grant.range.end)
        .order_by(grants.c.begin.desc())
        .limit(1)
    ).first()
    if clash is not None and clash.end >= grant.range.begin:
        raise OverlappingRange(
            f"grant {grant} overlaps grant {clash.id} of branch {clash.branch_ban}"
        )


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
