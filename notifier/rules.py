"""The alert rules: pure functions from a snapshot of HQ state to the conditions that hold now.

Each rule returns the alerts it finds; an alert that stops being returned is resolved by the
outbox. Keys name what the condition is about (pool, branch, period), never a number that
changes while it holds, so reminders and the resolution mail belong to the same condition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from allocator.forecast import Stock, against_lead_time, forecast, hours_until
from notifier.config import Thresholds
from notifier.model import (
    Alert,
    BranchPool,
    BranchState,
    Fact,
    Kind,
    PoolState,
    ReportState,
    Snapshot,
)


def evaluate(snap: Snapshot, limits: Thresholds) -> list[Alert]:
    return [
        *pool_low(snap, limits),
        *branch_stuck(snap),
        *branch_silent(snap, limits),
        *clock_skew(snap, limits),
        *period_not_imported(snap, limits),
        *blank_report(snap, limits),
    ]


def pool_low(snap: Snapshot, limits: Thresholds) -> list[Alert]:
    """The HQ pool runs out within N days at the branches' burn, before the period ends."""
    found = []
    for pool in snap.pools:
        if pool.closed:
            continue
        # The forecast every page shares (allocator.forecast): the branches together draw
        # the pool's free numbers at their summed burn.
        drawing = Stock("branches", 0, pool.free_enabled, pool.burn_per_hour)
        runout = forecast(snap.now, pool.free_enabled, [drawing]).pool
        if runout is None:
            continue  # nobody burns: it lasts
        verdict = against_lead_time(runout, pool.period, snap.now)
        hours = hours_until(runout, snap.now)
        if verdict.lasts_period or hours / 24 >= limits.pool_days:
            continue  # enough for the rest of the period, or for longer than the threshold
        facts: dict[str, Fact] = {
            "year_month": pool.year_month,
            "invoice_type": pool.invoice_type,
            "free": pool.free_enabled,
            "free_held_back": pool.free_held_back,
            "burn_per_hour": round(pool.burn_per_hour, 1),
            "days_left": round(hours / 24, 2),
            "runout_at": runout.isoformat(),
            "period_end": pool.period.end().isoformat(),
            "threshold_days": limits.pool_days,
            "tracks": " ".join(pool.tracks),
            # Extra booklets take the MOF up to 5 working days, asked before the 20th.
            "ask_mof_by": verdict.ask_by.isoformat() if verdict.ask_by else None,
            "mof_late": verdict.late,
        }
        found.append(Alert(f"pool_low:{pool.year_month}:{pool.invoice_type}", Kind.POOL_LOW, facts))
    return found


def branch_stuck(snap: Snapshot) -> list[Alert]:
    """A branch below its low-water count that HQ cannot refill, and why."""
    pools = {p.invoice_type: p for p in snap.pools}
    found = []
    for branch in snap.branches:
        if not branch.enabled:
            continue  # an admin stopped it on purpose
        for invoice_type in sorted(branch.active_types):
            mine = branch.pools.get(invoice_type, BranchPool(invoice_type, 0, 0))
            if mine.held >= branch.low_water_count:
                continue
            reason = refill_blocker(branch, mine, pools.get(invoice_type))
            if reason is None:
                continue
            found.append(_stuck_alert(snap, branch, mine, pools.get(invoice_type), reason))
    return found


def refill_blocker(branch: BranchState, mine: BranchPool, pool: PoolState | None) -> str | None:
    """Why a refill request of this branch would be refused now, if it would."""
    if pool is None:
        return "not_imported"
    if pool.closed:
        return None
    if mine.booklets >= branch.booklets_per_period:
        return "quota_reached"
    if pool.free_enabled == 0:
        return "ranges_paused" if pool.free_held_back else "pool_empty"
    return None


def _stuck_alert(
    snap: Snapshot, branch: BranchState, mine: BranchPool, pool: PoolState | None, reason: str
) -> Alert:
    year_month = snap.period.to_year_month()
    facts: dict[str, Fact] = {
        "ban": branch.ban,
        "name": branch.name,
        "year_month": year_month,
        "invoice_type": mine.invoice_type,
        "reason": reason,
        "held": mine.held,
        "low_water_count": branch.low_water_count,
        "booklets": mine.booklets,
        "booklets_per_period": branch.booklets_per_period,
        "burn_per_hour": round(branch.burn_per_hour, 1),
        "runout_at": _runout(snap.now, mine.held, branch.burn_per_hour),
        "track": mine.track,
        "pool_free": pool.free_enabled if pool else 0,
    }
    key = f"branch_stuck:{branch.ban}:{year_month}:{mine.invoice_type}"
    return Alert(key, Kind.BRANCH_STUCK, facts, branch.ban)


