"""The HQ pool and the allocation policy: which booklets a branch gets next.

A pool is what the MOF assigned to one HQ for one period and invoice type: ranges per track,
each enabled, paused or disabled. A grant is one contiguous run of whole booklets inside one
assigned range, so that each grant maps onto exactly one E0401 `Main` range.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from allocator.errors import (
    InvalidInput,
    InvalidQuota,
    OverlappingRange,
    PoolExhausted,
    QuotaReached,
    RangeNotEnabled,
)
from allocator.identity import InvoiceType, Track
from allocator.period import Period
from allocator.ranges import BOOKLET_SIZE, NumberRange, RangeSet


class RangeStatus(enum.Enum):
    """Admin state of an assigned range: only enabled ranges are granted from."""

    ENABLED = "enabled"
    PAUSED = "paused"
    DISABLED = "disabled"


@dataclass(frozen=True, order=True, slots=True)
class TrackRange:
    """A number range inside one track (字軌), e.g. AB00000000-AB00000499."""

    track: Track
    range: NumberRange

    def __str__(self) -> str:
        return f"{self.track}{self.range.begin:08d}-{self.track}{self.range.end:08d}"


@dataclass(frozen=True, order=True, slots=True)
class PoolKey:
    """One pool: what the MOF assigned to the HQ for one period and invoice type."""

    period: Period
    invoice_type: InvoiceType

    @property
    def year_month(self) -> str:
        return self.period.to_year_month()

    @property
    def type_code(self) -> str:
        return self.invoice_type.value


@dataclass(frozen=True, slots=True)
class AssignedRange:
    """A range the MOF assigned to the HQ (an E0501 InvoiceAssignNo), with its admin status."""

    track_range: TrackRange
    status: RangeStatus = RangeStatus.ENABLED

    @property
    def track(self) -> Track:
        return self.track_range.track

    @property
    def range(self) -> NumberRange:
        return self.track_range.range


# A track holds 100,000,000 numbers: 2,000,000 booklets. No quota is larger than that.
MAX_BOOKLETS_PER_PERIOD = 2_000_000
MAX_BOOKLETS_PER_REQUEST = 10_000


@dataclass(frozen=True, slots=True)
class Quota:
    """How many booklets a branch may get in one request and in one period."""

    booklets_per_request: int
    booklets_per_period: int

    def __post_init__(self) -> None:
        if not 1 <= self.booklets_per_request <= MAX_BOOKLETS_PER_REQUEST:
            raise InvalidQuota(
                f"booklets per request {self.booklets_per_request} must be "
                f"1..{MAX_BOOKLETS_PER_REQUEST:,}"
            )
        if not 0 <= self.booklets_per_period <= MAX_BOOKLETS_PER_PERIOD:
            raise InvalidQuota(
                f"booklets per period {self.booklets_per_period} must be "
                f"0..{MAX_BOOKLETS_PER_PERIOD:,} (a whole track)"
            )


# A quota change takes effect at once or later; a time far in the past is a typing mistake.
SCHEDULE_PAST = timedelta(hours=1)
SCHEDULE_FUTURE = timedelta(days=400)


def check_schedule(effective_from: datetime, now: datetime) -> datetime:
    """When a scheduled quota starts: from an hour ago (meaning at once) to 400 days ahead."""
    if effective_from.tzinfo is None:
        raise InvalidInput(f"effective from {effective_from.isoformat()} needs a time zone")
    if not now - SCHEDULE_PAST <= effective_from <= now + SCHEDULE_FUTURE:
        raise InvalidInput(
            f"effective from {effective_from.isoformat(timespec='seconds')} must be between an "
            f"hour ago and {SCHEDULE_FUTURE.days} days from now "
            f"({now.isoformat(timespec='seconds')})"
        )
    return effective_from


def by_track(track_ranges: Iterable[TrackRange]) -> dict[Track, RangeSet]:
    """Group track ranges into one coalesced RangeSet per track."""
    grouped: dict[Track, list[NumberRange]] = {}
    for item in track_ranges:
        grouped.setdefault(item.track, []).append(item.range)
    return {track: RangeSet.of(ranges) for track, ranges in grouped.items()}


def check_new_assignment(new: TrackRange, existing: Iterable[TrackRange]) -> TrackRange:
    """A new MOF range must be whole booklets and overlap no range already assigned."""
    new.range.require_booklets()
    clash = first_overlap([(new, "new"), *((other, "old") for other in existing)])
    if clash is not None:
        other = clash[0][0] if clash[1][1] == "new" else clash[1][0]
        raise OverlappingRange(f"range {new} overlaps the assigned range {other}")
    return new


L = TypeVar("L")


def first_overlap(
    items: Iterable[tuple[TrackRange, L]],
) -> tuple[tuple[TrackRange, L], tuple[TrackRange, L]] | None:
    """Two items whose ranges share a number of a track, or None; n log n for n items.

    In range order, if any two overlap then some neighbours do: a range that reaches past a
    later one's start also reaches past the start of every range between them.
    """
    ordered = sorted(
        items, key=lambda item: (item[0].track, item[0].range.begin, item[0].range.end)
    )
    for a, b in itertools.pairwise(ordered):
        if a[0].track == b[0].track and b[0].range.begin <= a[0].range.end:
            return a, b
    return None


def booklets_allowed(requested: int, quota: Quota, booklets_granted: int) -> int:
    """The number of booklets a request may get under the branch's quota (at least 1)."""
    if requested < 1:
        raise InvalidQuota(f"a request must ask for at least 1 booklet, not {requested}")
    left = quota.booklets_per_period - booklets_granted
    if left <= 0:
        raise QuotaReached(
            f"quota reached: {booklets_granted} of {quota.booklets_per_period} booklets "
            "for this period already granted"
        )
    return min(requested, quota.booklets_per_request, left)


