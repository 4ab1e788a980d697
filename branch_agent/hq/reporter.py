"""Usage reports through an outbox: the ledger itself.

Every grant carries a version that grows with each change and the version HQ last acknowledged.
The reporter sends the state of every grant whose version is ahead, every interval and at once
when a grant becomes final: nothing when nothing changed. Reports are cumulative and HQ keeps
the furthest state (allocator.merge_report: the higher cursor, the union of skips), so sending
one twice is harmless, and nothing is lost to a crash or an HQ outage.

Of a grant's skipped numbers a report carries those HQ has not acknowledged yet, so its size
grows with what changed, not with the grant's history. What HQ acknowledged is remembered for
this run only: after a restart the first report of a grant carries its whole skip set again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field, replace

from allocator import BlanksReported, DomainError, NumberRange, RangeSet
from branch_agent import wire
from branch_agent.hq.client import HqPort
from branch_agent.ledger.store import Ledger
from branch_agent.model import GrantUsageRow
from branch_agent.tasks import nap, raise_if_cancelling
from runtime.clock import Clock
from runtime.errors import RateLimited
from runtime.logs import Repeating

log = logging.getLogger(__name__)
GRANTS_PER_REPORT = 500
MAX_ROUNDS = 100  # pages of one flush; a branch holds far fewer grants than this covers


@dataclass
class Reporter:
    branch_ban: str
    ledger: Ledger
    hq: HqPort
    clock: Clock
    interval: float = 10.0
    sent: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _report_id: str = ""
    _acknowledged: dict[str, RangeSet] = field(default_factory=dict)  # skips HQ has, by grant
    _log: Repeating = field(default_factory=lambda: Repeating(log, "usage report"))

    def wake(self) -> None:
        """Report now (a grant became final)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            pause = self.interval
            try:
                await self.flush()
                self._log.recovered()
            except RateLimited as error:
                raise_if_cancelling()
                pause = max(pause, error.retry_after)  # HQ said when: not before
                self._log.failed(error, note="held back by HQ's rate limit")
            except DomainError as error:
                raise_if_cancelling()
                self._log.failed(error, note="will retry")
            except Exception as error:
                raise_if_cancelling()
                self._log.failed(error, logging.ERROR, exc_info=True)
            await nap(self._wake, pause)

    async def flush(self) -> int:
        """Send every changed grant; returns how many grant states HQ acknowledged."""
        acknowledged, after = 0, 0
        for _ in range(MAX_ROUNDS):
            rows = await asyncio.to_thread(self.ledger.unreported, GRANTS_PER_REPORT, after)
            if not rows:
                break
            # A retry of an unacknowledged report keeps its id (for tracing at HQ).
            self._report_id = self._report_id or str(uuid.uuid4())
            news = [self._news(row) for row in rows]
            report = wire.usage_report(self._report_id, self.branch_ban, news, self.clock.now())
            try:
                await self.hq.report_usage(report)
            except BlanksReported as error:
                await self._give_up_late_change(rows, error)
                continue  # the same page again, without that grant's change
            self._report_id = ""
            after = rows[-1].seq
            await asyncio.to_thread(
                self.ledger.mark_reported, [(row.grant_id, row.version) for row in rows]
            )
            self._remember(rows)
            acknowledged += len(rows)
            self.sent += 1
        return acknowledged

    def _news(self, row: GrantUsageRow) -> GrantUsageRow:
        """The row with only the skips HQ has not acknowledged."""
        known = self._acknowledged.get(row.grant_id)
        if not known:
            return row
        news = skip_set(row) - known
        return replace(row, skipped=tuple((span.begin, span.end) for span in news))

    def _remember(self, rows: list[GrantUsageRow]) -> None:
        for row in rows:
            if row.final:  # it changes no more
                self._acknowledged.pop(row.grant_id, None)
            else:
                self._acknowledged[row.grant_id] = skip_set(row)

    async def _give_up_late_change(self, rows: list[GrantUsageRow], error: BlanksReported) -> None:
        """HQ keeps what its E0402 reported: stop sending this grant's later change (the ledger
        keeps it, and the error goes to the log for HQ to decide on a correction)."""
        grant_id = getattr(error, "metadata", {}).get("grant_id")
        late = next((row for row in rows if row.grant_id == grant_id), None)
        if late is None:
            raise error
        log.error("HQ refused a late usage change: %s", error)
        await asyncio.to_thread(self.ledger.mark_reported, [(late.grant_id, late.version)])


def skip_set(row: GrantUsageRow) -> RangeSet:
    return RangeSet.of(NumberRange(begin, end) for begin, end in row.skipped)
