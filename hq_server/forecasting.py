"""The forecast use case: load a period's pools and branches, try the what-if changes, and ask
the pure forecast (allocator.forecast) who runs out when, at the current and seasonal burn.

Read-only: a what-if changes a copy of the quotas in memory; applying one is SetQuota's.
Set-wise loads (hq_server.alert_state's, the same the alert rules read) keep it fast at 10,000
branches.

The seasonal scenario: the pool burns at its average of the last four weeks, shaped by its
weekly profile (hour of the week, from the sampled history); each branch keeps its share of
the pool's current burn (an even share of the branches drawing from it when nobody burns now).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from allocator import BOOKLET_SIZE, Ban, InvoiceType, NotFound, Period, PoolKey, RangeStatus
from allocator.forecast import (
    FLAT,
    Forecast,
    Profile,
    RunOut,
    Stock,
    Verdict,
    against_lead_time,
    average_rate,
    forecast,
    order_cutoff,
    weekly_profile,
    with_rates,
)
from hq_server.alert_state import active_types, branch_pools
from hq_server.history import pool_burn_series
from hq_server.queries import is_closed
from hq_server.rates import burn_rates
from hq_server.schema import assignments, branches

HISTORY_SPAN = timedelta(weeks=4)


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Quotas (booklets per period) to try instead of the stored ones."""

    quotas: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        quotas: Sequence[tuple[str, int]],
        moves: Sequence[tuple[str, str, int]],
        stored: Mapping[str, int],
    ) -> WhatIf:
        """Quota changes, then moves of N booklets of quota from one branch to another."""
        tried = dict(stored)
        changed: dict[str, int] = {}
        for ban, per_period in quotas:
            _known(ban, stored)
            tried[ban] = changed[ban] = per_period
        for giver, taker, booklets in moves:
            _known(giver, stored)
            _known(taker, stored)
            tried[giver] = changed[giver] = max(0, tried[giver] - booklets)
            tried[taker] = changed[taker] = tried[taker] + booklets
        return cls(changed)


def _known(ban: str, stored: Mapping[str, int]) -> None:
    if Ban.parse(ban).value not in stored:
        raise NotFound(f"branch {ban} is not registered at this HQ")


@dataclass(frozen=True, slots=True)
class BranchOutlook:
    ban: str
    type_code: str
    held: int
    quota_left: int
    per_period: int
    rate: float
    seasonal_rate: float
    current: RunOut
    seasonal: RunOut
    changed: bool
    booklets: int = 0


@dataclass(frozen=True, slots=True)
class PoolOutlook:
    type_code: str
    free: int
    rate: float
    current: Verdict
    seasonal: Verdict
    current_reason: str
    seasonal_known: bool
    cutoff: datetime


@dataclass(frozen=True, slots=True)
class PeriodOutlook:
    period: Period
    now: datetime
    pools: list[PoolOutlook]
    branches: list[BranchOutlook]
    verdicts: dict[datetime | None, Verdict] = field(default_factory=dict, compare=False)

    def verdict(self, run_out: RunOut) -> Verdict:
        """A branch's run-out against the MOF's lead time: only an empty pool needs the MOF
        (its own stock or its quota running out is HQ's to fix, at once)."""
        if run_out.reason == "pool":  # many branches share the pool's instant: once each
            known = self.verdicts.get(run_out.at)
            if known is None:
                known = self.verdicts[run_out.at] = against_lead_time(
                    run_out.at, self.period, self.now
                )
            return known
        lasts = run_out.at is None or run_out.at >= self.period.end()
        return Verdict(run_out.at, lasts, None, False)


def quotas(conn: Connection) -> dict[str, tuple[int, bool]]:
    """ban -> (booklets per period, enabled)."""
    rows = conn.execute(
        select(branches.c.ban, branches.c.booklets_per_period, branches.c.enabled)
    ).all()
    return {r.ban: (r.booklets_per_period, r.enabled) for r in rows}


@dataclass(frozen=True, slots=True)
class PoolFree:
    type_code: str
    free: int
    closed: bool


