"""The agent's own value types: grants as held, HQ's configuration, pending requests, outcomes.

The rules live in `allocator`; these only carry what the agent stores and passes around.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from allocator import Holding, InvoiceNumber, InvoiceType, Period, RefillPolicy, TrackRange


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A grant as HQ sent it (RequestRange's reply)."""

    grant_id: str
    period: Period
    invoice_type: InvoiceType
    track_range: TrackRange
    request_id: str
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class HeldGrant:
    """A grant in the agent's buffer: its cursor, its arrival order and whether it is closed.

    `high_water` is the furthest the cursor ever got: a reused give-back moves the cursor back,
    but HQ keeps the furthest next_number it was told, so reports always send the high water.
    """

    holding: Holding
    seq: int
    high_water: int
    final: bool = False

    @property
    def grant_id(self) -> str:
        return self.holding.grant_id

    @property
    def period(self) -> Period:
        return self.holding.period

    @property
    def invoice_type(self) -> InvoiceType:
        return self.holding.invoice_type

    @property
    def track_range(self) -> TrackRange:
        return self.holding.track_range


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """The branch's configuration as HQ last sent it (defaults until the first copy arrives)."""

    version: int = 0
    enabled: bool = True
    policy: RefillPolicy = field(default_factory=RefillPolicy)
    booklets_per_request: int | None = None
    booklets_per_period: int | None = None
    disabled: tuple[TrackRange, ...] = ()

    def is_disabled(self, track_range: TrackRange) -> bool:
        """A grant never spans two MOF ranges, so touching a disabled one means inside it."""
        return any(
            d.track == track_range.track and d.range.overlaps(track_range.range)
            for d in self.disabled
        )

    def booklets_to_ask(self, burn_per_minute: float) -> int:
        wanted = self.policy.booklets_for(burn_per_minute)
        if self.booklets_per_request:
            wanted = min(wanted, self.booklets_per_request)
        return max(1, wanted)


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A RequestRange written down before it is sent, so a retry after a crash reuses its id."""

    request_id: str
    period: Period
    invoice_type: InvoiceType
    booklets: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HandedOut:
    """Numbers given to one POS request (all of one period and type, ascending)."""

    period: Period
    invoice_type: InvoiceType
    numbers: tuple[InvoiceNumber, ...]
    replayed: bool = False


class GiveBackOutcome(enum.Enum):
    REUSED = "reused"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class GrantUsageRow:
    """What the outbox sends HQ about one grant: its whole state, so resending is harmless."""

    grant_id: str
    next_number: int
    skipped: tuple[tuple[int, int], ...]
    final: bool
    version: int
    seq: int