def free_runs(pool: Sequence[AssignedRange], granted: Iterable[TrackRange]) -> list[TrackRange]:
    """Free booklets of the enabled assigned ranges, as runs that never leave one range."""
    taken = by_track(granted)
    runs: list[TrackRange] = []
    for assigned in sorted(pool, key=lambda item: item.track_range):
        if assigned.status is not RangeStatus.ENABLED:
            continue
        whole = RangeSet((assigned.range,))
        free = whole - taken.get(assigned.track, RangeSet())
        runs.extend(TrackRange(assigned.track, run) for run in free)
    return runs


def plan_grant(runs: Sequence[TrackRange], current: TrackRange | None, booklets: int) -> TrackRange:
    """The next grant of up to `booklets` booklets from the pool's free runs (`free_runs`).

    Prefers extending the branch's current range when the booklets right after it are free
    (fewer, longer ranges per store); otherwise the lowest free booklets of the pool.
    """
    if not runs:
        raise PoolExhausted("pool exhausted: no free booklet is left in an enabled range")
    chosen = runs[0]
    if current is not None:
        for run in runs:
            if run.track == current.track and run.range.begin == current.range.end + 1:
                chosen = run
                break
    size = min(booklets * BOOKLET_SIZE, chosen.range.count)
    begin = chosen.range.begin
    return TrackRange(chosen.track, NumberRange(begin, begin + size - 1).require_booklets())


def require_enabled(pool: Sequence[AssignedRange], target: TrackRange) -> AssignedRange:
    """The assigned range holding `target`, which must be enabled."""
    for assigned in pool:
        inside = (
            assigned.range.begin <= target.range.begin <= target.range.end <= assigned.range.end
        )
        if assigned.track == target.track and inside:
            if assigned.status is not RangeStatus.ENABLED:
                raise RangeNotEnabled(f"range {assigned.track_range} is {assigned.status.value}")
            return assigned
    raise RangeNotEnabled(f"range {target} is not inside any assigned range")
