"""NumberRange and RangeSet against Python sets of ints; booklet alignment; the 100M range."""

from __future__ import annotations

import itertools
import time
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator import (
    BOOKLET_SIZE,
    AssignedRange,
    Ban,
    BranchUsage,
    InvalidRange,
    MisalignedRange,
    NumberRange,
    RangeSet,
    Track,
    TrackRange,
    account,
    blank_ranges,
    free_runs,
    plan_grant,
)

MAX = 99_999_999
WINDOW = 120  # small windows keep the set oracle cheap


def ints(ranges) -> set[int]:
    out: set[int] = set()
    for item in ranges:
        out.update(range(item.begin, item.end + 1))
    return out


def assert_normal(rs: RangeSet) -> None:
    """Sorted, disjoint and non-adjacent: the canonical form equality relies on."""
    items = list(rs.ranges)
    for item in items:
        assert isinstance(item, NumberRange)
        assert item.begin <= item.end
    for left, right in itertools.pairwise(items):
        assert left.end + 1 < right.begin, (left, right)


@st.composite
def range_lists(draw, base=None):
    """Ranges in a small window, sometimes at the very top of the number space."""
    if base is None:
        base = draw(st.sampled_from([0, 1_000, MAX - WINDOW + 1]))
    pairs = draw(st.lists(st.tuples(st.integers(0, WINDOW - 1), st.integers(0, 40)), max_size=8))
    return [NumberRange(base + a, min(base + a + n, base + WINDOW - 1)) for a, n in pairs]


@st.composite
def two_range_lists(draw):
    base = draw(st.sampled_from([0, 1_000, MAX - WINDOW + 1]))
    return draw(range_lists(base)), draw(range_lists(base)), base


# --- NumberRange ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("begin", "end"), [(10, 5), (1, 0), (MAX, MAX - 1)])
def test_range_begin_after_end(begin, end):
    with pytest.raises(InvalidRange) as info:
        NumberRange(begin, end)
    message = str(info.value)
    assert f"{begin:08d}" in message and f"{end:08d}" in message
    assert "begin must not be after end" in message


@pytest.mark.parametrize(
    ("begin", "end", "bad"),
    [
        (-1, 5, "-1"),
        (0, 100_000_000, "100000000"),
        (-5, -1, "-5"),
        (100_000_000, 100_000_001, "100000000"),
    ],
)
def test_range_out_of_8_digits(begin, end, bad):
    with pytest.raises(InvalidRange) as info:
        NumberRange(begin, end)
    assert bad in str(info.value)
    assert "8 digits" in str(info.value)


