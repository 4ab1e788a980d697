"""Periods: YearMonth round trip, Taipei boundaries, next/previous, blank report deadline.

The oracle is a fixed UTC+8 offset: Taiwan has kept UTC+8 without daylight saving since 1980, so
for 2000..2100 it is an independent stand-in for the Asia/Taipei zone the module uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import allocator
from allocator import InvalidPeriod, Period
from allocator import period as period_module

TST = timezone(timedelta(hours=8))
TICK = timedelta(microseconds=1)
PERIODS = [(year, month) for year in range(2000, 2101) for month in (2, 4, 6, 8, 10, 12)]


def ref_start(year: int, end_month: int) -> datetime:
    return datetime(year, end_month - 1, 1, tzinfo=TST)


def ref_next(year: int, end_month: int) -> tuple[int, int]:
    index = year * 6 + end_month // 2 - 1 + 1
    return index // 6, (index % 6 + 1) * 2


def ref_previous(year: int, end_month: int) -> tuple[int, int]:
    index = year * 6 + end_month // 2 - 1 - 1
    return index // 6, (index % 6 + 1) * 2


def test_every_period_2000_to_2100_round_trips_and_has_the_right_bounds():
    assert len(PERIODS) == 606
    for year, month in PERIODS:
        text = str(year - 1911).zfill(3) + str(month).zfill(2)
        period = Period(year, month)
        assert period.to_year_month() == text
        assert str(period) == text
        assert Period.from_year_month(text) == period
        assert period.start_month == month - 1

        start = ref_start(year, month)
        end = ref_start(*ref_next(year, month))
        assert period.start() == start
        assert period.end() == end
        assert Period.containing(start) == period
        assert Period.containing(end - TICK) == period
        assert Period.containing(start - TICK) == Period(*ref_previous(year, month))
        assert Period.containing(start.astimezone(UTC)) == period
        assert period.contains(start) and period.contains(end - TICK)
        assert not period.contains(start - TICK) and not period.contains(end)

        assert period.next() == Period(*ref_next(year, month))
        assert period.previous() == Period(*ref_previous(year, month))
        assert period.next().previous() == period
        assert period.previous().next() == period
        assert period.previous() < period < period.next()

        deadline = period.blank_report_deadline()
        assert deadline == end + timedelta(days=10)
        next_year, next_end = ref_next(year, month)
        assert deadline == datetime(next_year, next_end - 1, 11, tzinfo=TST)  # end of the 10th
        assert deadline.astimezone(UTC) - end.astimezone(UTC) == timedelta(days=10)


def test_period_sequence_is_consecutive():
    chained = [Period(2000, 2)]
    while chained[-1] != Period(2100, 12):
        chained.append(chained[-1].next())
    assert [(p.year, p.end_month) for p in chained] == PERIODS


def test_taipei_new_year_boundary():
    taipei = allocator.TAIPEI
    assert Period.containing(datetime(2026, 1, 1, 0, 0, tzinfo=taipei)).to_year_month() == "11502"
    last = datetime(2025, 12, 31, 23, 59, 59, 999000, tzinfo=taipei)
    assert Period.containing(last).to_year_month() == "11412"
    # the same instants given in UTC (Taipei is UTC+8)
    assert Period.containing(datetime(2025, 12, 31, 16, 0, tzinfo=UTC)) == Period(2026, 2)
    assert Period.containing(datetime(2025, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)) == Period(
        2025, 12
    )
    # in UTC it is still Dec 31 but Taipei is already in the new period, and vice versa
    assert Period.containing(datetime(2026, 2, 28, 16, 0, tzinfo=UTC)) == Period(2026, 4)
    assert Period.containing(datetime(2026, 3, 1, 7, 0, tzinfo=TST)) == Period(2026, 4)
    assert Period.containing(
        datetime(2026, 2, 28, 23, 0, tzinfo=timezone(-timedelta(hours=5)))
    ) == (Period(2026, 4))


def test_blank_report_deadline_example():
    deadline = Period.from_year_month("11412").blank_report_deadline()
    assert deadline == datetime(2026, 1, 11, 0, 0, tzinfo=TST)
    assert deadline.astimezone(UTC) == datetime(2026, 1, 10, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_falls_in_the_period_ending_at_the_next_even_month(month):
    expected = month if month % 2 == 0 else month + 1
    for day in (1, 15, 28):
        assert Period.containing(datetime(2025, month, day, 12, tzinfo=TST)) == Period(
            2025, expected
        )


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 12, 31)))
def test_containing_any_utc_instant_matches_fixed_offset_oracle(naive_utc):
    instant = naive_utc.replace(tzinfo=UTC)
    local = naive_utc + timedelta(hours=8)
    expected = Period(local.year, local.month + (local.month & 1))
    period = Period.containing(instant)
    assert period == expected
    assert period.contains(instant)


def test_naive_instant_is_refused():
    instant = datetime(2026, 1, 1, 0, 0)
    with pytest.raises(InvalidPeriod) as info:
        Period.containing(instant)
    assert instant.isoformat() in str(info.value)
    assert "time zone" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "11413",
        "11400",
        "1141",
        "00002",
        "114012",
        "11a12",
        "",
        "11411",
        "１１４１２",
        "114 2",
        "11414",
    ],
)
def test_bad_year_month(text):
    with pytest.raises(InvalidPeriod) as info:
        Period.from_year_month(text)
    assert repr(text) in str(info.value)
    assert "even month" in str(info.value)


def test_year_month_non_string():
    with pytest.raises(InvalidPeriod) as info:
        Period.from_year_month(11412)  # type: ignore[arg-type]
    assert "11412" in str(info.value)


@pytest.mark.parametrize("month", [0, 1, 3, 11, 13, 14, -2])
def test_period_end_month_must_be_even(month):
    with pytest.raises(InvalidPeriod) as info:
        Period(2025, month)
    assert str(month) in str(info.value)
    assert "even" in str(info.value)


@pytest.mark.parametrize("year", [1911, 1000, 2911])
def test_period_year_must_be_roc_1_to_999(year):
    with pytest.raises(InvalidPeriod) as info:
        Period(year, 2)
    assert str(year) in str(info.value)
    assert "ROC year" in str(info.value)


def test_extreme_roc_years():
    assert Period.from_year_month("00102") == Period(1912, 2)
    assert Period.from_year_month("99912") == Period(2910, 12)
    with pytest.raises(InvalidPeriod):
        Period(2910, 12).next()
    with pytest.raises(InvalidPeriod):
        Period(1912, 2).previous()


def test_taipei_zone_attribute():
    assert allocator.TAIPEI.key == "Asia/Taipei"
    assert period_module.TAIPEI is allocator.TAIPEI
    assert datetime(2026, 7, 1, tzinfo=allocator.TAIPEI).utcoffset() == timedelta(hours=8)
    with pytest.raises(AttributeError):
        _ = period_module.NOT_A_NAME
    with pytest.raises(AttributeError):
        _ = allocator.NOT_A_NAME
