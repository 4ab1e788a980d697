"""Chaos with the whole product: store agents under POS load while HQ replicas, agents and an
etcd member are killed at random and brought back.

At the end, from the stored data alone: no two grants overlap, no number was handed to two POS
calls, every number a POS received is in its agent's ledger and counted issued at HQ, and for
every track assigned = issued + blank + held. POS errors are counted, not forbidden: a POS call
that lands on a killed agent fails, and that is the only way one may fail.
EINV_CHAOS_SECONDS sets the length (CI runs the short default).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from branch_agent.ledger.store import issued_numbers
from demo.cluster import valid_bans
from demo.procs import Proc, free_port
from demo.run import wait_for_stock
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from tests.cluster.clients import HqClients, accounts, overlapping_grants, setup_pool
from tests.cluster.conftest import HqCluster

pytestmark = pytest.mark.cluster
SECONDS = float(os.environ.get("EINV_CHAOS_SECONDS", "30"))
TERMINALS = 3


@dataclass
class PosLog:
    numbers: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def agent_proc(cluster: HqCluster, root: Path, ban: str, address: str) -> Proc:
    return Proc(
        f"agent {ban}",
        [
            "-m",
            "branch_agent",
            "serve",
            "--insecure",
            "--hq",
            ",".join(cluster.addresses),
            "--branch-ban",
            ban,
            "--data",
            str(root / ban),
            "--listen",
            address,
            "--report-interval",
            "1",
            *cluster.sim,
        ],
        root / f"agent-{ban}.log",
        "serving POS",
    )


async def terminal(address: str, name: str, stop: asyncio.Event, log: PosLog) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        pos = pos_pb2_grpc.PosServiceStub(channel)
        while not stop.is_set():
            try:
                reply = await pos.NextNumbers(
                    pos_pb2.NextNumbersRequest(count=1, terminal_id=name), timeout=5
                )
                log.numbers.extend(n.invoice_number for n in reply.numbers)
            except grpc.aio.AioRpcError as error:
                log.errors[error.code().name] += 1
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.01)


async def monkey(
    cluster: HqCluster,
    agents: list[Proc],
    stop: asyncio.Event,
    rng: random.Random,
    faults: Counter[str],
) -> None:
    """One fault at a time: kill -9 an HQ replica, an agent or an etcd member, then restart it."""
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(1.0, 2.5))
        choice = rng.random()
        if choice < 0.4:
            victim = rng.choice(cluster.replicas)
            victim.kill9()
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            await asyncio.to_thread(victim.start)
            faults["HQ replica"] += 1
        elif choice < 0.7:
            agent = rng.choice(agents)
            agent.kill9()
            await asyncio.sleep(rng.uniform(0.1, 1.0))
            await asyncio.to_thread(agent.start)
            faults["agent"] += 1
        else:
            member = rng.choice(cluster.etcd.members)
            member.kill9()
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            await asyncio.to_thread(cluster.etcd.start, [member])
            faults["etcd member"] += 1


async def test_agents_under_load_survive_chaos_with_the_books_balanced(
    hq_cluster: HqCluster, tmp_path: Path
) -> None:
    seed = int(time.time())
    rng = random.Random(seed)
    bans = valid_bans(3)
    clients = HqClients(hq_cluster.addresses)
    await setup_pool(clients, bans, end=999_999)
    await clients.close()
    addresses = {ban: f"127.0.0.1:{free_port()}" for ban in bans}
    agents = [agent_proc(hq_cluster, tmp_path, ban, addresses[ban]) for ban in bans]
    for agent in agents:
        await asyncio.to_thread(agent.start)
    try:
        await asyncio.gather(*(wait_for_stock(a) for a in addresses.values()))
        stop, log, faults = asyncio.Event(), PosLog(), Counter[str]()
        load = [
            asyncio.create_task(terminal(a, f"{b}-{i}", stop, log))
            for b, a in addresses.items()
            for i in range(TERMINALS)
        ]
        chaos = asyncio.create_task(monkey(hq_cluster, agents, stop, rng, faults))
        await asyncio.sleep(SECONDS)
        stop.set()
        await chaos
        await asyncio.gather(*load)
        await asyncio.sleep(4)  # the agents' last usage reports
        ledgers = {b: [n for _, _, n in issued_numbers(tmp_path / b)] for b in bans}
    finally:
        for agent in agents:
            agent.stop()
    books = await asyncio.to_thread(accounts, hq_cluster.engine)
    issued_at_hq = sum(t.issued for t in books)
    in_ledgers = [n for numbers in ledgers.values() for n in numbers]
    print(
        f"chaos with agents (seed {seed}, {SECONDS:.0f} s): faults {dict(faults)}; "
        f"{len(log.numbers)} numbers to POS, {issued_at_hq} issued at HQ, POS errors "
        f"{dict(log.errors)}"
    )
    assert len(log.numbers) > 0
    assert len(set(log.numbers)) == len(log.numbers), "a number went to two POS calls"
    assert set(log.numbers) <= set(in_ledgers), "a number a POS received is not in a ledger"
    assert len(set(in_ledgers)) == len(in_ledgers), "a number is in two ledgers"
    assert await asyncio.to_thread(overlapping_grants, hq_cluster.engine) == []
    for track in books:
        assert track.violations == [], track.violations
    assert issued_at_hq == len(in_ledgers), "HQ's issued count differs from the ledgers"
    assert set(log.errors) <= {"UNAVAILABLE", "DEADLINE_EXCEEDED"}, log.errors
