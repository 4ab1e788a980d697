"""A short, bounded chaos run: replicas and an etcd member die and return while branches work.

At the end the stored data alone must prove the invariants: no two grants overlap, and for
every track assigned = issued + blank + held (hq_server.queries.reconcile).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import grpc
import pytest

from demo.cluster import valid_bans
from protos.einvoice.v1 import branch_pb2
from tests.cluster.clients import HqClients, accounts, overlapping_grants, setup_pool, stored_grants
from tests.cluster.conftest import HqCluster

pytestmark = pytest.mark.cluster
CHAOS_SECONDS = 40.0


async def branch_work(
    clients: HqClients, ban: str, stop: asyncio.Event, rng: random.Random, told: dict[str, int]
) -> None:
    """Ask for a booklet, use some of it, report; `told` keeps each grant's reported use."""
    n = 0
    while not stop.is_set():
        rid = f"{ban}-{n}"
        n += 1
        grant = await clients.request_range(ban, rid, timeout=30)
        used = rng.randint(0, grant.range.end - grant.range.begin + 1)
        report = branch_pb2.UsageReport(
            report_id=f"r-{rid}",
            branch_ban=ban,
            grants=[
                branch_pb2.GrantUsage(grant_id=grant.grant_id, next_number=grant.range.begin + used)
            ],
        )
        await clients.write(lambda a, r=report: clients.branch(a).ReportUsage(r, timeout=3), 30)
        told[rid] = used


async def chaos(
    cluster: HqCluster, stop: asyncio.Event, rng: random.Random, log: Counter[str]
) -> None:
    """One fault at a time: kill -9 a replica or an etcd member, then bring it back."""
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(1.5, 3.0))
        if rng.random() < 0.6:
            replica = rng.choice(cluster.replicas)
            replica.kill9()
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            await asyncio.to_thread(replica.start)
            log[f"kill -9 HQ {replica.name}"] += 1
        else:
            member = rng.choice(cluster.etcd.members)
            member.kill9()
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            await asyncio.to_thread(cluster.etcd.start, [member])
            log[f"kill -9 etcd {member.name}"] += 1


async def test_chaos_keeps_grants_apart_and_the_books_balanced(hq_cluster: HqCluster) -> None:
    seed = int(time.time())
    rng = random.Random(seed)
    bans = valid_bans(4)
    clients = HqClients(hq_cluster.addresses)
    # 40,000 grants of 5 booklets: more than 4 branches can ask for in CHAOS_SECONDS on a fast
    # machine (200,000 numbers ran out in a quiet hour: POOL_EXHAUSTED is not what is tested).
    await setup_pool(clients, bans, end=9_999_999)
    stop, faults, told = asyncio.Event(), Counter[str](), {}
    workers = [asyncio.create_task(branch_work(clients, b, stop, rng, told)) for b in bans]
    monkey = asyncio.create_task(chaos(hq_cluster, stop, rng, faults))
    await asyncio.sleep(CHAOS_SECONDS)
    stop.set()
    await monkey
    try:
        await asyncio.gather(*workers)
    except grpc.aio.AioRpcError as error:
        pytest.fail(f"a branch could not get through after the faults (seed {seed}): {error}")
    await clients.close()
    print(f"chaos (seed {seed}): {dict(faults)}; {len(told)} grants granted and reported")

    assert overlapping_grants(hq_cluster.engine) == []
    assert set(stored_grants(hq_cluster.engine)) == set(told)
    books = accounts(hq_cluster.engine)
    assert books, "nothing to reconcile"
    for track in books:
        assert track.violations == [], track.violations
        assert track.assigned == track.issued + track.blank + track.held
    assert sum(t.issued for t in books) == sum(told.values())
