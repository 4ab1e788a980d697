"""The notifier inside the HQ server: evaluate every N seconds, dispatch the outbox.

Every replica runs one; only the leader's writes commit (the fencing check), so followers just
wait. Nothing is kept in memory between ticks: a restarted or newly elected replica carries on
from the tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from notifier import smtp
from notifier.config import NotifierConfig
from notifier.dispatch import Delivery, claim, record
from notifier.evaluator import Evaluation, evaluate
from notifier.ports import Database, HqState, Leadership
from runtime.clock import Clock
from runtime.errors import NotLeader
from runtime.logs import Repeating

T = TypeVar("T")
log = logging.getLogger("einv.notifier")
MAX_BATCHES_PER_TICK = 20  # a backlog drains over several ticks, never in one unbounded loop


class NotifierService:
    """Alerts for an HQ: `store` and `coordinator` are the HQ's own (the same objects the Hq
    uses), `clock` gives domain time (alert thresholds, retry times), `config` the mail setup
    and rules; `state` reads the HQ's state for the rules (hq_server.alert_state)."""

    def __init__(
        self,
        store: Database,
        coordinator: Leadership,
        clock: Clock,
        config: NotifierConfig,
        state: HqState,
    ) -> None:
        self.store = store
        self.coordinator = coordinator
        self.clock = clock
        self.config = config
        self.state = state
        self.smtp_error: str | None = None  # the start-up check's finding, if it failed
        self._leading: bool | None = None
        self._failing = Repeating(log, "notifier tick")  # the database away: not every tick

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: evaluate every schedule.evaluate_seconds, dispatch every
        schedule.dispatch_seconds. Errors are logged and retried on the next tick."""
        await self.start_up()
        loop = asyncio.get_running_loop()
        next_evaluation = loop.time()
        while not stop.is_set():
            if loop.time() >= next_evaluation:
                await self._guarded(self.evaluate_once)
                next_evaluation = loop.time() + self.config.schedule.evaluate_seconds
            await self._guarded(self.dispatch_pending)
            pause = min(self.config.schedule.dispatch_seconds, next_evaluation - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(pause, 0.0))

    async def start_up(self) -> None:
        """Create the notifier's tables; check the SMTP server once and say clearly if it fails.

        An unreachable server does not stop the HQ: mails queue and are retried, and every
        attempt's error is recorded on the mail and its alert.
        """
        try:
            await self.check_smtp()
        except smtp.SmtpUnavailable as error:
            self.smtp_error = str(error)
            log.error(
                "notifier start-up check failed: %s; mails stay queued and are retried", error
            )

    async def check_smtp(self) -> None:
        """Raises SmtpUnavailable with the server, mode and reason when it cannot be used."""
        await smtp.check(self.config.smtp)

    async def evaluate_once(self) -> Evaluation:
        """One evaluation in one fenced transaction; NotLeader when this replica does not lead."""
        token = self.coordinator.token()
        now = self.clock.now()
        return await self.store.write(
            token, lambda conn: evaluate(conn, now, self.config, self.state)
        )

    async def dispatch_once(self) -> Delivery:
        """Claim one batch of due mails (fenced), send it, record the outcomes (fenced)."""
        token = self.coordinator.token()
        now = self.clock.now()
        batch = await self.store.write(token, lambda conn: claim(conn, now, token, self.config))
        if not batch:
            return Delivery()
        outcomes = await smtp.send_all(self.config.smtp, batch)
        done = self.clock.now()
        schedule = self.config.schedule
        return await self.store.write(
            token, lambda conn: record(conn, done, token, schedule, batch, outcomes)
        )

    async def dispatch_pending(self) -> Delivery:
        """Batches until none is full (so a backlog drains), or the per-tick bound."""
        total = Delivery()
        for _ in range(MAX_BATCHES_PER_TICK):
            step = await self.dispatch_once()
            total = Delivery(
                total.sent + step.sent, total.retrying + step.retrying, total.failed + step.failed
            )
            if step.claimed < self.config.schedule.batch_size or step.retrying:
                break
        return total

    async def _guarded(self, work: Callable[[], Awaitable[T]]) -> T | None:
        try:
            result = await work()
        except NotLeader as error:
            self._note_leadership(False, str(error))
            return None
        except Exception as error:  # a bad tick must not end the notifier; the next one retries
            self._failing.failed(error, logging.ERROR, exc_info=True)
            return None
        self._failing.recovered()
        self._note_leadership(True, "")
        return result

    def _note_leadership(self, leading: bool, why: str) -> None:
        if leading != self._leading:
            log.info(
                "notifier %s%s", "leads: evaluating and sending" if leading else "follows: ", why
            )
        self._leading = leading
