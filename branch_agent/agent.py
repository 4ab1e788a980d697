"""One branch agent put together: ledger, writer, refill, reports, config, POS server.

Tests start it in-process (`Agent(settings).start()`); the CLI runs the same object until
SIGTERM. Stopping closes the ledger, so a new `Agent` on the same data dir is a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc

from allocator import Ban, InvalidInput, InvoiceType, Period
from branch_agent.buffer.burn import BurnMeter
from branch_agent.buffer.refill import Refiller, RefillTiming
from branch_agent.buffer.state import BufferState
from branch_agent.hq import identity as ident
from branch_agent.hq.client import HqClient, HqPort
from branch_agent.hq.config_watch import ConfigWatcher
from branch_agent.hq.renewal import Renewal
from branch_agent.hq.reporter import Reporter
from branch_agent.ledger.store import Ledger
from branch_agent.ledger.writer import Writer
from branch_agent.metrics import AgentMetrics, AgentSources, listen_of
from branch_agent.pos import tls as pos_tls
from branch_agent.pos.numbers import AgentService
from branch_agent.pos.service import PosHealth, build_server
from branch_agent.tasks import cancel_all
from runtime.clock import Clock, SystemClock
from runtime.metrics import NO_METRICS
from runtime.metrics.server import MetricsServer
from runtime.tls import is_loopback, require_secure_or_loopback

log = logging.getLogger(__name__)
POS_REQUEST_KEEP = timedelta(days=2)


@dataclass(frozen=True)
class AgentSettings:
    branch_ban: str | None  # None: the BAN of the enrolled identity
    hq_addresses: tuple[str, ...]
    data_dir: Path
    listen: str = "127.0.0.1:50061"
    lan_listen: str | None = None  # POS on the store LAN: mutual TLS with terminal certificates
    insecure: bool = False  # talk to an HQ started with --insecure (loopback only)
    types: tuple[InvoiceType, ...] = (InvoiceType.GENERAL,)
    report_interval: float = 10.0
    prefetch_before: timedelta = timedelta(days=2)
    hq_timeout: float = 5.0
    refill_tick: float = 0.5
    metrics_listen: str | None = None  # Prometheus /metrics (see branch_agent.metrics)
    clock: Clock = field(default_factory=SystemClock)


@dataclass
class _Parts:
    ledger: Ledger
    state: BufferState
    writer: Writer
    hq: HqPort
    refiller: Refiller
    reporter: Reporter
    service: AgentService


class Agent:
    """Start with `await start()` (returns the POS address), end with `await stop()`."""

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.address = ""
        self._parts: _Parts | None = None
        self.renewal: Renewal | None = None
        self._server: grpc.aio.Server | None = None
        self._health: PosHealth | None = None
        self.metrics: MetricsServer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def parts(self) -> _Parts:
        if self._parts is None:
            raise RuntimeError("the agent is not running")
        return self._parts

    async def start(self) -> str:
        settings = self.settings
        identity, ban = await asyncio.to_thread(who_am_i, settings)
        require_secure_or_loopback(settings.listen, secure=False, flag="--lan-listen")
        lan_tls = pos_tls.server_tls(settings.data_dir) if settings.lan_listen else None
        metrics_listen = listen_of(settings.metrics_listen, settings.data_dir, identity is not None)
        metrics = AgentMetrics() if metrics_listen else None
        clock = settings.clock
        ledger = await asyncio.to_thread(Ledger.open, settings.data_dir, ban)
        await asyncio.to_thread(ledger.prune_pos_requests, clock.now() - POS_REQUEST_KEEP)
        state = BufferState(await asyncio.to_thread(ledger.load))
        writer = Writer(ledger, state, clock, metrics or NO_METRICS)
        hq = HqClient(
            settings.hq_addresses,
            clock,
            settings.hq_timeout,
            identity.tls if identity is not None else None,
        )
        burn = BurnMeter(clock.now())
        reporter = Reporter(ban, ledger, hq, clock, settings.report_interval)
        timing = RefillTiming(settings.prefetch_before, settings.refill_tick)
        refiller = Refiller(
            ban, settings.types, state, writer, ledger, hq, clock, burn, timing, reporter.wake
        )
        writer.on_commit(refiller.numbers_went_out)
        watcher = ConfigWatcher(ban, hq, writer, refiller.config_changed)
        service = AgentService(
            ban, settings.types, state, writer, ledger, refiller, hq.health, burn, clock
        )
        service.metrics = metrics or NO_METRICS
        self._parts = _Parts(ledger, state, writer, hq, refiller, reporter, service)
        if metrics is not None and metrics_listen is not None:
            sources = AgentSources(
                ban, settings.types, state, burn, hq.health, refiller, clock, ledger.reports_pending
            )
            self.metrics = await metrics.serve(metrics_listen, sources)
        self._server, self.address, self._health = await build_server(
            service, settings.listen, settings.lan_listen, lan_tls
        )
        jobs = [refiller.run(), reporter.run(), watcher.run(), self._health.run()]
        if identity is not None:
            self.renewal = Renewal(identity, hq, settings.data_dir)
            jobs.append(self.renewal.run())
        for job in jobs:
            self._spawn(job)
        return self.address

    def healthy(self) -> bool:
        """Every background loop still runs (they end only at `stop`: one that ended crashed)."""
        return self._parts is not None and not any(task.done() for task in self._tasks)

    def describe(self) -> str:
        """One line for systemd's STATUS=: what the POS can get, and whether HQ answers."""
        if self._parts is None:
            return "stopped"
        service, health = self._parts.service, self._parts.service.health
        hq = "HQ reachable" if health.reachable else "HQ not reached yet"
        if health.unreachable_since is not None:
            hq = f"HQ unreachable since {health.unreachable_since.isoformat(timespec='seconds')}"
        period = Period.containing(self.settings.clock.now())
        left = sum(service.state.remaining(period, t) for t in service.types)
        return f"serving POS on {self.address}: {left} numbers left for {period}; {hq}"

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(job))

    async def stop(self, grace: float = 1.0) -> None:
        """Finish POS calls in flight, write what is queued, try one last report, close."""
        if self._parts is None:
            return
        parts, self._parts = self._parts, None
        if self._health is not None:
            await self._health.board.shutdown()
        if self._server is not None:
            await self._server.stop(grace)
        if self.metrics is not None:
            await self.metrics.stop()
        left = await cancel_all(self._tasks)
        if left:
            log.error("background tasks did not stop: %s", left)
        self._tasks.clear()
        await parts.writer.stop()
        log.info("ledger: %s commits for %s changes", parts.writer.commits, parts.writer.commands)
        with contextlib.suppress(Exception):  # best effort: the outbox keeps what is not sent
            async with asyncio.timeout(grace):
                await parts.reporter.flush()
        await parts.hq.close()
        await asyncio.to_thread(parts.ledger.close)


def who_am_i(settings: AgentSettings) -> tuple[ident.BranchIdentity | None, str]:
    """The enrolled identity (and its BAN), or with --insecure the BAN given."""
    if settings.insecure:
        for address in settings.hq_addresses:
            if not is_loopback(address):
                raise InvalidInput(
                    f"HQ address {address} is not loopback: --insecure talks plaintext to an HQ "
                    "on this machine only; enrol the store (einv-agent enroll) to reach HQ"
                )
        if settings.branch_ban is None:
            raise InvalidInput("--insecure needs --branch-ban (there is no certificate to name it)")
        return None, Ban.parse(settings.branch_ban).value
    if not ident.enrolled(settings.data_dir):
        raise InvalidInput(
            f"{settings.data_dir} holds no enrolled identity: run einv-agent enroll --hq HQ "
            "--ca-cert ca.crt --token TOKEN --data DIR first (or --insecure for an HQ started "
            "with --insecure on this machine)"
        )
    identity = ident.load(settings.data_dir)
    if settings.branch_ban is not None and Ban.parse(settings.branch_ban).value != identity.ban:
        raise InvalidInput(
            f"--branch-ban {settings.branch_ban} is not the enrolled identity's BAN {identity.ban}"
        )
    return identity, identity.ban
