"""etcd members going away: one of three is harmless; two stop writes cleanly, not reads."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from demo.cluster import valid_bans
from protos.einvoice.v1 import admin_pb2
from tests.cluster.clients import HqClients, overlapping_grants, setup_pool
from tests.cluster.conftest import HqCluster

pytestmark = pytest.mark.cluster


async def grant_many(clients: HqClients, ban: str, prefix: str, count: int) -> float:
    """`count` grants one after another; returns the longest wait for one."""
    worst = 0.0
    for n in range(count):
        started = time.monotonic()
        await clients.request_range(ban, f"{prefix}-{n}", timeout=15)
        worst = max(worst, time.monotonic() - started)
    return worst


async def first_refusal(clients: HqClients, ban: str, limit: float) -> str:
    """Keep writing until refused (etcd's own leader renews leases until it steps down)."""
    deadline = time.monotonic() + limit
    for n in range(10_000):
        try:
            await clients.request_range(ban, f"until-refused-{n}", timeout=3)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.UNAVAILABLE
            return error.details() or ""
        assert time.monotonic() < deadline, "writes went on without an etcd quorum"
        await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


async def test_etcd_member_loss_and_quorum_loss(hq_cluster: HqCluster) -> None:
    ban = valid_bans(1)[0]
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, [ban])
    etcd = hq_cluster.etcd

    # One member of three down (the Raft leader, the worst case): service continues.
    first = etcd.raft_leader()
    first.kill9()
    worst = await grant_many(clients, ban, "one-down", 30)
    print(f"one etcd member down: longest wait for a grant {worst:.2f} s")
    assert worst < hq_cluster.lease_ttl + 2

    # Two of three down: no quorum. Within about a lease, writes stop with a clear error...
    second = next(m for m in etcd.members if m.running())
    second.kill9()
    killed = time.monotonic()
    refusal = await first_refusal(clients, ban, limit=3 * hq_cluster.lease_ttl + 3)
    print(f"writes stopped {time.monotonic() - killed:.2f} s after quorum loss: {refusal}")
    assert "etcd" in refusal
    # ...while every replica still serves reads.
    for address in hq_cluster.addresses:
        usage = await clients.admin(address).GetUsage(
            admin_pb2.GetUsageRequest(year_month="11512"), timeout=5
        )
        assert [u.branch_ban for u in usage.branches] == [ban]
        assert usage.branches[0].booklets_granted >= 30

    # Quorum returns: writes resume.
    await asyncio.to_thread(etcd.start, [first, second])
    restored = time.monotonic()
    await clients.request_range(ban, "quorum-back", timeout=30)
    print(f"writes resumed {time.monotonic() - restored:.2f} s after quorum returned")
    await clients.close()
    assert overlapping_grants(hq_cluster.engine) == []
