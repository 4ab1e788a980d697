"""HQ's Prometheus metrics: its own registry, the hot paths' hooks, and state read at scrape time.

Hooks (runtime.metrics ports): each shared write transaction (the store's group commit), each
RequestRange and each batch of grants decided together (Hq.write_together). Everything else is
read when Prometheus scrapes, at most once per REFRESH_SECONDS (or READ_SHARE of the time)
however many scrapers ask, in a worker thread on the read engine: pools (assigned, granted,
issued, blank, free), the alert conditions the notifier's own pure rules find now (the same
functions that decide its mails, so Prometheus and the mails never disagree), the alerts it has
open, E0402 days left, the stored fencing token.

Cardinality at 10,000 branches: no per-branch series but the TOPN_LAG branches heard from
longest ago. The usage-report lag of all branches is one gauge histogram (how many branches
have not been heard from for at most 15 s, 1 min, ... 1 day), so a dashboard shows the spread
and an alert can count the silent ones, in a dozen series whatever the chain's size.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as CounterMetric
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import Connection, func, select

from allocator import BOOKLET_SIZE, DomainError, Period
from hq_server.app import Hq
from hq_server.coordinator import EtcdSession
from hq_server.grant_batch import GrantRecord
from hq_server.queries import list_pools, reconcile
from hq_server.schema import leadership
from notifier import rules
from notifier.config import Thresholds
from notifier.model import Kind, ReportState, Snapshot
from notifier.outbox import OPEN, conditions
from notifier.ports import HqState
from runtime import pki
from runtime.metrics import BATCH_BUCKETS, SECONDS_BUCKETS
from runtime.metrics.server import (
    Cached,
    MetricsListen,
    MetricsServer,
    histogram,
    mutual_tls,
    needs_tls,
)
from runtime.tls import is_loopback, server_tls

T = TypeVar("T")
REFRESH_SECONDS = 5.0
# ... and at most 5% of the time: at 10,000 branches one read costs about 2 s of CPU
# (bench/web.py's seed), so it is then kept for 40 s. Counters and histograms stay live.
READ_SHARE = 0.05
TOPN_LAG = 10
LAG_BUCKETS = (15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 6 * 3600.0, 86400.0)


@dataclass(frozen=True, slots=True)
class PoolFigures:
    year_month: str
    invoice_type: str
    assigned: int
    granted: int
    issued: int
    blank: int
    free: int  # in enabled ranges, not granted
    closed: bool
    burn_per_hour: float  # summed over its branches (current period only)
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class HqView:
    """What one read of the database found (db_up False: the read failed; nothing else)."""

    db_up: bool
    read_seconds: float
    pools: tuple[PoolFigures, ...] = ()
    snapshot: Snapshot | None = None
    conditions: Mapping[str, int] = field(default_factory=dict)  # kind -> holding now (rules)
    alerts_open: Mapping[str, int] = field(default_factory=dict)  # kind -> open in the table
    fencing_token: int = 0
    online: int | None = None  # branches with a config stream open (cluster mode only)


def read_view(conn: Connection, now: datetime, thresholds: Thresholds, state: HqState) -> HqView:
    """One consistent look at HQ's state (a handful of set-wise queries, 10,000 branches too)."""
    started = time.perf_counter()
    snapshot = state.snapshot(conn, now)
    period = snapshot.period
    burn = {(p.year_month, p.invoice_type): p.burn_per_hour for p in snapshot.pools}
    pools = tuple(
        figures
        for when in (period.previous(), period, period.next())
        for figures in pool_figures(conn, when, burn)
    )
    holding = Counter(alert.kind.value for alert in rules.evaluate(snapshot, thresholds))
    opened = conn.execute(
        select(conditions.c.kind, func.count())
        .where(conditions.c.state == OPEN)
        .group_by(conditions.c.kind)
    ).all()
    token = conn.execute(select(leadership.c.fencing_token)).scalar()
    return HqView(
        True,
        time.perf_counter() - started,
        pools,
        snapshot,
        dict(holding),
        {kind: int(count) for kind, count in opened},
        int(token or 0),
    )


def pool_figures(
    conn: Connection, period: Period, burn: Mapping[tuple[str, str], float]
) -> list[PoolFigures]:
    accounts: dict[tuple[str, str], list[int]] = {}
    for track in reconcile(conn, period.to_year_month()):
        sums = accounts.setdefault((track.key.year_month, track.key.type_code), [0, 0])
        sums[0] += track.issued
        sums[1] += track.blank
    result = []
    for view in list_pools(conn, period.to_year_month()):
        key = (view.key.year_month, view.key.type_code)
        issued, blank = accounts.get(key, [0, 0])
        result.append(
            PoolFigures(
                *key,
                view.assigned,
                view.granted,
                issued,
                blank,
                view.free,
                view.closed,
                burn.get(key, 0.0),
                period.end(),
            )
        )
    return result