@given(st.integers(0, MAX), st.integers(0, 500))
def test_range_count_and_contains(begin, length):
    end = min(begin + length, MAX)
    item = NumberRange(begin, end)
    assert item.count == len(range(begin, end + 1))
    for probe in (begin - 1, begin, (begin + end) // 2, end, end + 1):
        assert (probe in item) == (begin <= probe <= end)
    assert str(item) == str(begin).zfill(8) + "-" + str(end).zfill(8)


@given(st.integers(0, 2_000), st.integers(0, 300))
def test_booklet_alignment_matches_last_two_digits(begin, length):
    item = NumberRange(begin, begin + length)
    aligned = f"{begin:08d}"[-2:] in ("00", "50") and f"{begin + length:08d}"[-2:] in ("49", "99")
    assert item.is_booklet_aligned() == aligned
    if aligned:
        assert item.require_booklets() is item
        assert item.booklets * 50 == length + 1
    else:
        with pytest.raises(MisalignedRange) as info:
            item.require_booklets()
        assert str(item) in str(info.value)
        assert "00 or 50" in str(info.value) and "49 or 99" in str(info.value)
        with pytest.raises(MisalignedRange):
            _ = item.booklets


@pytest.mark.parametrize(("begin", "end"), [(1, 50), (0, 48), (50, 98), (25, 74), (0, 0), (49, 99)])
def test_misaligned_examples(begin, end):
    item = NumberRange(begin, end)
    with pytest.raises(MisalignedRange) as info:
        item.require_booklets()
    assert f"{begin:08d}-{end:08d}" in str(info.value)


def test_aligned_examples():
    assert BOOKLET_SIZE == 50
    assert NumberRange(0, 49).booklets == 1
    assert NumberRange(50, 149).booklets == 2
    assert NumberRange(0, MAX).booklets == 2_000_000


@given(st.integers(0, 200), st.integers(0, 30), st.integers(0, 200), st.integers(0, 30))
def test_overlaps_matches_sets(a, n, b, m):
    left, right = NumberRange(a, a + n), NumberRange(b, b + m)
    expected = bool(ints([left]) & ints([right]))
    assert left.overlaps(right) == expected == right.overlaps(left)


# --- RangeSet ------------------------------------------------------------------------------------


@given(range_lists())
def test_of_normalises(items):
    rs = RangeSet.of(items)
    assert_normal(rs)
    expected = ints(items)
    assert ints(rs) == expected
    assert rs.count == len(expected)
    assert len(rs) == len(rs.ranges)
    assert bool(rs) == bool(expected)
    assert rs.first() == (min(expected) if expected else None)
    assert RangeSet.of(reversed(items)) == rs  # canonical: order of input does not matter
    assert RangeSet.of(rs) == rs


@given(two_range_lists())
def test_set_operations_match_python_sets(data):
    left_items, right_items, base = data
    left, right = RangeSet.of(left_items), RangeSet.of(right_items)
    a, b = ints(left_items), ints(right_items)
    for result, expected in (
        (left | right, a | b),
        (left.union(right), a | b),
        (left - right, a - b),
        (left.difference(right), a - b),
        (left & right, a & b),
        (left.intersection(right), a & b),
    ):
        assert_normal(result)
        assert ints(result) == expected
        assert result.count == len(expected)
        assert result == RangeSet.of(NumberRange(n, n) for n in expected)
    assert left.isdisjoint(right) == a.isdisjoint(b)
    for probe in range(max(0, base - 1), min(MAX, base + WINDOW) + 1):
        assert (probe in left) == (probe in a)


def test_contains_on_empty_and_edges():
    assert 0 not in RangeSet()
    rs = RangeSet.of([NumberRange(10, 19), NumberRange(30, 39)])
    assert [n for n in range(0, 50) if n in rs] == [*range(10, 20), *range(30, 40)]


def test_of_merges_adjacent_and_keeps_gaps():
    rs = RangeSet.of([NumberRange(50, 99), NumberRange(0, 49), NumberRange(101, 120)])
    assert rs.ranges == (NumberRange(0, 99), NumberRange(101, 120))


def test_str():
    assert str(RangeSet()) == "(empty)"
    rs = RangeSet.of([NumberRange(0, 49), NumberRange(100, 149)])
    assert str(rs) == "00000000-00000049, 00000100-00000149"
    assert str(RangeSet.single(5, 5)) == "00000005-00000005"


# --- constant memory and time on 100 million numbers ---------------------------------------------


def test_hundred_million_numbers_in_constant_memory_and_time():
    aa = Track("AA")
    head, shop = Ban("22099131"), Ban("04595257")
    whole = RangeSet.single(0, MAX)
    holes = RangeSet.of(
        [NumberRange(0, 0), NumberRange(50_000_000, 50_000_049), NumberRange(MAX, MAX)]
    )
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert whole.count == 100_000_000
        assert 0 in whole and MAX in whole and 12_345_678 in whole
        rest = whole - holes
        assert rest.count == 100_000_000 - 52
        assert rest.ranges == (
            NumberRange(1, 49_999_999),
            NumberRange(50_000_050, MAX - 1),
        )
        assert 50_000_000 not in rest and 50_000_050 in rest and MAX not in rest
        assert (rest | holes) == whole
        assert (whole & holes) == holes
        assert rest.isdisjoint(holes)

        pool = [AssignedRange(TrackRange(aa, NumberRange(0, MAX)))]
        first = plan_grant(free_runs(pool, []), None, 20)
        assert first == TrackRange(aa, NumberRange(0, 999))
        granted = [first, TrackRange(aa, NumberRange(50_000_000, 99_999_949))]
        runs = free_runs(pool, granted)
        assert [r.range for r in runs] == [
            NumberRange(1_000, 49_999_999),
            NumberRange(99_999_950, MAX),
        ]
        assert plan_grant(runs, first, 3) == TrackRange(aa, NumberRange(1_000, 1_149))
        assert plan_grant(runs, granted[1], 3) == TrackRange(aa, NumberRange(99_999_950, MAX))

        assigned = {aa: whole}
        usage = {
            shop: BranchUsage(
                granted={aa: RangeSet.single(0, 49_999_999)},
                issued={aa: RangeSet.single(0, 12_344)},
                skipped={aa: RangeSet.single(12_345, 12_345)},
            )
        }
        blanks = blank_ranges(head, assigned, usage)
        assert blanks == {
            (shop, aa): RangeSet.single(12_345, 49_999_999),
            (head, aa): RangeSet.single(50_000_000, MAX),
        }
        accounting = account(assigned, usage, closed=False)
        assert accounting.issued[aa].count == 12_345
        assert accounting.blank[aa] == RangeSet.single(12_345, 12_345)
        assert accounting.held[aa].count == 100_000_000 - 12_346
        assert account(assigned, usage, closed=True).blank[aa].count == 100_000_000 - 12_345
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024, peak
    assert elapsed < 1.0, elapsed
