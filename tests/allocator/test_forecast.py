"""The run-out forecast: monotone in stock, never before now, exact on a constant burn; the
MOF's lead time and cut-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import TAIPEI, Period
from allocator.forecast import (
    FLAT,
    HOURS_PER_WEEK,
    Profile,
    Stock,
    against_lead_time,
    burn_rate,
    forecast,
    order_cutoff,
    weekly_profile,
    working_days_before,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)  # a Monday
MICROSECOND = timedelta(microseconds=1)
LATEST = datetime.max.replace(tzinfo=UTC)

rates = st.floats(min_value=0.0, max_value=5000.0, allow_nan=False)
counts = st.integers(min_value=0, max_value=200_000)
stocks = st.lists(
    st.builds(Stock, key=st.just(""), held=counts, quota_left=counts, rate=rates),
    min_size=1,
    max_size=6,
).map(lambda items: [Stock(f"b{i}", s.held, s.quota_left, s.rate) for i, s in enumerate(items)])
profiles = st.one_of(
    st.just(FLAT),
    st.lists(
        st.floats(min_value=0.0, max_value=5.0, allow_nan=False),
        min_size=HOURS_PER_WEEK,
        max_size=HOURS_PER_WEEK,
    )
    .filter(lambda f: sum(f) > 0)
    .map(lambda f: Profile(tuple(f))),
)
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(TAIPEI)
)


def later(at: datetime | None) -> datetime:
    return LATEST if at is None else at


@settings(max_examples=150, deadline=None)
@given(stocks, counts, st.data(), profiles)
def test_more_stock_never_runs_out_sooner(
    items: list[Stock], free: int, data: st.DataObject, profile: Profile
) -> None:
    before = forecast(NOW, free, items, profile)
    which = data.draw(st.integers(0, len(items) - 1))
    extra_held = data.draw(st.integers(0, 10_000))
    extra_free = data.draw(st.integers(0, 10_000))
    more = [
        Stock(s.key, s.held + (extra_held if i == which else 0), s.quota_left, s.rate)
        for i, s in enumerate(items)
    ]
    after = forecast(NOW, free + extra_free, more, profile)
    assert later(after.pool) >= later(before.pool)
    for key, run_out in before.branches.items():
        assert later(after.branches[key].at) >= later(run_out.at), key


@settings(max_examples=150, deadline=None)
@given(stocks, counts, instants, profiles)
def test_nothing_runs_out_before_now(
    items: list[Stock], free: int, now: datetime, profile: Profile
) -> None:
    result = forecast(now, free, items, profile)
    assert later(result.pool) >= now
    assert all(later(r.at) >= now for r in result.branches.values())


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 100_000), st.integers(1, 2000), instants, st.integers(1, 10_000))
def test_a_constant_burn_runs_out_exactly_at_stock_over_rate(
    held: int, per_ten_minutes: int, now: datetime, free: int
) -> None:
    # The burn series: a sample every ten minutes for two hours, the same step each time
    # (within ten years: beyond that a run-out is None, "not in sight").
    series = [(now - timedelta(minutes=10 * k), per_ten_minutes * (12 - k)) for k in range(13)]
    rate = burn_rate(series, now)
    assert rate == per_ten_minutes * 6
    alone = forecast(now, 0, [Stock("b", held, 0, rate)])
    assert abs(alone.branches["b"].at - (now + timedelta(hours=held / rate))) <= MICROSECOND
    assert alone.branches["b"].reason == "held"
    # Then from the pool: its free numbers last free / rate hours more.
    pooled = forecast(now, free, [Stock("b", held, 10**9, rate)])
    expected = now + timedelta(hours=(held + free) / rate)
    assert abs(pooled.pool - expected) <= MICROSECOND
    assert abs(pooled.branches["b"].at - expected) <= MICROSECOND


def test_a_branch_draws_from_the_pool_until_it_is_empty() -> None:
    # Two branches of 100/h, each holding 100, quotas of 1,000; the pool has 500 free.
    result = forecast(NOW, 500, [Stock("a", 100, 1000, 100.0), Stock("b", 100, 1000, 100.0)])
    # Both start drawing after 1 h at 200/h together: 500 more last 2.5 h.
    assert result.pool == NOW + timedelta(hours=3.5)
    assert result.branches["a"] == result.branches["b"]
    assert result.branches["a"].at == NOW + timedelta(hours=3.5)
    assert result.branches["a"].reason == "pool"


def test_a_quota_ends_a_branch_before_the_pool() -> None:
    result = forecast(NOW, 10_000, [Stock("a", 100, 200, 100.0)])
    assert result.branches["a"].at == NOW + timedelta(hours=3)
    assert result.branches["a"].reason == "quota"
    assert result.pool is None  # the quota stops the draw: the pool lasts


def test_not_burning_is_never() -> None:
    result = forecast(NOW, 10, [Stock("a", 100, 200, 0.0)])
    assert result.branches["a"].at is None and result.pool is None


def test_a_seasonal_profile_stretches_quiet_hours() -> None:
    # Busy 09:00-21:00 Taipei (factor 2), closed otherwise (0): 12 h a day at double the rate.
    factors = tuple(2.0 if 9 <= h % 24 < 21 else 0.0 for h in range(HOURS_PER_WEEK))
    profile = Profile(factors)
    start = datetime(2026, 11, 23, 20, 0, tzinfo=TAIPEI)  # one busy hour left today
    result = forecast(start, 0, [Stock("a", 300, 0, 100.0)], profile)
    # 200 in the last busy hour, the other 100 at 200/h from 09:00 the next morning.
    assert result.branches["a"].at == datetime(2026, 11, 24, 9, 30, tzinfo=TAIPEI)


def test_the_weekly_profile_of_a_series_averages_one() -> None:
    start = datetime(2026, 11, 2, 0, 0, tzinfo=TAIPEI)
    series, total = [], 0
    for hour in range(2 * HOURS_PER_WEEK + 1):
        series.append((start + timedelta(hours=hour), total))
        total += 300 if 9 <= hour % 24 < 21 else 0
    profile = weekly_profile(series)
    assert abs(sum(profile.factors) / HOURS_PER_WEEK - 1) < 1e-9
    assert profile.factors[10] > 1.9 and profile.factors[3] == 0.0
    assert weekly_profile(series[:100]) is FLAT  # under a week: no shape yet


def test_lead_time_and_cutoff() -> None:
    period = Period.containing(NOW)  # Nov-Dec 2026
    assert order_cutoff(period) == datetime(2026, 12, 20, tzinfo=TAIPEI)
    # Five working days before Monday 30 Nov 10:00 is Monday 23 Nov 10:00.
    runout = datetime(2026, 11, 30, 10, 0, tzinfo=TAIPEI)
    assert working_days_before(runout, 5) == datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)
    verdict = against_lead_time(runout, period, NOW - timedelta(hours=1))
    assert not verdict.lasts_period and not verdict.late
    assert verdict.ask_by == datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI)
    assert against_lead_time(runout, period, NOW + timedelta(hours=1)).late
    # Running out on 28 Dec: the cut-off (20 Dec) comes before the lead time (21 Dec).
    december = against_lead_time(datetime(2026, 12, 28, tzinfo=TAIPEI), period, NOW)
    assert december.ask_by == datetime(2026, 12, 20, tzinfo=TAIPEI)
    assert against_lead_time(period.end(), period, NOW).lasts_period
    assert against_lead_time(None, period, NOW).ask_by is None
