"""Followers serve reads and name the leader; config changes and presence span the replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc
import pytest

from admin_cli.client import Admin
from demo.cluster import valid_bans
from hq_server.etcd_presence import query_online
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from tests.cluster.clients import HqClients, setup_pool
from tests.cluster.conftest import HqCluster
from tests.conftest import HEAD_BAN

pytestmark = pytest.mark.cluster


async def test_a_follower_serves_reads_and_names_the_leader_for_writes(
    hq_cluster: HqCluster,
) -> None:
    bans = valid_bans(2)
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, bans[:1])
    leader = hq_cluster.leader()
    follower = hq_cluster.other(leader)
    listed = await clients.admin(follower.address).ListBranches(admin_pb2.ListBranchesRequest())
    assert [b.ban for b in listed.branches] == bans[:1]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await clients.admin(follower.address).AddBranch(
            admin_pb2.AddBranchRequest(
                ban=bans[1],
                name="x",
                quota=common_pb2.Quota(booklets_per_request=1, booklets_per_period=1),
            )
        )
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert f"(leader: {leader.address})" in (info.value.details() or "")
    await clients.close()
    # The admin CLI's client fails over from the follower to the leader by itself.
    admin = Admin([follower.address, leader.address])
    reply = await asyncio.to_thread(
        admin.call,
        "AddBranch",
        admin_pb2.AddBranchRequest(
            ban=bans[1],
            name="y",
            quota=common_pb2.Quota(booklets_per_request=1, booklets_per_period=1),
        ),
    )
    assert reply.ban == bans[1]


async def next_config(stream: object, timeout: float = 1.0) -> branch_pb2.BranchConfig:
    return await asyncio.wait_for(stream.read(), timeout)  # type: ignore[attr-defined]


async def test_a_config_change_reaches_agents_on_every_replica_within_a_second(
    hq_cluster: HqCluster,
) -> None:
    bans = valid_bans(2)
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, bans)
    leader = hq_cluster.leader()
    watch: Callable[[str, str], object] = lambda address, ban: clients.branch(  # noqa: E731
        address
    ).WatchConfig(branch_pb2.WatchConfigRequest(branch_ban=ban))
    streams = {(r.name, ban): watch(r.address, ban) for r in hq_cluster.replicas for ban in bans}
    for stream in streams.values():
        await next_config(stream, 5)

    await clients.admin(leader.address).SetQuota(
        admin_pb2.SetQuotaRequest(
            ban=bans[0], quota=common_pb2.Quota(booklets_per_request=7, booklets_per_period=70)
        )
    )
    changed_at = time.monotonic()
    for replica in hq_cluster.replicas:
        update = await next_config(streams[(replica.name, bans[0])])
        assert update.quota.booklets_per_request == 7
    await clients.admin(leader.address).SetRangeStatus(
        admin_pb2.SetRangeStatusRequest(assignment_id=1, status=common_pb2.RANGE_STATUS_DISABLED)
    )
    for stream in streams.values():
        update = await next_config(stream)
        assert [(r.track, r.begin) for r in update.disabled_ranges] == [("AB", 0)]
    print(f"config changes reached all 4 streams in {time.monotonic() - changed_at:.3f} s")
    for stream in streams.values():
        stream.cancel()  # type: ignore[attr-defined]
    await clients.close()


async def wait_online(endpoints: str, expected: dict[str, str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        online = await query_online(endpoints, HEAD_BAN)
        if online == expected or time.monotonic() > deadline:
            return online
        await asyncio.sleep(0.1)


async def test_presence_follows_open_config_streams(hq_cluster: HqCluster) -> None:
    bans = valid_bans(2)
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, bans)
    a, b = hq_cluster.replicas
    endpoints = hq_cluster.etcd.endpoints
    on_a = clients.branch(a.address).WatchConfig(branch_pb2.WatchConfigRequest(branch_ban=bans[0]))
    on_b = clients.branch(b.address).WatchConfig(branch_pb2.WatchConfigRequest(branch_ban=bans[1]))
    await next_config(on_a, 5)
    await next_config(on_b, 5)
    both = {bans[0]: a.address, bans[1]: b.address}
    assert await wait_online(endpoints, both, 3) == both
    on_a.cancel()  # the agent hangs up: its key goes
    assert await wait_online(endpoints, {bans[1]: b.address}, 3) == {bans[1]: b.address}
    b.kill9()  # the replica dies: its lease expires and the key with it
    ttl = hq_cluster.lease_ttl
    assert await wait_online(endpoints, {}, ttl + 2) == {}
    await clients.close()
