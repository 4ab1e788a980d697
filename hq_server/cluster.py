"""Cluster mode: an Hq whose leadership, presence and config fan-out go through etcd."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from hq_server.app import Hq
from hq_server.etcd_client import EtcdTls, Keys, connect
from hq_server.etcd_config_bus import EtcdConfigBus
from hq_server.etcd_coordinator import EtcdCoordinator
from hq_server.etcd_presence import EtcdPresence
from hq_server.store import Store
from runtime.clock import Clock


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    endpoints: list[tuple[str, int]]
    advertise: str  # the gRPC address other replicas' errors name when this one leads
    lease_ttl: int = 5
    tls: EtcdTls | None = None  # None: plaintext to etcd


@asynccontextmanager
async def cluster_hq(
    store: Store, clock: Clock, head_ban: str, settings: ClusterSettings
) -> AsyncIterator[Hq]:
    """An Hq on one etcd client (closed on the way out)."""
    # An etcd call must fail well inside a lease's life so the keep-alive can retry in time.
    timeout = max(1.0, settings.lease_ttl / 3)
    async with connect(settings.endpoints, timeout, settings.tls) as client:
        keys = Keys(head_ban)
        yield Hq(
            store,
            EtcdCoordinator(client, keys, store, clock, settings.advertise, settings.lease_ttl),
            clock,
            head_ban,
            presence=EtcdPresence(client, keys, settings.advertise, settings.lease_ttl),
            config_bus=EtcdConfigBus(client, keys, settings.advertise),
        )
