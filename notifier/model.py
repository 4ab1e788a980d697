"""What the rules see and what they say: immutable snapshots of HQ state, and alerts.

The snapshot is loaded once per evaluation (notifier.load) and the rules (notifier.rules) are
pure functions of it, so every rule can be tested without a database or a clock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from allocator import Period, PoolKey

# A fact is stored as JSON with the condition, so only JSON scalars (datetimes as ISO text).
Fact = str | int | float | None


class Kind(enum.StrEnum):
    """The kinds of alert; each has its text (notifier.mailtext) and its recipients' route."""

    POOL_LOW = "pool_low"
    BRANCH_STUCK = "branch_stuck"
    BRANCH_SILENT = "branch_silent"
    CLOCK_SKEW = "clock_skew"
    PERIOD_NOT_IMPORTED = "period_not_imported"
    E0402_DUE = "e0402_due"
    E0402_FAILED = "e0402_failed"
    E0402_HELD_BACK = "e0402_held_back"


@dataclass(frozen=True, slots=True)
class Alert:
    """A condition that holds now. The key is stable while it holds: it de-duplicates mails."""

    key: str
    kind: Kind
    facts: Mapping[str, Fact]
    ban: str | None = None


class ReportState(enum.StrEnum):
    """How far a period's blank report (E0402) has got."""

    NOT_CLOSED = "not_closed"  # the period is not closed at HQ yet
    CLOSED = "closed"  # closed; nothing known about the hand-off
    SUBMITTED = "submitted"  # handed to Turnkey, no result yet
    CONFIRMED = "confirmed"  # the MOF platform confirmed it
    FAILED = "failed"  # Turnkey or the platform reported an error


@dataclass(frozen=True, slots=True)
class ReportStatus:
    state: ReportState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PoolState:
    """One pool (period, invoice type) of the current period, as the HQ holds it now."""

    year_month: str
    invoice_type: str
    free_enabled: int
    free_held_back: int  # free numbers in paused or disabled ranges
    closed: bool
    burn_per_hour: float  # summed over the enabled branches that use this invoice type
    tracks: tuple[str, ...] = ()

    @property
    def period(self) -> Period:
        return Period.from_year_month(self.year_month)


@dataclass(frozen=True, slots=True)
class BranchPool:
    """A branch's part of one pool of the current period."""

    invoice_type: str
    held: int  # numbers granted and not yet issued or skipped (non-final grants)
    booklets: int  # booklets granted this period, what the quota counts
    track: str | None = None  # a track it still holds numbers of
    last_grant_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BranchState:
    ban: str
    name: str
    enabled: bool
    booklets_per_period: int
    low_water_count: int
    burn_per_hour: float
    last_report_at: datetime | None
    last_agent_time: datetime | None
    last_grant_at: datetime | None
    pools: Mapping[str, BranchPool] = field(default_factory=dict)  # by invoice type
    active_types: frozenset[str] = frozenset()  # types it had grants of, this or last period

    @property
    def held(self) -> int:
        return sum(p.held for p in self.pools.values())

    @property
    def last_heard(self) -> datetime | None:
        """A grant request is a sign of life as much as a usage report."""
        known = [t for t in (self.last_report_at, self.last_grant_at) if t is not None]
        return max(known) if known else None


@dataclass(frozen=True, slots=True)
class Snapshot:
    now: datetime
    period: Period
    pools: tuple[PoolState, ...]
    branches: tuple[BranchState, ...]
    assigned_types: Mapping[str, frozenset[str]]  # year_month -> invoice types with ranges
    # Every ended pool (period and invoice type with ranges): how far its E0402 got.
    reports: Mapping[PoolKey, ReportStatus]

    def types_of(self, period: Period) -> frozenset[str]:
        return self.assigned_types.get(period.to_year_month(), frozenset())
