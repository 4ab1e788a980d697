"""Cluster fixtures: 3 etcd members on free loopback ports (data in a tmp dir, never the system
service), a fresh PostgreSQL database, and HQ replicas as real subprocesses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from demo.cluster import (
    EtcdCluster,
    Replica,
    etcd_binary,
    fresh_database,
    postgres_reachable,
    replica_args,
)
from demo.procs import free_port
from tests.cluster.clients import leadership
from tests.conftest import HEAD_BAN

LEASE_TTL = 2  # seconds; the product's default is 5, tests keep failovers short
SIM_START = "2026-11-23T10:00:00+08:00"  # period 11512 is open, whatever today's date


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not postgres_reachable():
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432: cluster tests need it")
    with fresh_database() as url:
        yield url


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdCluster]:
    if etcd_binary() is None:
        pytest.fail("etcd is not installed: run scripts/setup, which installs etcd-server")
    cluster = EtcdCluster(tmp_path / "etcd")
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@dataclass
class HqCluster:
    etcd: EtcdCluster
    db_url: str
    replicas: list[Replica]
    engine: Engine
    sim: list[str]
    lease_ttl: int = LEASE_TTL

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.replicas]

    def leader(self) -> Replica:
        """The replica whose token is stored in the database now."""
        held = leadership(self.engine)
        for replica in self.replicas:
            if held is not None and held[0] == replica.address:
                return replica
        raise AssertionError(f"no replica holds office (stored: {held})")

    def other(self, replica: Replica) -> Replica:
        return next(r for r in self.replicas if r is not replica)

    async def wait_leader(self, instead_of: Replica | None = None, timeout: float = 15) -> Replica:
        """Poll the stored token until a replica (other than `instead_of`) holds office."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            held = await asyncio.to_thread(leadership, self.engine)
            if held is not None and (instead_of is None or held[0] != instead_of.address):
                return next(r for r in self.replicas if r.address == held[0])
            await asyncio.sleep(0.05)
        raise AssertionError(f"no new leader within {timeout} s")


@pytest.fixture
def hq_cluster(tmp_path: Path, etcd: EtcdCluster, pg_url: str) -> Iterator[HqCluster]:
    sim = ["--sim-start", SIM_START, "--sim-epoch", str(time.time())]
    args = replica_args(HEAD_BAN, pg_url, etcd.endpoints, LEASE_TTL, ["--insecure", *sim])
    replicas = [
        Replica(name, f"127.0.0.1:{free_port()}", args, tmp_path / "hq") for name in ("a", "b")
    ]
    engine = create_engine(pg_url)
    try:
        for replica in replicas:
            replica.start()
        cluster = HqCluster(etcd, pg_url, replicas, engine, sim)
        deadline = time.monotonic() + 15
        while leadership(engine) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        yield cluster
    finally:
        for replica in replicas:
            replica.stop()
        engine.dispose()