def branch_silent(snap: Snapshot, limits: Thresholds) -> list[Alert]:
    """A branch holding numbers that has not reported (nor asked for numbers) for T minutes."""
    found = []
    limit = timedelta(minutes=limits.silent_minutes)
    for branch in snap.branches:
        if not branch.enabled or branch.held == 0:
            continue
        heard = branch.last_heard
        if heard is not None and snap.now - heard <= limit:
            continue
        minutes = None if heard is None else round((snap.now - heard).total_seconds() / 60)
        facts: dict[str, Fact] = {
            "ban": branch.ban,
            "name": branch.name,
            "last_heard": heard.isoformat() if heard else None,
            "silent_minutes": minutes,
            "held": branch.held,
            "threshold_minutes": limits.silent_minutes,
        }
        found.append(Alert(f"branch_silent:{branch.ban}", Kind.BRANCH_SILENT, facts, branch.ban))
    return found


def clock_skew(snap: Snapshot, limits: Thresholds) -> list[Alert]:
    """The agent's clock, as sent with its last report, against HQ's clock at that report."""
    found = []
    for branch in snap.branches:
        if not branch.enabled or branch.last_agent_time is None or branch.last_report_at is None:
            continue
        skew = (branch.last_agent_time - branch.last_report_at).total_seconds()
        if abs(skew) <= limits.clock_skew_seconds:
            continue
        facts: dict[str, Fact] = {
            "ban": branch.ban,
            "name": branch.name,
            "agent_time": branch.last_agent_time.isoformat(),
            "report_at": branch.last_report_at.isoformat(),
            "skew_seconds": round(skew, 1),
            "threshold_seconds": limits.clock_skew_seconds,
        }
        found.append(Alert(f"clock_skew:{branch.ban}", Kind.CLOCK_SKEW, facts, branch.ban))
    return found


def period_not_imported(snap: Snapshot, limits: Thresholds) -> list[Alert]:
    """Invoice types in use with no MOF ranges for the next period D days before it starts,
    or for the current period at all."""
    current, following = snap.period, snap.period.next()
    in_use = snap.types_of(current) or snap.types_of(current.previous())
    missing = [(current, t) for t in sorted(in_use - snap.types_of(current))]
    if snap.now >= following.start() - timedelta(days=limits.import_days):
        missing += [(following, t) for t in sorted(in_use - snap.types_of(following))]
    found = []
    for period, invoice_type in missing:
        year_month = period.to_year_month()
        facts: dict[str, Fact] = {
            "year_month": year_month,
            "invoice_type": invoice_type,
            "starts_at": period.start().isoformat(),
            "days_left": round((period.start() - snap.now).total_seconds() / 86400, 1),
        }
        key = f"period_not_imported:{year_month}:{invoice_type}"
        found.append(Alert(key, Kind.PERIOD_NOT_IMPORTED, facts))
    return found


def blank_report(snap: Snapshot, limits: Thresholds) -> list[Alert]:
    """Every ended period's E0402, however old: failed at Turnkey (at once), or unconfirmed K
    days before its deadline (and for as long as it stays unconfirmed after it)."""
    found = []
    for pool, status in sorted(snap.reports.items()):
        deadline = pool.period.blank_report_deadline()
        due = snap.now >= deadline - timedelta(days=limits.e0402_days)
        if status.state is ReportState.FAILED:
            kind = Kind.E0402_FAILED
        elif status.state is not ReportState.CONFIRMED and due:
            kind = Kind.E0402_DUE
        else:
            continue
        facts: dict[str, Fact] = {
            "year_month": pool.year_month,
            "invoice_type": pool.type_code,
            "deadline": deadline.isoformat(),
            "days_left": round(pool.period.blank_report_days_left(snap.now), 1),
            "state": status.state.value,
            "detail": status.detail,
        }
        found.append(Alert(f"{kind}:{pool.year_month}:{pool.type_code}", kind, facts))
    return found


def _runout(now: datetime, held: int, burn_per_hour: float) -> str | None:
    if held == 0:
        return now.isoformat()
    if burn_per_hour <= 0:
        return None
    return (now + timedelta(hours=held / burn_per_hour)).isoformat()
