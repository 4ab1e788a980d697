"""The agent's use cases behind the POS API: next numbers, give back, status.

Each one checks its input, hands the change to the writer (one durable group commit) and, when
the buffer is empty, says why: HQ unreachable since when, or HQ's own refusal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from allocator import (
    TAIPEI,
    BufferEmpty,
    InvalidInput,
    InvoiceNumber,
    InvoiceType,
    Period,
    TrackRange,
)
from branch_agent.buffer.burn import BurnMeter
from branch_agent.buffer.refill import Refiller
from branch_agent.buffer.state import BufferState
from branch_agent.errors import HqUnreachable, NoNumberLeft, TypeNotServed
from branch_agent.hq.client import HqHealth
from branch_agent.ledger.commands import GiveBack, NextNumbers
from branch_agent.ledger.store import Ledger
from branch_agent.ledger.writer import Writer
from branch_agent.model import GiveBackOutcome, HandedOut
from runtime.clock import Clock
from runtime.metrics import NO_METRICS, NumbersObserver

MAX_COUNT = 1000
REFILL_WAITS = 3  # refills a call may wait for when it finds the buffer empty ...
REFILL_WAIT = 1.0  # ... each for at most this many seconds


@dataclass(frozen=True, slots=True)
class StatusView:
    branch_ban: str
    period: Period
    remaining: int
    current_range: TrackRange | None
    next_ranges: tuple[TrackRange, ...]
    hq_reachable: bool
    hq_unreachable_since: datetime | None
    burn_per_minute: float
    issued_total: int
    reports_pending: int
    last_refill_error: str


@dataclass
class AgentService:
    branch_ban: str
    types: Sequence[InvoiceType]
    state: BufferState
    writer: Writer
    ledger: Ledger
    refiller: Refiller
    health: HqHealth
    burn: BurnMeter
    clock: Clock
    metrics: NumbersObserver = NO_METRICS

    async def next_numbers(
        self, count: int, invoice_type: InvoiceType, terminal_id: str = "", request_id: str = ""
    ) -> HandedOut:
        started = time.perf_counter()
        if not 1 <= count <= MAX_COUNT:
            raise InvalidInput(f"count {count} must be 1..{MAX_COUNT}")
        if invoice_type not in self.types:
            served = ", ".join(t.value for t in self.types)
            raise TypeNotServed(
                f"this agent serves invoice type {served}, not {invoice_type.value}"
            )
        command = NextNumbers(count, invoice_type, terminal_id, request_id)
        handed = await self._submit(command)
        if not handed.replayed:
            self.burn.record(invoice_type, len(handed.numbers), self.clock.now())
        self.metrics.handed_out(len(handed.numbers), time.perf_counter() - started)
        return handed

    async def _submit(self, command: NextNumbers) -> HandedOut:
        """Issue; if a burst emptied the buffer, wait (bounded) for the refill under way."""
        for _ in range(REFILL_WAITS):
            try:
                return await self.writer.submit(command)
            except BufferEmpty:
                period = Period.containing(self.clock.now())
                if not await self.refiller.settled(period, command.invoice_type, REFILL_WAIT):
                    break
        try:
            return await self.writer.submit(command)
        except BufferEmpty as error:
            raise self._why_empty(command.count, command.invoice_type) from error

    def can_hand_out(self) -> bool:
        """The POS service's health: a number of the current period of each type served, or
        an HQ that answered the last call (a refill can come, or HQ's refusal reaches the POS
        as the reason). NOT_SERVING means neither: no number, and nobody to ask for one."""
        if self.health.reachable:
            return True
        period = Period.containing(self.clock.now())
        return all(self.state.remaining(period, t) > 0 for t in self.types)

    async def give_back(self, invoice_number: str, terminal_id: str = "") -> GiveBackOutcome:
        number = InvoiceNumber.parse(invoice_number)
        return await self.writer.submit(GiveBack(number, terminal_id))

    def _why_empty(self, count: int, invoice_type: InvoiceType) -> NoNumberLeft:
        period = Period.containing(self.clock.now())
        remaining = self.state.remaining(period, invoice_type)
        left = "no number left" if remaining == 0 else f"only {remaining} of {count} numbers left"
        what = f"{left} for period {period} type {invoice_type.value}"
        health, cause = self.health, self.refiller.last_error(period, invoice_type)
        if health.contacted and not health.reachable and health.unreachable_since:
            since = health.unreachable_since.astimezone(TAIPEI).isoformat(timespec="seconds")
            return NoNumberLeft(f"{what} and HQ unreachable since {since}", HqUnreachable(since))
        if cause is not None and not isinstance(cause, HqUnreachable):
            return NoNumberLeft(f"{cause} ({what})", cause)
        if not health.contacted:
            return NoNumberLeft(f"{what}: HQ has not been reached yet since the agent started")
        return NoNumberLeft(f"{what}; a refill from HQ is under way, retry in a moment")

    async def status(self) -> StatusView:
        # The ledger first: after it, nothing awaits, so the buffer's figures are of one moment
        # (a grant landing in between gave a reply whose remaining counted ranges it omitted).
        pending = await asyncio.to_thread(self.ledger.reports_pending)
        now = self.clock.now()
        period = Period.containing(now)
        main = self.types[0] if self.types else InvoiceType.GENERAL
        queue = self.state.queue(period, main) + self.state.queue(period.next(), main)
        ranges = [g.track_range for g in queue]
        current = ranges[0] if queue and queue[0].period == period else None
        return StatusView(
            branch_ban=self.branch_ban,
            period=period,
            remaining=self.state.remaining(period, main),
            current_range=current,
            next_ranges=tuple(ranges[1:] if current else ranges),
            hq_reachable=self.health.reachable,
            hq_unreachable_since=self.health.unreachable_since,
            burn_per_minute=self.burn.per_minute(main, now),
            issued_total=self.state.issued_total,
            reports_pending=pending,
            last_refill_error=self._refill_error(period),
        )

    def _refill_error(self, period: Period) -> str:
        """Why the last refill of this period (or of the next, being fetched ahead) failed.

        An ended period's refusal (its quota reached, say) says nothing about the one served now.
        """
        for when in (period, period.next()):
            for invoice_type in self.types:
                if (error := self.refiller.last_error(when, invoice_type)) is not None:
                    return str(error)
        return ""