class HqCollector:
    """HQ's state as gauges; the database part from the last `refresh`."""

    def __init__(self, hq: Hq, thresholds: Thresholds, state: HqState) -> None:
        self.hq = hq
        self._thresholds = thresholds
        self._state = state
        self._view = Cached(self._read, REFRESH_SECONDS, READ_SHARE)

    async def refresh(self) -> None:
        await self._view.refresh()

    async def _read(self) -> HqView:
        started = time.perf_counter()
        now = self.hq.now()
        try:
            view = await self.hq.read(
                lambda conn: read_view(conn, now, self._thresholds, self._state)
            )
        except Exception:  # the database is away: say so, and show no stale figures
            return HqView(False, time.perf_counter() - started)
        try:
            online = await asyncio.wait_for(self.hq.presence.online(), 1.0)
        except (TimeoutError, DomainError, OSError):
            online = None
        return replace(view, online=None if online is None else len(online))

    def collect(self) -> Iterator[Metric]:
        yield from self._leadership()
        view: HqView | None = self._view.value
        if view is None:
            return
        yield gauge("einv_hq_db_up", "1 if the last read of the HQ database worked", view.db_up)
        yield gauge(
            "einv_hq_metrics_read_seconds",
            "How long the last read of the state behind these metrics took",
            view.read_seconds,
        )
        if not view.db_up or view.snapshot is None:
            return
        yield gauge(
            "einv_hq_fencing_token",
            "The fencing token stored (the term in office)",
            view.fencing_token,
        )
        yield from pool_metrics(view.pools)
        yield from branch_metrics(view.snapshot, view.online)
        yield from alert_metrics(view)

    def _leadership(self) -> Iterator[Metric]:
        coordinator = self.hq.coordinator
        try:
            coordinator.token()
            leading = True
        except DomainError:
            leading = False
        info = GaugeMetricFamily("einv_hq_info", "This HQ", labels=["head_ban", "mode"])
        info.add_metric(
            [self.hq.head_ban, "etcd" if isinstance(coordinator, EtcdSession) else "local"], 1
        )
        yield info
        yield gauge("einv_hq_leader", "1 while this replica leads (its writes commit)", leading)
        if isinstance(coordinator, EtcdSession):
            yield gauge(
                "einv_hq_etcd_session",
                "1 while this replica's etcd lease is alive (etcd reachable, with quorum)",
                coordinator.has_session(),
            )


def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=float(value))


POOL_LABELS = ["year_month", "invoice_type"]
POOL_GAUGES = (
    ("assigned_numbers", "Numbers the MOF assigned to the pool", lambda p: p.assigned),
    ("granted_numbers", "Numbers of the pool granted to branches", lambda p: p.granted),
    ("issued_numbers", "Numbers branches reported issued", lambda p: p.issued),
    ("blank_numbers", "Numbers blank (skipped; once closed, all unused)", lambda p: p.blank),
    ("free_numbers", "Numbers in enabled ranges not granted yet", lambda p: p.free),
    (
        "free_booklets",
        "Booklets of 50 in enabled ranges not granted yet",
        lambda p: p.free // BOOKLET_SIZE,
    ),
    (
        "burn_per_hour",
        "Numbers its branches issue per hour (current period)",
        lambda p: p.burn_per_hour,
    ),
    ("closed", "1 once the period is closed for its blank report", lambda p: p.closed),
    (
        "ends_timestamp_seconds",
        "When the pool's period ends (UNIX time)",
        lambda p: p.ends_at.timestamp(),
    ),
)


def pool_metrics(pools: tuple[PoolFigures, ...]) -> Iterator[Metric]:
    for suffix, text, value in POOL_GAUGES:
        family = GaugeMetricFamily(f"einv_hq_pool_{suffix}", text, labels=POOL_LABELS)
        for pool in pools:
            family.add_metric([pool.year_month, pool.invoice_type], float(value(pool)))
        yield family


def branch_metrics(snap: Snapshot, online: int | None) -> Iterator[Metric]:
    branches = GaugeMetricFamily("einv_hq_branches", "Branches by state", labels=["state"])
    enabled = sum(b.enabled for b in snap.branches)
    branches.add_metric(["enabled"], enabled)
    branches.add_metric(["disabled"], len(snap.branches) - enabled)
    if online is not None:
        branches.add_metric(["online"], online)
    yield branches
    lags = report_lags(snap)
    counts = [sum(lag <= bound for _, lag in lags) for bound in LAG_BUCKETS]
    yield GaugeHistogramMetricFamily(
        "einv_hq_report_lag_seconds",
        "Enabled branches holding numbers, by seconds since HQ last heard from them",
        buckets=[*zip(map(str, LAG_BUCKETS), counts, strict=True), ("+Inf", len(lags))],
        gsum_value=sum(lag for _, lag in lags),
    )
    top = GaugeMetricFamily(
        "einv_hq_report_lag_top_seconds",
        f"The {TOPN_LAG} branches holding numbers heard from longest ago",
        labels=["branch_ban"],
    )
    for ban, lag in sorted(lags, key=lambda item: (-item[1], item[0]))[:TOPN_LAG]:
        top.add_metric([ban], lag)
    yield top