def pools_free(conn: Connection, period: Period) -> list[PoolFree]:
    """Free numbers of each pool's enabled ranges, from the count kept with every grant
    (assignments.granted_numbers): no grant is read."""
    year_month = period.to_year_month()
    rows = conn.execute(
        select(
            assignments.c.invoice_type,
            assignments.c.status,
            assignments.c.begin,
            assignments.c.end,
            assignments.c.granted_numbers,
        ).where(assignments.c.year_month == year_month)
    ).all()
    free: dict[str, int] = {}
    for r in rows:
        left = r.end - r.begin + 1 - r.granted_numbers
        free[r.invoice_type] = free.get(r.invoice_type, 0) + (
            left if r.status == RangeStatus.ENABLED.value else 0
        )
    return [
        PoolFree(code, left, is_closed(conn, PoolKey(period, InvoiceType.parse(code))))
        for code, left in sorted(free.items())
    ]


def outlook(
    conn: Connection,
    now: datetime,
    period: Period,
    what_if: WhatIf | None = None,
    seasonal_too: bool = True,
) -> PeriodOutlook:
    """Who runs out when in `period`, from `now`, with the what-if's quotas if given (and
    without the seasonal scenario when not `seasonal_too`: its run-outs are the current's)."""
    tried = what_if or WhatIf()
    stored = quotas(conn)
    rates = burn_rates(conn)
    holdings = branch_pools(conn, period)
    active = active_types(conn, (period.previous(), period))
    pools, outlooks = [], []
    for view in pools_free(conn, period):
        code = view.type_code
        stocks, granted = [], {}
        for ban, (per_period, enabled) in sorted(stored.items()):
            mine = holdings.get(ban, {}).get(code)
            if mine is None and code not in active.get(ban, set()) and ban not in tried.quotas:
                continue  # never drew from this pool (and no what-if for it): not part of it
            quota = tried.quotas.get(ban, per_period)
            booklets = granted[ban] = mine.booklets if mine else 0
            left = max(0, quota - booklets) * BOOKLET_SIZE if enabled and not view.closed else 0
            stocks.append(Stock(ban, mine.held if mine else 0, left, rates.get(ban, 0.0)))
        now_run = forecast(now, view.free, stocks)
        profile, seasonal_rates, season_run = FLAT, {s.key: s.rate for s in stocks}, now_run
        if seasonal_too:
            series = pool_burn_series(conn, code, now - HISTORY_SPAN)
            profile = weekly_profile(series)
            seasonal_rates = seasonal(stocks, average_rate(series, now))
            season_run = forecast(now, view.free, with_rates(stocks, seasonal_rates), profile)
        pools.append(
            pool_outlook(code, view.free, stocks, now_run, season_run, period, now, profile)
        )
        for s in stocks:
            outlooks.append(
                BranchOutlook(
                    s.key,
                    code,
                    s.held,
                    s.quota_left,
                    tried.quotas.get(s.key, stored[s.key][0]),
                    s.rate,
                    seasonal_rates.get(s.key, s.rate),
                    now_run.branches[s.key],
                    season_run.branches[s.key],
                    s.key in tried.quotas,
                    granted[s.key],
                )
            )
    return PeriodOutlook(period, now, pools, outlooks)


def seasonal(stocks: Sequence[Stock], pool_average: float | None) -> dict[str, float]:
    """Each branch's base rate in the seasonal scenario: its share of the pool's average."""
    if pool_average is None:
        return {s.key: s.rate for s in stocks}
    total = sum(s.rate for s in stocks)
    if total > 0:
        return {s.key: pool_average * s.rate / total for s in stocks}
    drawing = {s.key for s in stocks if s.held or s.quota_left}
    share = pool_average / len(drawing) if drawing else 0.0
    return {s.key: share if s.key in drawing else 0.0 for s in stocks}


def pool_outlook(
    code: str,
    free: int,
    stocks: Sequence[Stock],
    now_run: Forecast,
    season_run: Forecast,
    period: Period,
    now: datetime,
    profile: Profile,
) -> PoolOutlook:
    return PoolOutlook(
        code,
        free,
        sum(s.rate for s in stocks),
        against_lead_time(now_run.pool, period, now),
        against_lead_time(season_run.pool, period, now),
        "pool" if now_run.pool is not None else "never",
        profile is not FLAT,
        order_cutoff(period),
    )
