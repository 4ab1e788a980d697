"""Two-month invoice periods (期別) in Asia/Taipei and their MIG YearMonth form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from allocator.errors import InvalidPeriod, PeriodClosed, PeriodNotEnded

ROC_OFFSET = 1911
BLANK_REPORT_DAYS = 10
_YEAR_MONTH = re.compile(r"([0-9]{3})([0-9]{2})")


@cache
def _taipei() -> ZoneInfo:
    """Asia/Taipei, loaded on first use: importing the package reads no tzdata file."""
    return ZoneInfo("Asia/Taipei")


def __getattr__(name: str) -> ZoneInfo:
    """`TAIPEI` stays a module attribute, resolved lazily (PEP 562)."""
    if name == "TAIPEI":
        return _taipei()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A two-month period, named by its Gregorian year and the even month that ends it.

    MIG calls it YearMonth: ROC year (3 digits) + end month, so Nov-Dec 2025 is `11412`.
    """

    year: int
    end_month: int

    def __post_init__(self) -> None:
        if self.end_month not in (2, 4, 6, 8, 10, 12):
            raise InvalidPeriod(f"period end month {self.end_month} must be even (2, 4, ..., 12)")
        if not ROC_OFFSET + 1 <= self.year <= ROC_OFFSET + 999:
            raise InvalidPeriod(f"period year {self.year} must be ROC year 1..999 (1912..2910)")

    @classmethod
    def containing(cls, instant: datetime) -> Period:
        """The period an aware instant falls in, by the Taipei calendar."""
        if instant.tzinfo is None:
            raise InvalidPeriod(f"instant {instant.isoformat()} has no time zone")
        local = instant.astimezone(_taipei())
        return cls(local.year, local.month + local.month % 2)

    @classmethod
    def from_year_month(cls, text: str) -> Period:
        """Parse MIG YearMonth (`11412`); stricter than the schema's pattern."""
        match = _YEAR_MONTH.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidPeriod(f"YearMonth {text!r} must be 5 digits: ROC year + even month")
        roc_year, month = int(match.group(1)), int(match.group(2))
        if roc_year == 0 or month not in (2, 4, 6, 8, 10, 12):
            raise InvalidPeriod(
                f"YearMonth {text!r} must be a ROC year from 001 and an even month 02..12"
            )
        return cls(roc_year + ROC_OFFSET, month)

    def to_year_month(self) -> str:
        return f"{self.year - ROC_OFFSET:03d}{self.end_month:02d}"

    @property
    def start_month(self) -> int:
        return self.end_month - 1

    def start(self) -> datetime:
        """First instant of the period, 00:00 Taipei on the 1st of its odd month."""
        return datetime(self.year, self.start_month, 1, tzinfo=_taipei())

    def end(self) -> datetime:
        """First instant after the period (exclusive): the next period's start."""
        return self.next().start()

    def contains(self, instant: datetime) -> bool:
        return self.start() <= instant < self.end()

    def has_ended(self, now: datetime) -> bool:
        """The period is over at `now`: no number of it may be issued or granted any more."""
        return now >= self.end()

    def require_open(self, now: datetime) -> None:
        if self.has_ended(now):
            raise PeriodClosed(f"period {self} ended at {self.end().isoformat()}")

    def require_ended(self, now: datetime, what: str) -> None:
        """`what` (closing it, its E0402) waits for the end of the period."""
        if not self.has_ended(now):
            raise PeriodNotEnded(f"period {self} ends at {self.end().isoformat()}: {what} waits")

    def next(self) -> Period:
        if self.end_month == 12:
            return Period(self.year + 1, 2)
        return Period(self.year, self.end_month + 2)

    def previous(self) -> Period:
        if self.end_month == 2:
            return Period(self.year - 1, 12)
        return Period(self.year, self.end_month - 2)

    def blank_report_deadline(self) -> datetime:
        """End of the 10th day of the next period (exclusive instant): E0402 must be in by then."""
        return self.end() + timedelta(days=BLANK_REPORT_DAYS)

    def blank_report_days_left(self, now: datetime) -> float:
        """Days until the E0402 deadline, negative once it has passed."""
        return (self.blank_report_deadline() - now).total_seconds() / 86400

    def __str__(self) -> str:
        return self.to_year_month()
