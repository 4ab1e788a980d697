"""Number ranges and sets of them; booklet (本) alignment.

Everything here costs time and memory in the number of ranges, never in the count of numbers:
a range of 100 million numbers is one object.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from allocator.errors import InvalidRange, MisalignedRange
from allocator.identity import format_number

BOOKLET_SIZE = 50
MAX_NUMBER = 99_999_999


@dataclass(frozen=True, order=True, slots=True)
class NumberRange:
    """An inclusive range of 8-digit invoice numbers inside one track."""

    begin: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.begin <= MAX_NUMBER and 0 <= self.end <= MAX_NUMBER):
            raise InvalidRange(f"range {self.begin}-{self.end}: numbers must have 8 digits")
        if self.begin > self.end:
            raise InvalidRange(f"range {self}: begin must not be after end")

    @property
    def count(self) -> int:
        return self.end - self.begin + 1

    def __contains__(self, number: int) -> bool:
        return self.begin <= number <= self.end

    def is_booklet_aligned(self) -> bool:
        return self.begin % BOOKLET_SIZE == 0 and (self.end + 1) % BOOKLET_SIZE == 0

    def require_booklets(self) -> NumberRange:
        """Self, if it is whole booklets: begins at xx00/xx50 and ends at xx49/xx99."""
        if not self.is_booklet_aligned():
            raise MisalignedRange(
                f"range {self} is not whole booklets of {BOOKLET_SIZE}: it must begin at a number "
                "ending in 00 or 50 and end at one ending in 49 or 99"
            )
        return self

    @property
    def booklets(self) -> int:
        return self.require_booklets().count // BOOKLET_SIZE

    def overlaps(self, other: NumberRange) -> bool:
        return self.begin <= other.end and other.begin <= self.end

    def __str__(self) -> str:
        return f"{format_number(self.begin)}-{format_number(self.end)}"


@dataclass(frozen=True, slots=True)
class RangeSet:
    """A set of numbers held as sorted, disjoint, non-adjacent ranges."""

    ranges: tuple[NumberRange, ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[NumberRange]) -> RangeSet:
        """Normalise any ranges: sort, merge overlapping and adjacent ones (coalesce)."""
        merged: list[NumberRange] = []
        for item in sorted(ranges):
            if merged and item.begin <= merged[-1].end + 1:
                if item.end > merged[-1].end:
                    merged[-1] = NumberRange(merged[-1].begin, item.end)
            else:
                merged.append(item)
        return cls(tuple(merged))

    @classmethod
    def single(cls, begin: int, end: int) -> RangeSet:
        return cls((NumberRange(begin, end),))

    def __iter__(self) -> Iterator[NumberRange]:
        return iter(self.ranges)

    def __len__(self) -> int:
        return len(self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    @property
    def count(self) -> int:
        return sum(item.count for item in self.ranges)

    def __contains__(self, number: int) -> bool:
        index = bisect.bisect_right(self.ranges, number, key=lambda item: item.begin) - 1
        return index >= 0 and number <= self.ranges[index].end

    def first(self) -> int | None:
        return self.ranges[0].begin if self.ranges else None

    def union(self, other: RangeSet) -> RangeSet:
        return RangeSet.of((*self.ranges, *other.ranges))

    def difference(self, other: RangeSet) -> RangeSet:
        result: list[NumberRange] = []
        cut = other.ranges
        j = 0
        for item in self.ranges:
            begin = item.begin
            while j < len(cut) and cut[j].end < begin:
                j += 1
            k = j
            while k < len(cut) and cut[k].begin <= item.end:
                if cut[k].begin > begin:
                    result.append(NumberRange(begin, cut[k].begin - 1))
                begin = cut[k].end + 1
                k += 1
            if begin <= item.end:
                result.append(NumberRange(begin, item.end))
        return RangeSet(tuple(result))

    def intersection(self, other: RangeSet) -> RangeSet:
        result: list[NumberRange] = []
        a, b = self.ranges, other.ranges
        i = j = 0
        while i < len(a) and j < len(b):
            begin, end = max(a[i].begin, b[j].begin), min(a[i].end, b[j].end)
            if begin <= end:
                result.append(NumberRange(begin, end))
            if a[i].end < b[j].end:
                i += 1
            else:
                j += 1
        return RangeSet(tuple(result))

    def isdisjoint(self, other: RangeSet) -> bool:
        return not self.intersection(other)

    def __or__(self, other: RangeSet) -> RangeSet:
        return self.union(other)

    def __sub__(self, other: RangeSet) -> RangeSet:
        return self.difference(other)

    def __and__(self, other: RangeSet) -> RangeSet:
        return self.intersection(other)

    def __str__(self) -> str:
        return ", ".join(str(item) for item in self.ranges) or "(empty)"
