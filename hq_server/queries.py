"""Read-only use cases: pools, usage, reconciliation, audit, a branch's configuration."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select

from allocator import (
    Ban,
    BranchUsage,
    InvoiceType,
    Period,
    PoolKey,
    RangeSet,
    RangeStatus,
    Track,
    TrackRange,
    account,
    by_track,
)
from hq_server.rates import burn_rates
from hq_server.records import (
    Assignment,
    Branch,
    GrantEntry,
    assigned_ranges,
    branch_of,
    grant_entry_of,
    grant_usage,
    load_branch,
    pool_assignments,
    pool_grants,
    skipped_by_grant,
    track_range,
    usage_by_branch,
)
from hq_server.schema import assignments, audit, branches, closed_periods, grants
from runtime.driver_sql import DriverStatement


def pool_keys(conn: Connection, year_month: str | None) -> list[PoolKey]:
    query = select(assignments.c.year_month, assignments.c.invoice_type).distinct()
    if year_month:
        query = query.where(assignments.c.year_month == year_month)
    return sorted(
        (
            PoolKey(Period.from_year_month(r.year_month), InvoiceType.parse(r.invoice_type))
            for r in conn.execute(query)
        ),
        key=lambda k: (k.period, k.type_code),
    )


@dataclass(frozen=True, slots=True)
class AssignmentView:
    assignment: Assignment
    granted: int
    free: int


@dataclass(frozen=True, slots=True)
class PoolView:
    key: PoolKey
    assignments: list[AssignmentView]
    closed: bool

    @property
    def assigned(self) -> int:
        return sum(a.granted + a.free for a in self.assignments)

    @property
    def granted(self) -> int:
        return sum(a.granted for a in self.assignments)

    @property
    def free(self) -> int:
        return sum(a.free for a in self.assignments if a.assignment.status is RangeStatus.ENABLED)


def list_pools(conn: Connection, year_month: str | None) -> list[PoolView]:
    views = []
    for key in pool_keys(conn, year_month):
        granted = by_track(track_range(r) for r in pool_grants(conn, key))
        items = []
        for item in pool_assignments(conn, key):
            whole = RangeSet((item.track_range.range,))
            used = (whole & granted.get(item.track_range.track, RangeSet())).count
            items.append(AssignmentView(item, used, whole.count - used))
        views.append(PoolView(key, items, is_closed(conn, key)))
    return views


def is_closed(conn: Connection, key: PoolKey) -> bool:
    return (
        POOL_CLOSED.first(conn, {"year_month": key.year_month, "type": key.type_code}) is not None
    )


POOL_CLOSED = DriverStatement(  # every grant asks: run on the driver (runtime.driver_sql)
    select(closed_periods.c.closed_at)
    .where(closed_periods.c.year_month == bindparam("year_month"))
    .where(closed_periods.c.invoice_type == bindparam("type"))
)


@dataclass(frozen=True, slots=True)
class UsageView:
    ban: str
    granted: int = 0
    issued: int = 0
    skipped: int = 0
    booklets: int = 0
    final: bool = True
    burn_per_hour: float = 0.0
    last_report: Any = None

    @property
    def held(self) -> int:
        return self.granted - self.issued - self.skipped


def usage(conn: Connection, year_month: str, ban: str | None) -> list[UsageView]:
    query = select(grants).where(grants.c.year_month == year_month)
    if ban:
        query = query.where(grants.c.branch_ban == ban)
    rows = conn.execute(query).all()
    skips = skipped_by_grant(conn, [r.id for r in rows])
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        t = totals.setdefault(
            row.branch_ban, {"granted": 0, "issued": 0, "skipped": 0, "booklets": 0, "final": True}
        )
        issued, skipped_here = grant_usage(row, skips.get(row.id, RangeSet()))
        t["granted"] += row.end - row.begin + 1
        t["issued"] += issued.count
        t["skipped"] += skipped_here.count
        t["booklets"] += row.booklets
        t["final"] = t["final"] and row.final
    branch_rows = conn.execute(select(branches).order_by(branches.c.ban)).all()
    rates = burn_rates(conn, ban)  # every branch: one query, not 10,000
    views = []
    for b in branch_rows:
        if ban and b.ban != ban:
            continue
        views.append(
            UsageView(
                b.ban,
                **totals.get(b.ban, {}),
                burn_per_hour=rates.get(b.ban, 0.0),
                last_report=b.last_report_at,
            )
        )
    return views


@dataclass(frozen=True, slots=True)
class TrackAccount:
    key: PoolKey
    track: Track
    assigned: int
    issued: int
    blank: int
    held: int
    violations: list[str] = field(default_factory=list)


def reconcile(conn: Connection, year_month: str | None) -> list[TrackAccount]:
    """assigned = issued + blank + held, disjointly, per track; grants inside and apart."""
    result = []
    for key in pool_keys(conn, year_month):
        assigned = by_track(a.track_range for _, a in assigned_ranges(conn, key))
        rows = pool_grants(conn, key)
        parts = account(assigned, usage_by_branch(conn, rows), is_closed(conn, key))
        overlaps = grant_overlaps([track_range(r) for r in rows])
        for track, numbers in sorted(assigned.items()):
            issued, blank, held = (
                p.get(track, RangeSet()) for p in (parts.issued, parts.blank, parts.held)
            )
            problems = [f"grants overlap: {o}" for o in overlaps if o.startswith(track.code)]
            if (issued | blank | held) != numbers:
                problems.append(f"issued + blank + held != assigned for track {track}")
            if issued.count + blank.count + held.count != numbers.count:
                problems.append(f"parts of track {track} are not disjoint")
            outside = by_track(track_range(r) for r in rows).get(track, RangeSet()) - numbers
            if outside:
                problems.append(f"grants outside the assigned ranges: {outside}")
            result.append(
                TrackAccount(
                    key, track, numbers.count, issued.count, blank.count, held.count, problems
                )
            )
    return result


def grant_overlaps(items: list[TrackRange]) -> list[str]:
    found = []
    ordered = sorted(items)
    for a, b in itertools.pairwise(ordered):
        if a.track == b.track and a.range.overlaps(b.range):
            found.append(f"{a} and {b}")
    return found


def audit_entries(conn: Connection, after_seq: int, limit: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(audit).where(audit.c.seq > after_seq).order_by(audit.c.seq).limit(limit)
        ).all()
    )


def last_audit_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(audit.c.seq), 0))).scalar_one())


def previous_audit(conn: Connection, seq: int) -> Row[Any] | None:
    return conn.execute(select(audit).where(audit.c.seq == seq)).first()


@dataclass(frozen=True, slots=True)
class ConfigView:
    branch: Branch
    disabled_ranges: list[TrackRange]


def branch_config(conn: Connection, ban: Ban) -> ConfigView:
    """What an agent needs to know: quota, refill, enabled, ranges it must stop issuing from."""
    branch = load_branch(conn, ban)
    disabled = conn.execute(
        select(assignments).where(assignments.c.status == RangeStatus.DISABLED.value)
    ).all()
    return ConfigView(branch, [track_range(r) for r in disabled])


def list_branches(conn: Connection, after: str = "", limit: int | None = None) -> list[Branch]:
    """Branches in BAN order, after `after`, at most `limit` of them (a page)."""
    query = select(branches).where(branches.c.ban > after).order_by(branches.c.ban)
    if limit is not None:
        query = query.limit(limit)
    return [branch_of(r) for r in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class BranchesGrants:
    """Some branches' grants in one pool, and the allocator's view of what they did with them."""

    entries: list[GrantEntry]
    usage: dict[Ban, BranchUsage]


def branches_grants(conn: Connection, pool: PoolKey, bans: Sequence[str]) -> BranchesGrants:
    """The grants of `bans` (a page of branches) in `pool`, by (BAN, track, begin)."""
    rows = conn.execute(
        select(grants)
        .where(grants.c.year_month == pool.year_month)
        .where(grants.c.invoice_type == pool.type_code)
        .where(grants.c.branch_ban.in_(list(bans)))
        .order_by(grants.c.branch_ban, grants.c.track, grants.c.begin)
    ).all()
    return BranchesGrants([grant_entry_of(r) for r in rows], usage_by_branch(conn, list(rows)))
