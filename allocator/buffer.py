"""A branch's buffer of granted numbers: what the next invoice number is, refills, give-backs.

The branch agent keeps its holdings in grant order and issues strictly ascending numbers from
the first one that still has numbers left, within the period the numbers belong to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from allocator.errors import BufferEmpty, InvalidQuota, PermissionDenied
from allocator.identity import InvoiceNumber, InvoiceType
from allocator.period import Period
from allocator.pool import TrackRange
from allocator.ranges import BOOKLET_SIZE, NumberRange


@dataclass(frozen=True, slots=True)
class Holding:
    """One grant held by a branch and the next number of it not yet issued."""

    grant_id: str
    period: Period
    invoice_type: InvoiceType
    track_range: TrackRange
    next_number: int

    @property
    def remaining(self) -> int:
        return max(0, self.track_range.range.end - self.next_number + 1)


@dataclass(frozen=True, slots=True)
class Issued:
    """A number handed to a POS, with the grant and period it came from."""

    grant_id: str
    period: Period
    invoice_type: InvoiceType
    number: InvoiceNumber


def usable(holdings: Sequence[Holding], now: datetime, invoice_type: InvoiceType) -> list[Holding]:
    """Holdings that may still issue now: of the current period, of the type, not used up.

    A period's numbers are never handed out once the period has ended by this clock.
    """
    period = Period.containing(now)
    return [
        h
        for h in holdings
        if h.period == period and h.invoice_type is invoice_type and h.remaining > 0
    ]


def take(
    holdings: Sequence[Holding], count: int, now: datetime, invoice_type: InvoiceType
) -> tuple[list[Issued], dict[str, int]]:
    """The next `count` numbers in ascending grant order, and each touched grant's new cursor."""
    issued: list[Issued] = []
    cursors: dict[str, int] = {}
    for holding in usable(holdings, now, invoice_type):
        number = holding.next_number
        while len(issued) < count and number <= holding.track_range.range.end:
            track = holding.track_range.track
            issued.append(
                Issued(holding.grant_id, holding.period, invoice_type, InvoiceNumber(track, number))
            )
            number += 1
        cursors[holding.grant_id] = number
        if len(issued) == count:
            return issued, cursors
    raise BufferEmpty(
        f"only {len(issued)} of {count} numbers of type {invoice_type.value} are left for "
        f"period {Period.containing(now)} in this branch's buffer"
    )


def rewind_on_give_back(
    holding: Holding, number: int, last_issued: InvoiceNumber
) -> Holding | None:
    """A number given back before use is re-used if nothing after it was issued.

    Returns the holding with its cursor moved back onto the number, or None when the number
    must be recorded as skipped (and so reported blank).
    """
    if (
        last_issued.track == holding.track_range.track
        and last_issued.number == number
        and number in holding.track_range.range
        and holding.next_number == number + 1
    ):
        return replace(holding, next_number=number)
    return None


class NotYourNumber(PermissionDenied):
    """A POS terminal giving back a number another terminal was handed."""

    reason = "NOT_YOUR_NUMBER"


def require_handed_to(number: InvoiceNumber, handed_to: str, terminal: str) -> None:
    """A terminal gives back only the numbers it was handed: another's would become blank."""
    if handed_to != terminal:
        raise NotYourNumber(
            f"invoice number {number} was handed to terminal {handed_to[:64]!r}, not "
            f"{terminal[:64]!r}: a terminal gives back only its own numbers"
        )


MAX_LOW_WATER_COUNT = 1_000_000
MAX_LOW_WATER_MINUTES = 7 * 24 * 60
MAX_REFILL_BOOKLETS = 10_000


@dataclass(frozen=True, slots=True)
class RefillPolicy:
    """When a branch asks HQ for more: by count, and by minutes of its current burn rate."""

    low_water_count: int = 100
    low_water_minutes: float = 30.0
    min_booklets: int = 1
    max_booklets: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.low_water_count <= MAX_LOW_WATER_COUNT:
            raise InvalidQuota(
                f"low water count {self.low_water_count} must be 0..{MAX_LOW_WATER_COUNT:,}"
            )
        minutes = self.low_water_minutes
        if not (math.isfinite(minutes) and 0 < minutes <= MAX_LOW_WATER_MINUTES):
            raise InvalidQuota(
                f"low water minutes {minutes} must be more than 0 and at most "
                f"{MAX_LOW_WATER_MINUTES:,} (a week)"
            )
        if not 1 <= self.min_booklets <= self.max_booklets <= MAX_REFILL_BOOKLETS:
            raise InvalidQuota(
                f"refill booklets min {self.min_booklets} / max {self.max_booklets}: need "
                f"1 <= min <= max <= {MAX_REFILL_BOOKLETS:,}"
            )

    def needs_refill(self, remaining: int, burn_per_minute: float) -> bool:
        if remaining < self.low_water_count:
            return True
        return burn_per_minute > 0 and remaining / burn_per_minute < self.low_water_minutes

    def booklets_for(self, burn_per_minute: float) -> int:
        """Enough booklets for twice the low-water horizon, between the minimum and the maximum.

        Like Leaf's adaptive step: a busy store gets bigger ranges, a quiet one smaller.
        """
        wanted = math.ceil(burn_per_minute * self.low_water_minutes * 2 / BOOKLET_SIZE)
        return max(self.min_booklets, min(self.max_booklets, wanted))


def skipped_at_close(next_number: int, high_water: int) -> NumberRange | None:
    """Numbers a closed grant gave back for re-use but never handed out again: they are blank.

    HQ was told the furthest cursor (`high_water`) and counts everything below it as issued
    unless reported skipped, so these must be reported skipped when the period ends.
    """
    return NumberRange(next_number, high_water - 1) if next_number < high_water else None
