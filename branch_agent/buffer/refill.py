"""Background refill (Leaf's double buffer): ask HQ for more before the POS could ever wait.

For each invoice type the agent serves, the current period is topped up once the remainder
falls under `RefillPolicy.needs_refill` (by count and by minutes of the burn rate), and the next
period is filled ahead once the current one ends within `prefetch_before`. Grants of ended
periods are closed (final) here too. Every request id is written to the ledger before the RPC,
so a retry (after an outage or a crash) gets the same grant back from HQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from allocator import DomainError, InvoiceType, Period, Refused
from branch_agent.buffer.burn import BurnMeter
from branch_agent.buffer.state import BufferState
from branch_agent.errors import HqUnreachable, LedgerUnavailable
from branch_agent.hq.client import HqPort
from branch_agent.ledger.commands import AddGrant, FinalizeEnded
from branch_agent.ledger.store import Ledger
from branch_agent.ledger.writer import Writer
from branch_agent.model import PendingRequest
from branch_agent.tasks import nap, raise_if_cancelling
from runtime.backoff import Backoff
from runtime.clock import Clock
from runtime.errors import RateLimited
from runtime.logs import Repeating

log = logging.getLogger(__name__)
Key = tuple[Period, InvoiceType]


@dataclass(frozen=True, slots=True)
class RefillTiming:
    prefetch_before: timedelta = timedelta(days=2)
    tick_seconds: float = 0.5
    backoff_min: float = 0.2
    backoff_max: float = 30.0
    # A refusal (quota, pool, period) stays until an admin acts: ask again rarely.
    refused_backoff: float = 30.0


@dataclass
class _Retry:
    backoff: Backoff  # HQ or the ledger away, failures in a row
    not_before: float = 0.0


@dataclass
class Refiller:
    branch_ban: str
    types: Sequence[InvoiceType]
    state: BufferState
    writer: Writer
    ledger: Ledger
    hq: HqPort
    clock: Clock
    burn: BurnMeter
    timing: RefillTiming = field(default_factory=RefillTiming)
    on_final: Callable[[], None] = lambda: None
    errors: dict[Key, DomainError] = field(default_factory=dict)
    _retries: dict[Key, _Retry] = field(default_factory=dict)
    _logs: dict[Key, Repeating] = field(default_factory=dict)  # once per outage, not per retry
    _tick_log: Repeating = field(default_factory=lambda: Repeating(log, "refill tick"))
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _settled: asyncio.Event = field(default_factory=asyncio.Event)
    _config_changes: int = 0  # how many configs came: a refusal may predate the last one

    def wake(self) -> None:
        """Look at the buffer now (after a batch of numbers went out, or a new config)."""
        self._wake.set()

    def numbers_went_out(self) -> None:
        """After a batch of the writer: look at the buffer now only if it is below its low
        water (the tick every `tick_seconds` does the rest), not after every POS call."""
        now = self.clock.now()
        if any(self._wants(p, t, now) for t in self.types for p in self._periods(now)):
            self.wake()

    def config_changed(self) -> None:
        """An admin may have raised a quota or re-enabled the branch: retry refusals now."""
        self._config_changes += 1
        self._retries.clear()
        self.wake()

    def last_error(self, period: Period, invoice_type: InvoiceType) -> DomainError | None:
        return self.errors.get((period, invoice_type))

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
                self._tick_log.recovered()
            except Exception as error:  # keep refilling whatever one bad tick did
                raise_if_cancelling()
                self._tick_log.failed(error, logging.ERROR, exc_info=True)
            await nap(self._wake, self.timing.tick_seconds)

    async def tick(self) -> None:
        now = self.clock.now()
        await self._retry_stored()
        await self._close_ended(now)
        for invoice_type in self.types:
            for period in self._periods(now):
                if self._wants(period, invoice_type, now):
                    await self.refill(period, invoice_type)

    async def _retry_stored(self) -> None:
        """Every request written down is asked again until HQ answers it, whatever its period
        and however full the buffer (after a crash too: the first tick asks at once).

        HQ may have granted it while the reply was lost; if that period has ended meanwhile, no
        refill would ask for it any more, and HQ would hold a grant this agent never closes
        (the protocol model's finding F1, docs/model). A known request id is answered with its
        original grant even after the period's end, which is then closed at once.
        """
        stored = await asyncio.to_thread(self.ledger.pending_requests)
        for pending in stored:
            if self._due((pending.period, pending.invoice_type)):
                await self.refill(pending.period, pending.invoice_type)

    def _periods(self, now: datetime) -> list[Period]:
        current = Period.containing(now)
        if current.end() - now <= self.timing.prefetch_before:
            return [current, current.next()]
        return [current]

    def _due(self, key: Key) -> bool:
        """Not waiting out a backoff after the last failure of this key."""
        retry = self._retries.get(key)
        return retry is None or asyncio.get_running_loop().time() >= retry.not_before

    def _wants(self, period: Period, invoice_type: InvoiceType, now: datetime) -> bool:
        if not self._due((period, invoice_type)):
            return False
        remaining = self.state.remaining(period, invoice_type)
        burn = self.burn.per_minute(invoice_type, now)
        return self.state.config.policy.needs_refill(remaining, burn)

    async def _close_ended(self, now: datetime) -> None:
        if self.state.ended(now) and await self.writer.submit(FinalizeEnded()):
            self.on_final()

    async def settled(self, period: Period, invoice_type: InvoiceType, timeout: float) -> bool:
        """Wait (bounded) for the next refill to finish; False at once when none can help.

        The double buffer should keep POS calls from ever getting here; this is the fallback
        when a burst emptied it anyway while HQ is reachable and nothing was refused.
        """
        key, health = (period, invoice_type), self.hq.health
        hq_down = health.contacted and not health.reachable
        wanted = self._wants(period, invoice_type, self.clock.now())
        if hq_down or not wanted or not self.state.config.enabled:
            return False
        self.wake()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._settled.wait()
                return key not in self.errors
        return False

    async def refill(self, period: Period, invoice_type: InvoiceType) -> bool:
        """One request to HQ for the period's numbers; True when a grant came in."""
        try:
            return await self._refill(period, invoice_type)
        finally:
            # Wake whoever waits in `settled`, and arm a fresh event for the next refill.
            settled, self._settled = self._settled, asyncio.Event()
            settled.set()

    async def _refill(self, period: Period, invoice_type: InvoiceType) -> bool:
        key = (period, invoice_type)
        if not self.state.config.enabled:
            self._failed(key, Refused("branch disabled by HQ: no refill until it is enabled"))
            return False
        pending = await asyncio.to_thread(self.ledger.pending_request, period, invoice_type)
        if pending is None:
            pending = await self._new_request(period, invoice_type)
        changes = self._config_changes
        try:
            grant = await self.hq.request_range(
                pending.request_id, self.branch_ban, period, invoice_type, pending.booklets
            )
            await self.writer.submit(AddGrant(grant))
        except (HqUnreachable, LedgerUnavailable, RateLimited) as error:
            raise_if_cancelling()
            self._failed(key, error)  # HQ may have granted: the retry must reuse the id
            return False
        except DomainError as error:
            raise_if_cancelling()
            # HQ refused, so it granted nothing under this id; the next try gets a new one.
            await asyncio.to_thread(self.ledger.drop_pending_request, pending.request_id)
            self._failed(key, error)
            if self._config_changes != changes:
                # HQ refused under the config before the one that came meanwhile (a quota
                # raised while this request was on its way): ask again now, not in 30 s.
                self._retries.pop(key, None)
                self.wake()
            return False
        self.errors.pop(key, None)
        self._retries.pop(key, None)
        self._log(key).recovered()
        self.wake()  # HQ may have granted fewer booklets than asked: look again at once
        return True

    async def _new_request(self, period: Period, invoice_type: InvoiceType) -> PendingRequest:
        now = self.clock.now()
        booklets = self.state.config.booklets_to_ask(self.burn.per_minute(invoice_type, now))
        pending = PendingRequest(str(uuid.uuid4()), period, invoice_type, booklets, now)
        await asyncio.to_thread(self.ledger.add_pending_request, pending)
        return pending

    def _failed(self, key: Key, error: DomainError) -> None:
        self.errors[key] = error
        if key not in self._retries:
            self._retries[key] = _Retry(Backoff(self.timing.backoff_min, self.timing.backoff_max))
        retry = self._retries[key]
        if isinstance(error, RateLimited):
            delay = error.retry_after  # HQ said when
        elif isinstance(error, HqUnreachable | LedgerUnavailable):
            delay = retry.backoff.failed()
        else:
            delay = self.timing.refused_backoff
        retry.not_before = asyncio.get_running_loop().time() + delay
        self._log(key).failed(error)

    def _log(self, key: Key) -> Repeating:
        if key not in self._logs:
            what = f"refill {key[0]} type {key[1].value}"
            self._logs[key] = Repeating(log, what)
        return self._logs[key]
