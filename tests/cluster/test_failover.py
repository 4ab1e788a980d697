"""Leader failover under load, and fencing of a paused ex-leader by the database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from dataclasses import dataclass, field

import grpc
import pytest
from sqlalchemy import text

from demo.cluster import valid_bans
from protos.einvoice.v1 import branch_pb2
from tests.cluster.clients import (
    HqClients,
    leadership,
    overlapping_grants,
    range_request,
    setup_pool,
    stored_grants,
)
from tests.cluster.conftest import HqCluster

pytestmark = pytest.mark.cluster


@dataclass
class Outcomes:
    """What the clients were told, by request id."""

    granted: dict[str, branch_pb2.Grant] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


async def request_loop(
    clients: HqClients, ban: str, stop: asyncio.Event, got: Outcomes, timeout: float = 20.0
) -> None:
    """Ask for one booklet after another, following the leader, until told to stop."""
    n = 0
    while not stop.is_set():
        rid = f"{ban}-{n}"
        got.granted[rid] = await clients.request_range(ban, rid, timeout)
        n += 1


def assert_stored_as_told(cluster: HqCluster, got: Outcomes) -> None:
    """No overlap anywhere; every grant a client got is stored; no refused one is."""
    assert overlapping_grants(cluster.engine) == []
    stored = stored_grants(cluster.engine)
    for rid, grant in got.granted.items():
        assert stored[rid] == (grant.grant_id, grant.range.begin, grant.range.end)
    assert not set(got.refused) & set(stored)


async def test_killing_the_leader_under_load_fails_over_within_the_lease(
    hq_cluster: HqCluster,
) -> None:
    bans = valid_bans(4)
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, bans)
    old = hq_cluster.leader()
    stop, got = asyncio.Event(), Outcomes()
    loops = [asyncio.create_task(request_loop(clients, ban, stop, got)) for ban in bans]
    await asyncio.sleep(1.0)
    before = len(got.granted)
    killed_at = time.monotonic()
    old.kill9()
    new = await hq_cluster.wait_leader(instead_of=old)
    took = time.monotonic() - killed_at
    while len(got.granted) < before + 40:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*loops)
    await clients.close()
    print(f"failover: {new.name} leads {took:.2f} s after kill -9 of {old.name}")
    assert took <= hq_cluster.lease_ttl + 1.0
    assert_stored_as_told(hq_cluster, got)


async def hammer_one(
    clients: HqClients, address: str, ban: str, stop: asyncio.Event, got: Outcomes
) -> None:
    """Requests straight to one replica, no failover: what that replica answers is recorded."""
    n = 0
    while not stop.is_set():
        rid = f"direct-{ban}-{n}"
        n += 1
        try:
            got.granted[rid] = await clients.branch(address).RequestRange(
                range_request(ban, rid), timeout=60
            )
        except grpc.aio.AioRpcError as error:
            got.refused[rid] = error.details() or ""


async def test_a_paused_leader_is_fenced_by_the_database_and_steps_down(
    hq_cluster: HqCluster,
) -> None:
    bans = valid_bans(13)
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, bans)
    old = hq_cluster.leader()
    _, old_token = leadership(hq_cluster.engine) or ("", 0)
    stop, got = asyncio.Event(), Outcomes()
    loops = [
        asyncio.create_task(hammer_one(clients, old.address, ban, stop, got)) for ban in bans[:12]
    ]
    await asyncio.sleep(1.0)
    old.pause()  # SIGSTOP with requests in flight: they hold the old token
    stop.set()
    new = await hq_cluster.wait_leader(instead_of=old, timeout=hq_cluster.lease_ttl + 15)
    fresh = await clients.branch(new.address).RequestRange(range_request(bans[12], "new-1"))
    old.resume()
    await asyncio.gather(*loops)
    # Refused by the database either way: a transaction that reaches the fence check after the
    # pause fails it ("fenced"); one the pause caught open is ended by PostgreSQL
    # (idle_in_transaction_session_timeout), so its grants are never committed.
    fenced = [d for d in got.refused.values() if "fenced" in d or "database is unavailable" in d]
    print(f"paused leader's in-flight requests: {len(fenced)} fenced by the database, e.g.")
    print("  " + "\n  ".join(sorted({d[:150] for d in got.refused.values()})))
    assert fenced, f"no in-flight write was refused by the database: {got.refused}"
    holder, token = leadership(hq_cluster.engine) or ("", 0)
    assert holder == new.address and token > old_token
    # The old leader has stepped down: a write through it names the new leader.
    deadline = time.monotonic() + 10
    while True:
        try:
            await clients.branch(old.address).RequestRange(range_request(bans[12], "probe"))
            raise AssertionError("the paused ex-leader still accepted a write")
        except grpc.aio.AioRpcError as error:
            if f"(leader: {new.address})" in (error.details() or ""):
                break
            assert time.monotonic() < deadline, error.details()
            await asyncio.sleep(0.2)
    await clients.close()
    got.granted["new-1"] = fresh
    assert_stored_as_told(hq_cluster, got)


def etcd_revision(cluster: HqCluster) -> int:
    """etcd's current revision, after writing a key (what a stray leader's token would be)."""
    env = {**os.environ, "ETCDCTL_API": "3"}
    endpoints = cluster.etcd.endpoints
    subprocess.run(
        ["etcdctl", "--endpoints", endpoints, "put", "/stray/leader", "x"],
        check=True, capture_output=True, env=env, timeout=10,
    )  # fmt: skip
    out = subprocess.run(
        ["etcdctl", "--endpoints", endpoints, "get", "/stray/leader", "-w", "json"],
        check=True, capture_output=True, env=env, timeout=10,
    ).stdout  # fmt: skip
    return int(json.loads(out)["header"]["revision"])


async def test_a_fenced_leader_says_so_steps_down_and_leads_again(hq_cluster: HqCluster) -> None:
    """Someone else took office on the database (a stray HQ): the leader's next write is
    fenced; it logs it, gives up its lease and campaigns again, and a new term writes again."""
    bans = valid_bans(1)
    clients = HqClients(hq_cluster.addresses)
    try:
        await setup_pool(clients, bans)
        await clients.request_range(bans[0], "before")
        leader = hq_cluster.leader()
        stray = etcd_revision(hq_cluster)
        with hq_cluster.engine.begin() as conn:
            conn.execute(
                text("UPDATE leadership SET fencing_token = :t, holder = 'stray'"), {"t": stray}
            )
        started = time.monotonic()
        grant = await clients.request_range(bans[0], "after", timeout=30)
        recovered = time.monotonic() - started
        holder, token = leadership(hq_cluster.engine) or ("", 0)
        assert holder in hq_cluster.addresses and token > stray
        assert grant.request_id == "after" and recovered < 15
        assert "fenced: another HQ took office" in leader.log_text()
    finally:
        await clients.close()
