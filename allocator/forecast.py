"""Run-out forecasts: when a pool and each of its branches run dry, and when to ask the MOF.

Burn series in (cumulative numbers issued at instants), run-out instants out; `now` is passed
in, nothing reads a clock. The model, in three lines:

- A branch burns at a rate (numbers per hour). It first uses the numbers it holds, then draws
  from the HQ pool's free numbers, up to what its quota still allows (refills come in whole
  booklets ahead of need; the model spreads them out, so a run-out is at most a refill early).
- The pool runs dry when the branches drawing from it have taken all its free numbers; a branch
  drawing then runs dry with it, one still living on its own stock runs dry when that is gone.
- Seasonal burn: every rate follows one weekly shape (hour of the week, Taipei), so the
  simulation runs in "effective hours" at constant rates and maps back to the clock through
  the shape's running total. A flat shape is the current burn, exactly.

The MOF side: extra booklets take up to `MOF_LEAD_WORKING_DAYS` working days, and a period's
must be asked for before the 20th of its even month (`order_cutoff`). `against_lead_time` says,
for a run-out, whether the period is covered, and if not by when the MOF must be asked.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from allocator.period import Period, _taipei

Sample = tuple[datetime, int]  # (instant, numbers issued so far)
HOURS_PER_WEEK = 7 * 24
MOF_LEAD_WORKING_DAYS = 5
ORDER_CUTOFF_DAY = 20
MAX_HOURS = 10 * 366 * 24.0  # beyond ten years a run-out is "not in sight": None
RECENT = timedelta(hours=2)
EPSILON = 1e-6  # numbers: the pool empties as the last quota ends, whatever the rounding


def burn_rate(series: Sequence[Sample], now: datetime, window: timedelta = RECENT) -> float:
    """Numbers per hour between the first and last sample of `window` before `now` (0 if
    fewer than two samples, or no time between them)."""
    recent = sorted(s for s in series if now - window <= s[0] <= now)
    if len(recent) < 2:
        return 0.0
    return rate_between(recent[0], recent[-1])


def rate_between(first: Sample, last: Sample) -> float:
    """Numbers issued per hour from one sample to a later one (0 with no time between them;
    never negative: a total that went back is a restarted agent, not negative use)."""
    (t0, n0), (t1, n1) = first, last
    hours = (t1 - t0).total_seconds() / 3600
    return max(0.0, (n1 - n0) / hours) if hours > 0 else 0.0


def hour_of_week(at: datetime) -> int:
    local = at.astimezone(_taipei())
    return local.weekday() * 24 + local.hour


@dataclass(frozen=True, slots=True)
class Profile:
    """How busy each hour of the week is, relative to the mean hour (the factors average 1)."""

    factors: tuple[float, ...] = (1.0,) * HOURS_PER_WEEK
    flat: bool = field(init=False, compare=False)  # every factor 1: the clock itself

    def __post_init__(self) -> None:
        if len(self.factors) != HOURS_PER_WEEK or min(self.factors) < 0:
            raise ValueError("a weekly profile has 168 non-negative factors")
        object.__setattr__(self, "flat", all(f == 1.0 for f in self.factors))

    def effective_hours(self, start: datetime, end: datetime) -> float:
        """The integral of the factor over [start, end], in hours."""
        if self.flat or end <= start:
            return max(0.0, (end - start).total_seconds() / 3600)
        total, at = 0.0, start
        while at < end:
            step = min(_next_hour(at), end)
            total += self.factors[hour_of_week(at)] * (step - at).total_seconds() / 3600
            at = step
        return total

    def advance(self, start: datetime, hours: float) -> datetime | None:
        """The instant at which `hours` effective hours have passed since `start` (None: past
        MAX_HOURS of the clock)."""
        if hours > MAX_HOURS:
            return None
        if self.flat:
            return start + timedelta(hours=hours)
        week = sum(self.factors)
        if week <= 0:
            return start if hours <= 0 else None
        weeks, rest = divmod(hours, week)  # whole weeks first: each holds `week` effective hours
        at = start + timedelta(weeks=weeks)
        while True:
            step = _next_hour(at)
            factor = self.factors[hour_of_week(at)]
            span = (step - at).total_seconds() / 3600
            if factor * span >= rest:
                return at + timedelta(hours=rest / factor) if factor > 0 else at
            rest -= factor * span
            at = step


def _next_hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


FLAT = Profile()


def weekly_profile(series: Sequence[Sample], min_weeks: float = 1.0) -> Profile:
    """The weekly shape of a (pool's) burn series: mean rate per hour of the week over the
    mean rate. Flat until the series spans `min_weeks`; an hour never seen counts as 1."""
    ordered = sorted(series)
    if len(ordered) < 2 or (ordered[-1][0] - ordered[0][0]) < timedelta(weeks=min_weeks):
        return FLAT
    issued = [0.0] * HOURS_PER_WEEK
    hours = [0.0] * HOURS_PER_WEEK
    for (t0, n0), (t1, n1) in itertools.pairwise(ordered):
        span = (t1 - t0).total_seconds() / 3600
        if span <= 0:
            continue
        rate = max(0, n1 - n0) / span
        at = t0
        while at < t1:  # spread the step evenly over the hours it covers
            step = min(_next_hour(at), t1)
            part = (step - at).total_seconds() / 3600
            slot = hour_of_week(at)
            issued[slot] += rate * part
            hours[slot] += part
            at = step
    rates = [issued[i] / hours[i] if hours[i] > 0 else None for i in range(HOURS_PER_WEEK)]
    seen = [r for r in rates if r is not None]
    mean = sum(seen) / len(seen) if seen else 0.0
    if mean <= 0:
        return FLAT
    raw = [1.0 if r is None else r / mean for r in rates]
    scale = HOURS_PER_WEEK / sum(raw)  # exactly mean 1, so a week holds 168 effective hours
    return Profile(tuple(f * scale for f in raw))


def average_rate(series: Sequence[Sample], now: datetime, days: float = 28.0) -> float | None:
    """Numbers per hour over the last `days` of the series (None if it spans under a day)."""
    recent = sorted(s for s in series if now - timedelta(days=days) <= s[0] <= now)
    if len(recent) < 2 or recent[-1][0] - recent[0][0] < timedelta(days=1):
        return None
    (t0, n0), (t1, n1) = recent[0], recent[-1]
    return max(0.0, (n1 - n0) / ((t1 - t0).total_seconds() / 3600))


@dataclass(frozen=True, slots=True)
class Stock:
    """One branch's part of a pool: what it holds, what its quota still lets it draw, its burn."""

    key: str
    held: int
    quota_left: int
    rate: float  # numbers per (effective) hour

    def __post_init__(self) -> None:
        if self.held < 0 or self.quota_left < 0 or not self.rate >= 0:
            raise ValueError(f"stock {self.key}: held, quota left and rate must be >= 0")


@dataclass(frozen=True, slots=True)
class RunOut:
    """When a stock runs dry (None: not within ten years) and what empties it."""

    at: datetime | None
    reason: str  # "held" (its own numbers, nothing more to draw), "quota", "pool", "never"


@dataclass(frozen=True, slots=True)
class Forecast:
    now: datetime
    pool: datetime | None  # when the pool's free numbers are all drawn (None: not in sight)
    branches: Mapping[str, RunOut] = field(default_factory=dict)


def forecast(
    now: datetime, pool_free: int, stocks: Iterable[Stock], profile: Profile = FLAT
) -> Forecast:
    """Who runs out when: the pool and every branch, from `now` at the stocks' rates."""
    items = list(stocks)
    if pool_free < 0:
        raise ValueError("pool_free must be >= 0")
    pool_tau = _pool_dry(pool_free, items)
    result = {}
    for s in items:
        tau, reason = _branch_dry(s, pool_tau)
        result[s.key] = RunOut(None if tau is None else profile.advance(now, tau), reason)
    at = None if pool_tau is None else profile.advance(now, pool_tau)
    return Forecast(now, at, result)


def _pool_dry(free: int, stocks: list[Stock]) -> float | None:
    """Effective hours until the branches have drawn `free` numbers (None: they never do)."""
    if free == 0:
        return 0.0
    events: list[tuple[float, float]] = []  # (when, change of the draw rate)
    for s in stocks:
        if s.rate <= 0 or s.quota_left == 0:
            continue
        start = s.held / s.rate
        events += [(start, s.rate), (start + s.quota_left / s.rate, -s.rate)]
    events.sort()
    drawn, rate, at = 0.0, 0.0, 0.0
    for when, change in events:
        if rate > 0 and drawn + rate * (when - at) >= free - EPSILON:
            return at + (free - drawn) / rate
        drawn += rate * (when - at)
        rate, at = rate + change, when
    return None  # every quota is used up before the pool is


def _branch_dry(s: Stock, pool_tau: float | None) -> tuple[float | None, str]:
    if s.rate <= 0:  # not burning: dry now only if it holds nothing and can draw nothing
        empty = s.held == 0 and (s.quota_left == 0 or pool_tau == 0)
        return (0.0, "held") if empty else (None, "never")
    own = s.held / s.rate
    with_quota = (s.held + s.quota_left) / s.rate
    if s.quota_left == 0:
        tau, reason = own, "held"
    elif pool_tau is not None and max(own, pool_tau) < with_quota:
        tau, reason = max(own, pool_tau), "pool"
    else:
        tau, reason = with_quota, "quota"
    return (tau, reason) if tau <= MAX_HOURS else (None, "never")


def with_rates(stocks: Iterable[Stock], rates: Mapping[str, float]) -> list[Stock]:
    """The same stocks at other rates (the seasonal scenario); a key not given keeps its own."""
    return [Stock(s.key, s.held, s.quota_left, rates.get(s.key, s.rate)) for s in stocks]


# --- the MOF's lead time --------------------------------------------------------------------


def order_cutoff(period: Period) -> datetime:
    """Extra booklets of `period` must be asked for before 00:00 Taipei on the 20th of its even
    month (the same day closes the applications for the next period's numbers)."""
    return datetime(period.year, period.end_month, ORDER_CUTOFF_DAY, tzinfo=_taipei())


def working_days_before(instant: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday, Taipei) before `instant`. Public holidays are not
    known here, so the answer may be a day or two late around them."""
    local = instant.astimezone(_taipei())
    left = days
    while left > 0:
        local -= timedelta(days=1)
        if local.weekday() < 5:
            left -= 1
    return local


@dataclass(frozen=True, slots=True)
class Verdict:
    """A run-out against the period and the MOF's lead time."""

    runs_out_at: datetime | None
    lasts_period: bool
    ask_by: datetime | None  # latest instant to ask the MOF for more (None: no need)
    late: bool  # asking now is too late for this run-out (or past the cut-off)


def against_lead_time(runs_out_at: datetime | None, period: Period, now: datetime) -> Verdict:
    if runs_out_at is None or runs_out_at >= period.end():
        return Verdict(runs_out_at, True, None, False)
    ask_by = min(working_days_before(runs_out_at, MOF_LEAD_WORKING_DAYS), order_cutoff(period))
    return Verdict(runs_out_at, False, ask_by, ask_by < now)


def hours_until(at: datetime | None, now: datetime) -> float:
    """Hours from `now` to `at` (inf when never)."""
    return math.inf if at is None else max(0.0, (at - now).total_seconds() / 3600)