def report_lags(snap: Snapshot) -> list[tuple[str, float]]:
    """(BAN, seconds since heard) of the enabled branches holding numbers (as branch_silent)."""
    return [
        (b.ban, max(0.0, (snap.now - heard).total_seconds()))
        for b in snap.branches
        if b.enabled and b.held > 0 and (heard := b.last_heard) is not None
    ]


def alert_metrics(view: HqView) -> Iterator[Metric]:
    holding = GaugeMetricFamily(
        "einv_hq_conditions",
        "Alert conditions the notifier's rules find in the state now, by kind",
        labels=["kind"],
    )
    opened = GaugeMetricFamily(
        "einv_hq_alerts_open", "Alerts open in the notifier's table, by kind", labels=["kind"]
    )
    for kind in Kind:
        holding.add_metric([kind.value], view.conditions.get(kind.value, 0))
        opened.add_metric([kind.value], view.alerts_open.get(kind.value, 0))
    yield holding
    yield opened
    snap = view.snapshot
    assert snap is not None
    days = GaugeMetricFamily(
        "einv_hq_e0402_days_left",
        "Days until an ended period's E0402 blank report is due (negative: overdue), for "
        "every pool whose report is not confirmed",
        labels=POOL_LABELS,
    )
    for pool, status in sorted(snap.reports.items()):
        if status.state is not ReportState.CONFIRMED:
            left = pool.period.blank_report_days_left(snap.now)
            days.add_metric([pool.year_month, pool.type_code], left)
    yield days


class HqMetrics:
    """HQ's registry and the hooks of its hot paths (runtime.metrics ports)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.grants = CounterMetric(
            "einv_hq_grants", "RequestRange calls by outcome", ["outcome"], registry=r
        )
        self.refusals = CounterMetric(
            "einv_hq_grant_refusals",
            "RequestRange calls refused, by reason",
            ["reason"],
            registry=r,
        )
        self.booklets = CounterMetric(
            "einv_hq_granted_booklets", "Booklets granted to branches", registry=r
        )
        self.grant_seconds = histogram(
            r,
            "einv_hq_grant_seconds",
            "RequestRange: queued, decided and committed",
            SECONDS_BUCKETS,
        )
        self.grant_batch = histogram(
            r,
            "einv_hq_grant_batch_size",
            "RequestRange calls decided together (one read of the pools, one savepoint)",
            BATCH_BUCKETS,
        )
        self.commit_seconds = histogram(
            r,
            "einv_hq_db_commit_seconds",
            "One shared write transaction (fence check to commit)",
            SECONDS_BUCKETS,
        )
        self.commit_batch = histogram(
            r, "einv_hq_db_batch_size", "Use cases sharing one write transaction", BATCH_BUCKETS
        )
        for outcome in ("granted", "replayed", "refused"):
            self.grants.labels(outcome)

    def committed(self, size: int, seconds: float) -> None:
        self.commit_seconds.observe(seconds)
        self.commit_batch.observe(size)

    def batched(self, size: int) -> None:
        self.grant_batch.observe(size)

    async def observe(self, request: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            result = await request
        except Exception as error:
            self.grants.labels("refused").inc()
            self.refusals.labels(getattr(error, "reason", type(error).__name__)).inc()
            raise
        finally:
            self.grant_seconds.observe(time.perf_counter() - started)
        if isinstance(result, GrantRecord) and not result.replayed:
            self.grants.labels("granted").inc()
            self.booklets.inc(result.booklets)
        else:
            self.grants.labels("replayed").inc()
        return result

    async def serve(self, hq: Hq, listen: MetricsListen, state: HqState) -> MetricsServer:
        """`state`: the notifier's view of HQ (hq_server.alert_state), as the server made it."""
        thresholds = hq.notifier_config.thresholds if hq.notifier_config else Thresholds()
        collector = HqCollector(hq, thresholds, state)
        self.registry.register(collector)
        server = MetricsServer(self.registry, listen, collector.refresh)
        await server.start()
        return server


def listen_of(address: str | None, certs_dir: Path | None) -> MetricsListen | None:
    """Plain HTTP on loopback; elsewhere HTTPS with hq.crt, to admin certificates of ca.crt."""
    if address is None:
        return None
    if is_loopback(address):
        return MetricsListen(address, None)
    if certs_dir is None:
        raise needs_tls(address, "--insecure has none: give --certs-dir")
    try:
        server_tls(certs_dir)  # checked as the gRPC server checks it: a pair, current, of ca.crt
        context = mutual_tls(
            certs_dir / pki.CA_CERT, certs_dir / pki.HQ_CERT, certs_dir / pki.HQ_KEY
        )
    except (ssl.SSLError, OSError, DomainError) as error:
        raise needs_tls(
            address, f"the TLS material of --certs-dir cannot be used ({error})"
        ) from None
    return MetricsListen(address, context)
