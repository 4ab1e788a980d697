"""Property: the E0402s written for a period report exactly the assigned numbers never issued,
each once, per branch and track; the E0401s report exactly the grants."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.identity import Ban, InvoiceType, Track
from allocator.pool import TrackRange
from allocator.ranges import BOOKLET_SIZE, NumberRange, RangeSet
from allocator.usage import BranchUsage, blank_ranges
from mof_sync.e0401 import build_e0401_set, grants_of, read_e0401
from mof_sync.e0402 import build_e0402_set, read_e0402
from mof_sync.mig import MigVersion
from tests.mof_sync.mof_support import BRANCHES, HQ, PERIOD

TRACKS = [Track("AA"), Track("AB"), Track("ZZ")]


@dataclass(frozen=True)
class Scenario:
    assigned: dict[Track, RangeSet]
    usage: dict[Ban, BranchUsage]


@st.composite
def mof_ranges(draw: st.DrawFn) -> list[NumberRange]:
    """One to three disjoint booklet-aligned MOF ranges, possibly adjacent."""
    ranges: list[NumberRange] = []
    booklet = draw(st.integers(0, 2_000))
    for _ in range(draw(st.integers(1, 3))):
        size = draw(st.integers(1, 6))
        ranges.append(NumberRange(booklet * BOOKLET_SIZE, (booklet + size) * BOOKLET_SIZE - 1))
        booklet += size + draw(st.integers(0, 3))
    return ranges


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    tracks = draw(st.lists(st.sampled_from(TRACKS), min_size=1, max_size=2, unique=True))
    owners = [None, HQ, *BRANCHES[: draw(st.integers(1, 5))]]
    assigned: dict[Track, RangeSet] = {}
    grants: dict[Ban, dict[Track, list[NumberRange]]] = {}
    for track in tracks:
        mof = draw(mof_ranges())
        assigned[track] = RangeSet.of(mof)
        for numbers in mof:
            for begin in range(numbers.begin, numbers.end + 1, BOOKLET_SIZE):
                owner = draw(st.sampled_from(owners))
                if owner is not None:
                    booklet = NumberRange(begin, begin + BOOKLET_SIZE - 1)
                    grants.setdefault(owner, {}).setdefault(track, []).append(booklet)
    usage = {
        ban: draw(_usage({t: RangeSet.of(r) for t, r in by_track.items()}))
        for ban, by_track in grants.items()
    }
    return Scenario(assigned, usage)


@st.composite
def _usage(draw: st.DrawFn, granted: dict[Track, RangeSet]) -> BranchUsage:
    """Issue an ascending prefix of each granted run; give some numbers back (skipped)."""
    issued: dict[Track, RangeSet] = {}
    skipped: dict[Track, RangeSet] = {}
    for track, runs in granted.items():
        used: list[NumberRange] = []
        holes: list[NumberRange] = []
        for run in runs:
            count = draw(st.integers(0, run.count))
            if count == 0:
                continue
            prefix = NumberRange(run.begin, run.begin + count - 1)
            given_back = draw(st.lists(st.integers(prefix.begin, prefix.end), max_size=3))
            holes.extend(NumberRange(n, n) for n in given_back)
            used.extend(RangeSet((prefix,)) - RangeSet.of(NumberRange(n, n) for n in given_back))
        issued[track] = RangeSet.of(used)
        skipped[track] = RangeSet.of(holes)
    return BranchUsage(granted=granted, issued=issued, skipped=skipped)


def _all(sets: dict[Track, RangeSet], track: Track) -> RangeSet:
    return sets.get(track, RangeSet())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), version=st.sampled_from(list(MigVersion)))
def test_e0402_reports_assigned_minus_issued_exactly_once(
    scenario: Scenario, version: MigVersion
) -> None:
    blanks = blank_ranges(HQ, scenario.assigned, scenario.usage)
    documents = build_e0402_set(HQ, InvoiceType.GENERAL, PERIOD, blanks, version=version)

    reported: dict[tuple[Ban, Track], list[NumberRange]] = {}
    for document in documents:
        content = read_e0402(document.xml, source=document.file_name)
        assert content.key == document.key
        reported.setdefault((content.key.branch_ban, content.key.track), []).extend(content.ranges)

    for track, assigned in scenario.assigned.items():
        issued = RangeSet.of(
            r for branch in scenario.usage.values() for r in _all(branch.issued, track)
        )
        everything = [r for (_, t), ranges in reported.items() if t == track for r in ranges]
        union = RangeSet.of(everything)
        assert union == assigned - issued
        assert sum(r.count for r in everything) == union.count, "a number was reported twice"
        for ban, branch in scenario.usage.items():
            if ban == HQ:
                continue
            expected = (_all(branch.granted, track) & assigned) - _all(branch.issued, track)
            assert RangeSet.of(reported.get((ban, track), [])) == expected
        granted = RangeSet.of(
            r for branch in scenario.usage.values() for r in _all(branch.granted, track)
        )
        hq_expected = (assigned - granted) | (
            _all(scenario.usage[HQ].granted, track) - _all(scenario.usage[HQ].issued, track)
            if HQ in scenario.usage
            else RangeSet()
        )
        assert RangeSet.of(reported.get((HQ, track), [])) == hq_expected


@settings(max_examples=40, deadline=None)
@given(scenario=scenarios())
def test_e0401_reports_every_grant_in_its_mof_range(scenario: Scenario) -> None:
    mof = [TrackRange(t, r) for t, ranges in scenario.assigned.items() for r in ranges]
    documents = build_e0401_set(HQ, InvoiceType.GENERAL, PERIOD, mof, grants_of(scenario.usage))
    reported: dict[tuple[Ban, Track], list[NumberRange]] = {}
    for document in documents:
        content = read_e0401(document.xml)
        assert content.key.main is not None
        assert all(
            content.key.main.begin <= r.begin and r.end <= content.key.main.end
            for r in content.ranges
        )
        reported.setdefault((content.key.branch_ban, content.key.track), []).extend(content.ranges)
    for ban, branch in scenario.usage.items():
        for track, granted in branch.granted.items():
            assert RangeSet.of(reported[(ban, track)]) == granted
