"""The HQ application: store + coordinator + clock + config fan-out, shared by the servicers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection

from allocator import DomainError, RefillPolicy
from hq_server.admin_ops import apply_due_quotas
from hq_server.branch_ops import prune_samples
from hq_server.config_bus import ConfigBus, LocalConfigBus
from hq_server.coordinator import Coordinator
from hq_server.enrolment import Signer
from hq_server.presence import NoPresence, Presence
from hq_server.reports import ReportSettings
from hq_server.store import Store
from notifier.config import NotifierConfig
from runtime.clock import Clock
from runtime.errors import Fenced
from runtime.metrics import NO_METRICS, GrantObserver
from runtime.principal import SCHEDULER
from runtime.ratelimit import BucketSize
from runtime.tls import Tls

T = TypeVar("T")
log = logging.getLogger("einv.hq")
QUOTA_TICK_SECONDS = 1.0
CONFIG_PUBLISH_TIMEOUT = 1.0


def scheduled_work(conn: Connection, now: datetime) -> list[str]:
    """The scheduler's tick: the branches whose quota changed."""
    prune_samples(conn, now)
    return apply_due_quotas(conn, now, SCHEDULER.actor)


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Token buckets per authenticated caller. A branch makes a few calls a minute; the sizes
    leave room for a refill storm after an outage, and 10,000 branches at a period start each
    have a bucket of their own."""

    branch: BucketSize = field(default_factory=lambda: BucketSize(burst=60, per_second=20))
    admin: BucketSize = field(default_factory=lambda: BucketSize(burst=100, per_second=50))
    enrollee: BucketSize = field(default_factory=lambda: BucketSize(burst=5, per_second=1))


class ConfigHub:
    """Wakes every open WatchConfig stream of a branch when its configuration may have changed."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}

    @contextlib.contextmanager
    def subscribe(self, ban: str) -> Any:
        event = asyncio.Event()
        self._waiters.setdefault(ban, set()).add(event)
        try:
            yield event
        finally:
            self._waiters[ban].discard(event)

    def notify(self, bans: list[str] | None = None) -> None:
        targets = self._waiters.keys() if bans is None else bans
        for ban in list(targets):
            for event in self._waiters.get(ban, ()):
                event.set()


@dataclass
class Hq:
    store: Store
    coordinator: Coordinator
    clock: Clock
    head_ban: str
    default_refill: RefillPolicy = field(default_factory=RefillPolicy)
    hub: ConfigHub = field(default_factory=ConfigHub)
    presence: Presence = field(default_factory=NoPresence)
    config_bus: ConfigBus = field(default_factory=LocalConfigBus)
    reports: ReportSettings = field(default_factory=ReportSettings)
    notifier_config: NotifierConfig | None = None
    tls: Tls | None = None  # None: --insecure (loopback only, nobody authenticated)
    signer: Signer = field(default_factory=lambda: Signer(None))
    limits: RateLimits = field(default_factory=lambda: RateLimits())
    grant_observer: GrantObserver = NO_METRICS  # metrics of RequestRange (hq_server.metrics)

    def now(self) -> datetime:
        return self.clock.now()

    async def write(self, work: Callable[[Connection, datetime], T]) -> T:
        """Run a use case in one fenced transaction with this replica's token, at `now`."""
        token = self.coordinator.token()
        now = self.now()
        return await self._fenced(self.store.write(token, lambda conn: work(conn, now)))

    async def write_together(
        self,
        item: Any,
        work: Callable[[Connection, datetime, int, list[Any]], list[Any]],
        batched: Callable[[int], None] | None = None,
    ) -> Any:
        """A use case deciding `item` together with the same use case's items queued beside
        it (the period-start burst of grants, usage reports), in one fenced savepoint: its
        result. `batched` is told each batch's size (metrics)."""
        token = self.coordinator.token()

        def decide(conn: Connection, items: list[Any]) -> list[Any]:
            if batched is not None:
                batched(len(items))
            return work(conn, self.now(), token, items)

        return await self._fenced(self.store.write_together(token, work, item, decide))

    async def _fenced(self, writing: Awaitable[T]) -> T:
        try:
            return await writing
        except Fenced:
            self.coordinator.fenced()
            raise

    async def read(self, work: Callable[[Connection], T]) -> T:
        return await self.store.read(work)

    async def config_changed(self, bans: list[str] | None = None) -> None:
        """After a committed config change: wake this replica's streams, then the others'.

        Telling the other replicas is best effort: their streams re-read every
        CONFIG_POLL_SECONDS anyway, and the change itself is already committed.
        """
        self.hub.notify(bans)
        try:
            await asyncio.wait_for(self.config_bus.publish(bans), CONFIG_PUBLISH_TIMEOUT)
        except Exception as error:  # etcd away: the change is committed; the poll catches up
            log.warning("could not tell the other replicas of a config change: %s", error)

    async def run_quota_scheduler(self) -> None:
        """Apply scheduled quotas when their time comes and tell the agents at once; drop the
        usage samples the burn rates no longer look at."""
        while True:
            await asyncio.sleep(QUOTA_TICK_SECONDS)
            with contextlib.suppress(DomainError):
                changed = await self.write(scheduled_work)
                if changed:
                    await self.config_changed(changed)
