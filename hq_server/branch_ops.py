"""Use cases of the branch API besides granting (grant_batch): usage reports and burn rates.

Each function runs inside one fenced transaction (`conn`) and takes `now` from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from allocator import (
    Ban,
    BlanksReported,
    NotFound,
    NumberRange,
    Period,
    PermissionDenied,
    RangeSet,
)
from allocator.errors import OverlappingRange
from hq_server.records import (
    skipped_by_grant,
    track_range,
)
from hq_server.schema import (
    branches,
    grants,
    skipped,
    usage_samples,
)
from mof_sync.store import documents

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
    seen = conn.execute(
        update(branches)
        .where(branches.c.ban == branch.value)
        .values(last_report_at=now, last_agent_time=agent_time)
    )
    if seen.rowcount == 0:
        raise NotFound(f"branch {branch} is not registered at this HQ")
    moved = sum(apply_progress(conn, now, branch, item) for item in progress)
    record_sample(conn, now, branch)
    return moved


def apply_progress(conn: Connection, now: datetime, branch: Ban, item: GrantProgress) -> bool:
    row = conn.execute(select(grants).where(grants.c.id == item.grant_id)).first()
    if row is None or row.branch_ban != branch.value:
        raise PermissionDenied(f"grant {item.grant_id!r} is not held by branch {branch}")
    if not row.begin <= item.next_number <= row.end + 1:
        raise OverlappingRange(
            f"next number {item.next_number} is outside grant {track_range(row)}"
        )
    used = (
        RangeSet.single(row.begin, max(row.next_number, item.next_number) - 1)
        if max(row.next_number, item.next_number) > row.begin
        else RangeSet()
    )
    reported = RangeSet.of(item.skipped)
    if reported - used:
        raise OverlappingRange(
            f"skipped numbers {reported - used} are outside the used part of grant "
            f"{track_range(row)}"
        )
    # Agents send their whole, merged skip set each time: store only what is new, as pieces
    # disjoint from the stored ones (a span may have grown since the last report).
    new_skips = list(reported - skipped_by_grant(conn, [row.id]).get(row.id, RangeSet()))
    forward = item.next_number > row.next_number or (item.final and not row.final)
    if (forward or new_skips) and Period.from_year_month(row.year_month).has_ended(now):
        require_blanks_not_reported(conn, row)
    for span in new_skips:
        conn.execute(insert(skipped).values(grant_id=row.id, begin=span.begin, end=span.end))
    if forward:
        conn.execute(
            update(grants)
            .where(grants.c.id == row.id)
            .values(
                next_number=max(row.next_number, item.next_number), final=row.final or item.final
            )
        )
    return forward or bool(new_skips)


def require_blanks_not_reported(conn: Connection, row: Any) -> None:
    """Once a branch's E0402 of a period went to the MOF, its usage there no longer moves."""
    sent = conn.execute(
        select(documents.c.name)
        .where(documents.c.message_type == "E0402")
        .where(documents.c.year_month == row.year_month)
        .where(documents.c.invoice_type == row.invoice_type)
        .where(documents.c.branch_ban == row.branch_ban)
        .limit(1)
    ).first()
    if sent is not None:
        raise BlanksReported(
            f"grant {row.id} of period {row.year_month}: this change came after the period's "
            f"E0402 ({sent.name}) was handed to the MOF, so HQ keeps what was reported; if the "
            f"numbers really changed, an operator sends a correction (einv-admin reports E0402 "
            f"--period {row.year_month} --correction)",
            row.id,
        )


def issued_total(conn: Connection, branch: Ban) -> int:
    """Numbers the branch issued, all periods: below each cursor, less what was skipped.

    Two aggregates, since apply_progress only stores skipped spans below the cursor.
    """
    touched = conn.execute(
        select(func.coalesce(func.sum(grants.c.next_number - grants.c.begin), 0)).where(
            grants.c.branch_ban == branch.value
        )
    ).scalar_one()
    skipped_count = conn.execute(
        select(func.coalesce(func.sum(skipped.c.end - skipped.c.begin + 1), 0))
        .select_from(skipped.join(grants, skipped.c.grant_id == grants.c.id))
        .where(grants.c.branch_ban == branch.value)
    ).scalar_one()
    return int(touched) - int(skipped_count)


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
