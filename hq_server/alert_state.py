"""The HQ's side of the notifier's `HqState` port: the snapshot the alert rules read, loaded
from the HQ tables in a handful of set-wise queries, and a branch's stored addresses.

It runs inside the evaluator's fenced write transaction (the HQ's write lock on SQLite), so it
never queries per branch: at 10,000 branches that would hold the lock for seconds.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from allocator import InvoiceType, Period, PoolKey, RangeStatus
from hq_server.queries import is_closed, list_pools
from hq_server.rates import burn_rates
from hq_server.schema import assignments, branches, grants
from notifier.model import BranchPool, BranchState, PoolState, ReportState, ReportStatus, Snapshot
from notifier.ports import ReportTracker


class ClosedPeriodTracker:
    """Without Turnkey (no --turnkey-root): only whether the period is closed at HQ.

    So an E0402 alert, once due, stays open until the admins acknowledge it (no more reminders)
    or the period stops being the one whose report is due.
    """

    def blank_report_status(self, conn: Connection, pool: PoolKey) -> ReportStatus:
        if is_closed(conn, pool):
            return ReportStatus(ReportState.CLOSED, "closed at HQ; MOF confirmation not tracked")
        return ReportStatus(ReportState.NOT_CLOSED)


class AlertState:
    """notifier.ports.HqState over the HQ tables; `tracker` tells how far E0402s got."""

    def __init__(self, tracker: ReportTracker | None = None) -> None:
        self.tracker = tracker or ClosedPeriodTracker()

    def snapshot(self, conn: Connection, now: datetime) -> Snapshot:
        return load_snapshot(conn, now, self.tracker)

    def branch_emails(self, conn: Connection, ban: str) -> list[str]:
        row = conn.execute(select(branches.c.emails).where(branches.c.ban == ban)).first()
        if row is None:
            raise LookupError(f"branch {ban} is not registered")
        try:
            listed = json.loads(row.emails or "[]")
        except json.JSONDecodeError:
            raise LookupError(f"branch {ban}: stored e-mail list is not JSON") from None
        return [str(a) for a in listed]


def load_snapshot(conn: Connection, now: datetime, tracker: ReportTracker) -> Snapshot:
    period = Period.containing(now)
    previous = period.previous()
    burn = burn_rates(conn)
    holdings = branch_pools(conn, period)
    active = active_types(conn, (previous, period))
    states = tuple(
        branch_state(row, burn.get(row.ban, 0.0), holdings.get(row.ban, {}), active)
        for row in conn.execute(select(branches).order_by(branches.c.ban))
    )
    assigned = assigned_types(conn, (previous, period, period.next()))
    reports = {pool: tracker.blank_report_status(conn, pool) for pool in ended_pools(conn, now)}
    return Snapshot(now, period, pool_states(conn, period, states), states, assigned, reports)


def pool_states(
    conn: Connection, period: Period, states: tuple[BranchState, ...]
) -> tuple[PoolState, ...]:
    result = []
    for view in list_pools(conn, period.to_year_month()):
        code = view.key.type_code
        burning = sum(b.burn_per_hour for b in states if b.enabled and code in b.active_types)
        enabled = [a for a in view.assignments if a.assignment.status is RangeStatus.ENABLED]
        held_back = sum(a.free for a in view.assignments) - view.free
        tracks = sorted({a.assignment.track_range.track.code for a in enabled if a.free})
        result.append(
            PoolState(
                view.key.year_month, code, view.free, held_back, view.closed, burning, tuple(tracks)
            )
        )
    return tuple(result)


def branch_state(
    row: Any, burn: float, pools: dict[str, BranchPool], active: dict[str, set[str]]
) -> BranchState:
    grant_times = [p.last_grant_at for p in pools.values() if p.last_grant_at is not None]
    return BranchState(
        ban=row.ban,
        name=row.name,
        enabled=row.enabled,
        booklets_per_period=row.booklets_per_period,
        low_water_count=row.low_water_count,
        burn_per_hour=burn,
        last_report_at=row.last_report_at,
        last_agent_time=row.last_agent_time,
        last_grant_at=max(grant_times, default=None),
        pools=pools,
        active_types=frozenset(active.get(row.ban, set())),
    )


def branch_pools(
    conn: Connection, period: Period
) -> dict[str, dict[str, tuple[BranchPool, datetime]]]:
    """Per branch and invoice type: numbers still held, booklets granted, last grant time.

    Below a grant's next_number every number was issued or skipped, so what it still holds is
    end - next_number + 1 (nothing, once the agent marked it final).
    """
    remaining = case((grants.c.final, 0), else_=grants.c.end - grants.c.next_number + 1)
    query = (
        select(
            grants.c.branch_ban,
            grants.c.invoice_type,
            func.sum(remaining).label("held"),
            func.sum(grants.c.booklets).label("booklets"),
            func.min(case((remaining > 0, grants.c.track))).label("track"),
            func.max(grants.c.granted_at).label("last_grant"),
        )
        .where(grants.c.year_month == period.to_year_month())
        .group_by(grants.c.branch_ban, grants.c.invoice_type)
    )
    result: dict[str, dict[str, BranchPool]] = {}
    for r in conn.execute(query):
        pool = BranchPool(
            r.invoice_type, int(r.held or 0), int(r.booklets or 0), r.track, r.last_grant
        )
        result.setdefault(r.branch_ban, {})[r.invoice_type] = pool
    return result


def active_types(conn: Connection, periods: tuple[Period, ...]) -> dict[str, set[str]]:
    """The invoice types each branch had grants of in these periods: those it needs refilled."""
    query = (
        select(grants.c.branch_ban, grants.c.invoice_type)
        .where(grants.c.year_month.in_([p.to_year_month() for p in periods]))
        .distinct()
    )
    result: dict[str, set[str]] = {}
    for r in conn.execute(query):
        result.setdefault(r.branch_ban, set()).add(r.invoice_type)
    return result


def ended_pools(conn: Connection, now: datetime) -> list[PoolKey]:
    """Every pool whose period has ended: each owes an E0402, however long ago it ended."""
    query = select(assignments.c.year_month, assignments.c.invoice_type).distinct()
    pools = (
        PoolKey(Period.from_year_month(r.year_month), InvoiceType.parse(r.invoice_type))
        for r in conn.execute(query)
    )
    return sorted(pool for pool in pools if pool.period.has_ended(now))


def assigned_types(conn: Connection, periods: tuple[Period, ...]) -> dict[str, frozenset[str]]:
    query = (
        select(assignments.c.year_month, assignments.c.invoice_type)
        .where(assignments.c.year_month.in_([p.to_year_month() for p in periods]))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for r in conn.execute(query):
        found.setdefault(r.year_month, set()).add(r.invoice_type)
    return {ym: frozenset(types) for ym, types in found.items()}
