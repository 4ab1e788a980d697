"""decide_reports: a batch of usage reports decided from what HQ knows, with no I/O.

Each report sees what the earlier ones of its batch did, a refused one changes nothing, and the
order or repetition of the accepted ones never changes where a grant ends up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator import (
    Ban,
    BlanksReported,
    DomainError,
    NotFound,
    NumberRange,
    OverlappingRange,
    PermissionDenied,
    RangeSet,
    Track,
    TrackRange,
    UsageState,
)
from allocator.usage_reports import (
    GrantProgress,
    HeldGrant,
    Known,
    UsageReport,
    decide_reports,
)
from tests.conftest import BRANCH_BANS

A, B, STRANGER = Ban(BRANCH_BANS[0]), Ban(BRANCH_BANS[1]), Ban("22099131")  # not registered
OPEN = "11512"  # 2026 Nov-Dec: open at NOW
ENDED = "11508"  # 2026 Jul-Aug: ended at NOW
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def held(grant_id: str, ban: Ban, begin: int, year_month: str = OPEN) -> HeldGrant:
    numbers = TrackRange(Track("AB"), NumberRange(begin, begin + 49))
    return HeldGrant(grant_id, ban.value, year_month, "07", numbers)


GRANTS = {g.id: g for g in (held("a", A, 0), held("b", B, 100), held("old", A, 200, ENDED))}


def known(sent: dict[tuple[str, str, str], str] | None = None) -> Known:
    states = {g.id: UsageState(g.numbers.range.begin, RangeSet(), False) for g in GRANTS.values()}
    return Known(frozenset({A.value, B.value}), GRANTS, states, sent or {}, NOW)


def report(ban: Ban, grant_id: str, cursor: int, *skips: int, final: bool = False) -> UsageReport:
    begin = GRANTS[grant_id].numbers.range.begin
    spans = [NumberRange(begin + s, begin + s) for s in skips]
    return UsageReport(ban, None, [GrantProgress(grant_id, begin + cursor, spans, final)])


def test_each_report_gets_its_own_answer_and_a_refused_one_changes_nothing() -> None:
    decided = decide_reports(
        [
            report(A, "a", 10, 3),
            report(STRANGER, "a", 40),  # not registered
            report(A, "b", 40),  # B's grant
            report(B, "b", 60),  # past the grant's end
            report(A, "a", 10, 3),  # the first one again: moves nothing
            report(B, "b", 20, 4, 5),
        ],
        known(),
    )
    outcomes = decided.outcomes
    assert outcomes[0] == 1 and outcomes[4] == 0 and outcomes[5] == 1
    assert isinstance(outcomes[1], NotFound) and "not registered" in str(outcomes[1])
    assert isinstance(outcomes[2], PermissionDenied) and "'b' is not held by" in str(outcomes[2])
    assert isinstance(outcomes[3], OverlappingRange)
    assert decided.states["a"] == UsageState(10, RangeSet.single(3, 3), False)
    assert decided.states["b"] == UsageState(120, RangeSet.of([NumberRange(104, 105)]), False)
    assert decided.branches[A.value].issued_added == 9
    assert decided.branches[B.value].issued_added == 18


def test_a_change_after_the_periods_e0402_went_out_is_refused() -> None:
    sent = {(ENDED, "07", A.value): "E0402-A-11508"}
    refused = decide_reports([report(A, "old", 10)], known(sent))
    (error,) = refused.outcomes
    assert isinstance(error, BlanksReported) and "E0402-A-11508" in str(error)
    assert refused.states["old"] == known().states["old"] and not refused.branches
    again = decide_reports([report(A, "old", 0)], known(sent))  # moves nothing: accepted
    assert again.outcomes == (0,)
    before = decide_reports([report(A, "old", 10)], known())  # no E0402 yet: accepted
    assert before.outcomes == (1,) and before.states["old"].next_number == 210


# Reports of grant "a" (0-49) from A: any cursor, skips below the cursor, sometimes final.
reports_of_a = st.builds(
    lambda cursor, skips, final: report(
        A, "a", cursor, *sorted(s for s in skips if s < cursor), final=final
    ),
    st.integers(0, 50),
    st.sets(st.integers(0, 49), max_size=5),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(reports_of_a, max_size=8), st.randoms(use_true_random=False))
def test_any_order_or_repetition_ends_in_the_same_state(
    batch: list[UsageReport], rng: object
) -> None:
    shuffled = list(batch) * 2
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    one = decide_reports(batch, known())
    other = decide_reports(shuffled, known())
    assert one.states == other.states
    assert all(not isinstance(o, DomainError) for o in one.outcomes)
    end = one.states["a"]
    assert end.next_number == max([0, *(r.grants[0].next_number for r in batch)])
    issued = one.branches[A.value].issued_added if batch else 0
    assert issued == end.next_number - end.skipped.count  # the running total adds up


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([A, B, STRANGER]), reports_of_a), max_size=8))
def test_refused_reports_are_as_if_never_sent(batch: list[tuple[Ban, UsageReport]]) -> None:
    sent = [UsageReport(ban, r.agent_time, r.grants) for ban, r in batch]
    decided = decide_reports(sent, known())
    accepted = [r for r, o in zip(sent, decided.outcomes, strict=True) if isinstance(o, int)]
    assert all(r.branch == A for r in accepted)
    assert decide_reports(accepted, known()).states == decided.states


@pytest.mark.parametrize("ban", [A, B])
def test_a_report_naming_no_grant_is_accepted_for_a_known_branch(ban: Ban) -> None:
    decided = decide_reports([UsageReport(ban, NOW, [])], known())
    assert decided.outcomes == (0,) and decided.branches[ban.value].agent_time == NOW
