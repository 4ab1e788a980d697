"""What became of the numbers: issued, blank (E0402 空白未使用字軌), or still held.

For every period and track, assigned = issued + blank + held, exactly and disjointly, at every
moment. While a period is open, numbers a branch skipped or gave back are already blank and the
rest of its grants is held; once the period is closed everything not issued is blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from allocator.errors import OverlappingRange
from allocator.identity import Ban, Track
from allocator.pool import TrackRange
from allocator.ranges import RangeSet

TrackSets = Mapping[Track, RangeSet]


@dataclass(frozen=True, slots=True)
class BranchUsage:
    """A branch's grants and what it did with them, per track, in one period and invoice type.

    `issued` includes numbers whose invoice was later cancelled (作廢) or voided (註銷): they count
    as used. `skipped` holds numbers given back after a later one was issued: they are blank.
    """

    granted: TrackSets = field(default_factory=dict)
    issued: TrackSets = field(default_factory=dict)
    skipped: TrackSets = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Accounting:
    """The three disjoint parts of the assigned numbers, per track."""

    issued: dict[Track, RangeSet]
    blank: dict[Track, RangeSet]
    held: dict[Track, RangeSet]


def _get(sets: TrackSets, track: Track) -> RangeSet:
    return sets.get(track, RangeSet())


def account(assigned: TrackSets, usage: Mapping[Ban, BranchUsage], closed: bool) -> Accounting:
    """Split the assigned numbers into issued, blank and held from the stored facts alone."""
    issued: dict[Track, RangeSet] = {}
    blank: dict[Track, RangeSet] = {}
    held: dict[Track, RangeSet] = {}
    for track, numbers in assigned.items():
        used = RangeSet.of(r for branch in usage.values() for r in _get(branch.issued, track))
        skipped = RangeSet.of(r for branch in usage.values() for r in _get(branch.skipped, track))
        issued[track] = used & numbers
        rest = numbers - issued[track]
        blank[track] = rest if closed else (skipped - issued[track]) & numbers
        held[track] = rest - blank[track]
    return Accounting(issued, blank, held)


def blank_ranges(
    head_ban: Ban, assigned: TrackSets, usage: Mapping[Ban, BranchUsage]
) -> dict[tuple[Ban, Track], RangeSet]:
    """The blank ranges of a closed period, per (BranchBan, track), as E0402 reports them.

    A branch's blanks are its grants minus what it issued; numbers never granted to any branch are
    the HQ's own blanks, reported under BranchBan = HeadBan (merged with the HQ's own store, if
    it is also a branch). Empty sets are left out: no E0402 goes where nothing is blank.
    """
    result: dict[tuple[Ban, Track], RangeSet] = {}
    for track, numbers in assigned.items():
        never_granted = numbers
        for ban, branch in usage.items():
            granted = _get(branch.granted, track) & numbers
            never_granted = never_granted - granted
            _add(result, (ban, track), granted - _get(branch.issued, track))
        _add(result, (head_ban, track), never_granted)
    return result


def _add(
    result: dict[tuple[Ban, Track], RangeSet], key: tuple[Ban, Track], blank: RangeSet
) -> None:
    if blank:
        result[key] = result.get(key, RangeSet()) | blank


@dataclass(frozen=True, slots=True)
class UsageState:
    """A grant's usage as a report states it, or as HQ keeps it: numbers below `next_number`
    were issued or skipped, `skipped` is the part of them that is blank, `final` says the agent
    issues nothing more from it. A report may carry only the skips that are new to it."""

    next_number: int
    skipped: RangeSet
    final: bool


@dataclass(frozen=True, slots=True)
class Merged:
    """A report merged into the stored state: the furthest of both, and what changed."""

    state: UsageState
    new_skips: RangeSet  # numbers skipped that the stored state did not hold yet
    forward: bool  # the cursor moved on, or the grant became final

    @property
    def moved(self) -> bool:
        return self.forward or bool(self.new_skips)

    def issued_added(self, stored: UsageState) -> int:
        """How many more numbers count as issued (below the cursor, not skipped) than before."""
        return self.state.next_number - stored.next_number - self.new_skips.count


def merge_report(grant: TrackRange, stored: UsageState, report: UsageState) -> Merged:
    """Keep the furthest state: the higher cursor, the union of skips, final once final.

    Order-free and idempotent (a report arriving twice or late changes nothing), and never a
    rewind. Refused (OverlappingRange) if the report cannot come from a correct agent: a
    cursor outside the grant, or a skipped number not below the cursor the report and the
    stored state reach together.
    """
    numbers = grant.range
    if not numbers.begin <= report.next_number <= numbers.end + 1:
        raise OverlappingRange(f"next number {report.next_number} is outside grant {grant}")
    cursor = max(stored.next_number, report.next_number)
    used = RangeSet.single(numbers.begin, cursor - 1) if cursor > numbers.begin else RangeSet()
    if outside := report.skipped - used:
        raise OverlappingRange(
            f"skipped numbers {outside} are outside the used part of grant {grant}"
        )
    new_skips = report.skipped - stored.skipped
    final = stored.final or report.final
    return Merged(
        UsageState(cursor, stored.skipped | new_skips, final),
        new_skips,
        forward=cursor > stored.next_number or final != stored.final,
    )
