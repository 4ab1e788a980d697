"""Loading domain values from rows: the one place rows turn into allocator types and into
the HQ's own records (`Branch`, `Assignment`), which the use cases return instead of rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, select

from allocator import (
    AssignedRange,
    Ban,
    BranchUsage,
    InvoiceType,
    NotFound,
    NumberRange,
    Period,
    PoolKey,
    Quota,
    RangeSet,
    RangeStatus,
    RefillPolicy,
    Track,
    TrackRange,
    by_track,
    free_runs,
)
from hq_server.schema import assignments, branches, grants, skipped
from runtime.driver_sql import DriverStatement
from runtime.in_lists import in_batches


@dataclass(frozen=True, slots=True)
class Branch:
    """A branch as HQ keeps it."""

    ban: Ban
    name: str
    enabled: bool
    quota: Quota
    refill: RefillPolicy
    emails: tuple[str, ...]
    last_report_at: datetime | None
    config_version: int


@dataclass(frozen=True, slots=True)
class Assignment:
    """A range the MOF assigned (E0501) or an admin added, and whether it may be granted."""

    id: int
    pool: PoolKey
    track_range: TrackRange
    status: RangeStatus
    source: str


@dataclass(frozen=True, slots=True)
class GrantEntry:
    """A grant as HQ keeps it, and whether its agent reported it final."""

    id: str
    branch_ban: Ban
    pool: PoolKey
    track_range: TrackRange
    booklets: int
    granted_at: datetime
    final: bool


def grant_entry_of(row: Row[Any]) -> GrantEntry:
    pool = pool_of(row)
    return GrantEntry(
        row.id, Ban(row.branch_ban), pool, track_range(row), row.booklets, row.granted_at, row.final
    )


def branch_of(row: Row[Any]) -> Branch:
    return Branch(
        Ban(row.ban),
        row.name,
        row.enabled,
        quota_of(row),
        refill_of(row),
        tuple(json.loads(row.emails or "[]")),
        row.last_report_at,
        row.config_version,
    )


def load_branch(conn: Connection, ban: Ban) -> Branch:
    return branch_of(branch_row(conn, ban))


def assignment_of(row: Row[Any]) -> Assignment:
    return Assignment(row.id, pool_of(row), track_range(row), RangeStatus(row.status), row.source)


def pool_of(row: Row[Any]) -> PoolKey:
    """The pool of a row that names one (year_month, invoice_type): a grant, an assignment."""
    return PoolKey(Period.from_year_month(row.year_month), InvoiceType.parse(row.invoice_type))


def track_range(row: Row[Any]) -> TrackRange:
    return TrackRange(Track(row.track), NumberRange(row.begin, row.end))


def pool_assignments(conn: Connection, pool: PoolKey) -> list[Assignment]:
    """The pool's assigned ranges, in track and number order."""
    return [assignment_of(r) for r in assignment_rows(conn, pool)]


def assigned_ranges(conn: Connection, pool: PoolKey) -> list[tuple[int, AssignedRange]]:
    return [(a.id, AssignedRange(a.track_range, a.status)) for a in pool_assignments(conn, pool)]


def assignment_rows(conn: Connection, pool: PoolKey) -> list[Any]:
    """The pool's assigned ranges, whatever their status, in (track, begin) order (every grant
    reads them: run on the driver, runtime.driver_sql)."""
    return POOL_ASSIGNMENTS.rows(conn, {"year_month": pool.year_month, "type": pool.type_code})


POOL_ASSIGNMENTS = DriverStatement(
    select(assignments)
    .where(assignments.c.year_month == bindparam("year_month"))
    .where(assignments.c.invoice_type == bindparam("type"))
    .order_by(assignments.c.track, assignments.c.begin)
)


def pool_grants(conn: Connection, pool: PoolKey) -> list[Row[Any]]:
    return rows_of_pool(conn, grants, pool, grants.c.granted_at, grants.c.id)


def rows_of_pool(conn: Connection, table: Table, pool: PoolKey, *order: Any) -> list[Row[Any]]:
    query = (
        select(table)
        .where(table.c.year_month == pool.year_month)
        .where(table.c.invoice_type == pool.type_code)
        .order_by(*order)
    )
    return list(conn.execute(query).all())


def branch_row(conn: Connection, ban: Ban) -> Row[Any]:
    row = conn.execute(select(branches).where(branches.c.ban == ban.value)).first()
    if row is None:
        raise NotFound(f"branch {ban} is not registered at this HQ")
    return row


def quota_of(row: Row[Any]) -> Quota:
    return Quota(row.booklets_per_request, row.booklets_per_period)


def refill_of(row: Row[Any]) -> RefillPolicy:
    return RefillPolicy(
        row.low_water_count, row.low_water_minutes, row.min_booklets, row.max_booklets
    )


def skipped_by_grant(conn: Connection, grant_ids: list[str]) -> dict[str, RangeSet]:
    found: dict[str, list[NumberRange]] = {}
    for chunk in in_batches(grant_ids):
        for row in conn.execute(select(skipped).where(skipped.c.grant_id.in_(chunk))):
            found.setdefault(row.grant_id, []).append(NumberRange(row.begin, row.end))
    return {gid: RangeSet.of(ranges) for gid, ranges in found.items()}


def grant_usage(row: Row[Any], skips: RangeSet) -> tuple[RangeSet, RangeSet]:
    """(issued, skipped) of one grant: below next_number, everything not skipped was issued."""
    if row.next_number <= row.begin:
        return RangeSet(), RangeSet()
    touched = RangeSet.single(row.begin, row.next_number - 1)
    skips = skips & touched
    return touched - skips, skips


def usage_by_branch(conn: Connection, rows: list[Row[Any]]) -> dict[Ban, BranchUsage]:
    """The allocator's view of every branch's grants, issues and skips in a pool."""
    skips = skipped_by_grant(conn, [r.id for r in rows])
    parts: dict[str, tuple[list[TrackRange], list[TrackRange], list[TrackRange]]] = {}
    for row in rows:
        granted, issued, skip = parts.setdefault(row.branch_ban, ([], [], []))
        track = Track(row.track)
        granted.append(track_range(row))
        used, skipped_here = grant_usage(row, skips.get(row.id, RangeSet()))
        issued.extend(TrackRange(track, r) for r in used)
        skip.extend(TrackRange(track, r) for r in skipped_here)
    return {
        Ban(ban): BranchUsage(by_track(g), by_track(i), by_track(s))
        for ban, (g, i, s) in parts.items()
    }


def pool_free_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[TrackRange]:
    """allocator.free_runs over a pool's `assignment_rows`, without reading every grant at a
    10,000-branch burst.

    Each assigned range keeps the count and the highest number of its grants. When they form
    one solid prefix (what the policy produces: every grant takes the start of a free run), the
    free part is the suffix after it; otherwise the range's grants are read and the allocator
    decides.
    """
    runs: list[TrackRange] = []
    for row in (r for r in rows if r.status == RangeStatus.ENABLED.value):
        whole = track_range(row)
        high = row.granted_high
        if high is None:
            runs.append(whole)
        elif row.granted_numbers == high - row.begin + 1:
            if high < row.end:
                runs.append(TrackRange(whole.track, NumberRange(high + 1, row.end)))
        else:
            taken = conn.execute(
                select(grants.c.track, grants.c.begin, grants.c.end).where(
                    grants.c.assignment_id == row.id
                )
            ).all()
            item = AssignedRange(whole, RangeStatus.ENABLED)
            runs.extend(free_runs([item], (track_range(r) for r in taken)))
    return runs
