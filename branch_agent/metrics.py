"""The agent's Prometheus metrics: its own registry, the hot paths' hooks, a state collector.

The hooks (NextNumbers, ledger commits) observe histograms; everything else is read from the
agent's state when Prometheus scrapes, on the event loop that owns that state: numbers left,
burn rate, minutes to empty, HQ reachable, refills failing. Only the count of usage reports
pending needs the ledger, and it is read in a worker thread just before.

Metrics beyond loopback are served over TLS with the agent's LAN server certificate
(`einv-agent pos-certs init`, in `<data>/pos-tls/`) to HQ admin certificates, checked against
the HQ's CA the agent enrolled with (`<data>/tls/ca.crt`).
"""

from __future__ import annotations

import asyncio
import math
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from allocator import DomainError, InvoiceType, Period
from branch_agent.buffer.burn import BurnMeter
from branch_agent.buffer.state import BufferState
from branch_agent.hq import identity
from branch_agent.hq.client import HqHealth
from branch_agent.pos import tls as pos_tls
from runtime import pki
from runtime.clock import Clock
from runtime.metrics import BATCH_BUCKETS, SECONDS_BUCKETS
from runtime.metrics.server import MetricsListen, MetricsServer, histogram, mutual_tls, needs_tls
from runtime.tls import is_loopback


class RefillErrors(Protocol):
    def last_error(self, period: Period, invoice_type: InvoiceType) -> DomainError | None: ...


@dataclass(frozen=True, slots=True)
class AgentSources:
    """What the collector reads at scrape time (the agent's own objects)."""

    branch_ban: str
    types: Sequence[InvoiceType]
    state: BufferState
    burn: BurnMeter
    health: HqHealth
    refills: RefillErrors
    clock: Clock
    reports_pending: Callable[[], int]  # blocks (the ledger): called in a worker thread


class AgentCollector:
    """The agent's state as gauges, read at scrape time."""

    def __init__(self, sources: AgentSources) -> None:
        self.sources = sources
        self.pending = 0

    async def refresh(self) -> None:
        self.pending = await asyncio.to_thread(self.sources.reports_pending)

    def collect(self) -> Iterator[Metric]:
        src = self.sources
        now = src.clock.now()
        current = Period.containing(now)
        info = GaugeMetricFamily("einv_agent_info", "This agent's branch", labels=["branch_ban"])
        info.add_metric([src.branch_ban], 1)
        yield info
        left = GaugeMetricFamily(
            "einv_agent_numbers_left",
            "Numbers the agent holds and may still issue, per period and invoice type",
            labels=["year_month", "invoice_type"],
        )
        burn = GaugeMetricFamily(
            "einv_agent_burn_per_minute",
            "Numbers issued per minute lately (10-minute window)",
            labels=["invoice_type"],
        )
        empty = GaugeMetricFamily(
            "einv_agent_minutes_to_empty",
            "Minutes until the current period's numbers run out at the burn rate (+Inf: no burn)",
            labels=["invoice_type"],
        )
        failing = GaugeMetricFamily(
            "einv_agent_refill_failing",
            "1 while the last refill of the current period failed (HQ away or refused)",
            labels=["invoice_type"],
        )
        for invoice_type in src.types:
            code = invoice_type.value
            remaining = src.state.remaining(current, invoice_type)
            left.add_metric([current.to_year_month(), code], remaining)
            ahead = src.state.remaining(current.next(), invoice_type)
            if ahead:
                left.add_metric([current.next().to_year_month(), code], ahead)
            rate = src.burn.per_minute(invoice_type, now)
            burn.add_metric([code], rate)
            empty.add_metric([code], minutes_to_empty(remaining, rate))
            failing.add_metric(
                [code], float(src.refills.last_error(current, invoice_type) is not None)
            )
        yield from (left, burn, empty, failing)
        yield CounterMetricFamily(
            "einv_agent_numbers_issued",
            "Numbers handed to POS terminals over the ledger's life (given back ones included)",
            value=src.state.issued_total,
        )
        yield GaugeMetricFamily(
            "einv_agent_hq_reachable",
            "1 if HQ answered the last call",
            value=float(src.health.reachable),
        )
        since = src.health.unreachable_since
        yield GaugeMetricFamily(
            "einv_agent_hq_unreachable_seconds",
            "Seconds since HQ stopped answering (0 while it answers)",
            value=0.0 if since is None else max(0.0, (now - since).total_seconds()),
        )
        yield GaugeMetricFamily(
            "einv_agent_reports_pending",
            "Grants whose usage HQ has not acknowledged yet (the report outbox)",
            value=self.pending,
        )


def minutes_to_empty(remaining: int, per_minute: float) -> float:
    if remaining <= 0:
        return 0.0
    return remaining / per_minute if per_minute > 0 else math.inf


class AgentMetrics:
    """The agent's registry and the hooks of its hot paths (runtime.metrics ports)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.next_numbers = histogram(
            self.registry,
            "einv_agent_next_numbers_seconds",
            "NextNumbers served: from the request to the durable reply",
            SECONDS_BUCKETS,
        )
        self.commit_seconds = histogram(
            self.registry,
            "einv_agent_ledger_commit_seconds",
            "One group commit of the ledger: the batch applied and fsynced",
            SECONDS_BUCKETS,
        )
        self.batch_size = histogram(
            self.registry,
            "einv_agent_ledger_batch_size",
            "Changes (POS calls, grants, give-backs) sharing one commit",
            BATCH_BUCKETS,
        )
        self.collector: AgentCollector | None = None

    def committed(self, size: int, seconds: float) -> None:
        self.commit_seconds.observe(seconds)
        self.batch_size.observe(size)

    def handed_out(self, count: int, seconds: float) -> None:
        self.next_numbers.observe(seconds)

    async def serve(self, listen: MetricsListen, sources: AgentSources) -> MetricsServer:
        self.collector = AgentCollector(sources)
        self.registry.register(self.collector)
        server = MetricsServer(self.registry, listen, self.collector.refresh)
        await server.start()
        return server


def listen_of(address: str | None, data_dir: Path, enrolled: bool) -> MetricsListen | None:
    """Plain HTTP on loopback; elsewhere the LAN server certificate, admins of the HQ's CA."""
    if address is None:
        return None
    if is_loopback(address):
        return MetricsListen(address, None)
    if not enrolled:
        raise needs_tls(address, "an agent without an enrolled identity has no HQ CA to check them")
    folder = pos_tls.folder(data_dir)
    cert, key = folder / f"{pos_tls.SERVER}.crt", folder / f"{pos_tls.SERVER}.key"
    if not cert.exists():
        raise needs_tls(
            address, f"{cert} is missing: make it with einv-agent pos-certs init --data DIR --host"
        )
    try:
        pos_tls.server_tls(data_dir)  # the pair is checked: current, and of the POS CA
        context = mutual_tls(identity.tls_dir(data_dir) / pki.CA_CERT, cert, key)
    except (ssl.SSLError, OSError, DomainError) as error:
        raise needs_tls(address, f"its TLS material cannot be used ({error})") from None
    return MetricsListen(address, context)
