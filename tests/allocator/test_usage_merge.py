"""merge_report: HQ keeps the furthest state of a grant whatever the order or repetition of
reports, and a report may carry only the skips that are new (what changed since the last one)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import (
    NumberRange,
    OverlappingRange,
    RangeSet,
    Track,
    TrackRange,
    UsageState,
    merge_report,
)

GRANT = TrackRange(Track("AB"), NumberRange(100, 149))
FRESH = UsageState(100, RangeSet(), False)


def state(cursor: int, *skips: tuple[int, int], final: bool = False) -> UsageState:
    return UsageState(cursor, RangeSet.of(NumberRange(b, e) for b, e in skips), final)


def merge_all(reports: list[UsageState]) -> UsageState:
    kept = FRESH
    for report in reports:
        kept = merge_report(GRANT, kept, report).state
    return kept


def test_the_furthest_state_wins_and_nothing_rewinds() -> None:
    kept = merge_report(GRANT, state(120, (105, 106)), state(110, (107, 107))).state
    assert kept == state(120, (105, 107))
    assert merge_report(GRANT, state(120, final=True), state(130)).state == state(130, final=True)


def test_what_moved_and_what_it_adds_to_the_issued_total() -> None:
    stored = state(120, (105, 106))
    again = merge_report(GRANT, stored, stored)
    assert not again.moved and again.issued_added(stored) == 0
    later = merge_report(GRANT, stored, state(130, (125, 125)))  # only the new skip sent
    assert later.moved and later.forward and later.new_skips == state(0, (125, 125)).skipped
    assert later.issued_added(stored) == 9  # ten more below the cursor, one of them skipped
    grown = merge_report(GRANT, stored, state(110, (107, 107)))  # a late report, a new skip
    assert grown.moved and not grown.forward and grown.issued_added(stored) == -1
    closing = merge_report(GRANT, stored, state(120, final=True))
    assert closing.forward and closing.issued_added(stored) == 0


@pytest.mark.parametrize(
    ("report", "says"),
    [
        (state(99), "next number 99 is outside grant AB00000100-AB00000149"),
        (state(151), "next number 151 is outside grant"),
        (state(110, (110, 110)), "skipped numbers 00000110-00000110 are outside the used part"),
    ],
)
def test_a_report_no_correct_agent_sends_is_refused(report: UsageState, says: str) -> None:
    with pytest.raises(OverlappingRange, match=says):
        merge_report(GRANT, FRESH, report)


def test_a_skip_below_the_stored_cursor_is_accepted_from_a_late_report() -> None:
    """The cursor the report and HQ reach together bounds the skips, not the report's own."""
    assert merge_report(GRANT, state(130), state(101, (120, 121))).state == state(130, (120, 121))


@st.composite
def agent_history(draw: st.DrawFn) -> list[UsageState]:
    """Reports of one agent: its cursor grows, skips below it accumulate, final at the end."""
    cursor, skips, reports = 100, RangeSet(), []
    for _ in range(draw(st.integers(1, 6))):
        cursor = draw(st.integers(cursor, 150))
        if cursor > 100 and draw(st.booleans()):
            b = draw(st.integers(100, cursor - 1))
            skips = skips | RangeSet.single(b, draw(st.integers(b, cursor - 1)))
        reports.append(UsageState(cursor, skips, False))
    reports.append(UsageState(cursor, skips, True))
    return reports


@given(agent_history(), st.randoms(use_true_random=False), st.integers(0, 3))
@settings(max_examples=200, deadline=None)
def test_any_order_and_repetition_of_reports_ends_in_the_last_state(
    reports: list[UsageState], order: object, repeats: int
) -> None:
    shuffled = reports + reports[:repeats]
    order.shuffle(shuffled)  # type: ignore[attr-defined]
    assert merge_all(shuffled) == reports[-1]


@given(agent_history())
@settings(max_examples=200, deadline=None)
def test_sending_only_new_skips_ends_in_the_same_state(reports: list[UsageState]) -> None:
    deltas = [
        UsageState(r.next_number, r.skipped - prev.skipped, r.final)
        for prev, r in itertools.pairwise([FRESH, *reports])
    ]
    assert merge_all(deltas) == reports[-1]
    kept, total = FRESH, 0
    for delta in deltas:
        merged = merge_report(GRANT, kept, delta)
        total, kept = total + merged.issued_added(kept), merged.state
    assert total == kept.next_number - 100 - kept.skipped.count
