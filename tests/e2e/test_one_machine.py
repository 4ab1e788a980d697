"""The whole path on one machine with real processes: HQ, agents, POS clients."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime

import grpc
import pytest

from allocator import TAIPEI, Period
from demo.run import add_pool, wait_for_stock
from protos.einvoice.v1 import admin_pb2, branch_pb2, branch_pb2_grpc, pos_pb2, pos_pb2_grpc
from tests.conftest import BRANCH_BANS
from tests.e2e.conftest import GENERAL, Cluster, add_branch
from tests.e2e.pos import Tally, ascending_per_terminal, load

pytestmark = pytest.mark.slow
CURRENT = Period.containing(datetime.now(TAIPEI)).to_year_month()


def all_numbers(*tallies: Tally) -> list:
    return [n for t in tallies for _, n, _ in t.numbers]


def test_many_terminals_on_several_agents_never_share_a_number(cluster: Cluster) -> None:
    admin = cluster.start_hq()
    add_pool(admin, CURRENT, "AB", 0, 49_999)
    for ban in BRANCH_BANS:
        add_branch(admin, ban, per_request=4, per_period=400)
    addresses = [cluster.start_agent(ban) for ban in BRANCH_BANS]

    async def run() -> list[Tally]:
        return await asyncio.gather(*(load(a, terminals=8, calls=150) for a in addresses))

    tallies = asyncio.run(run())
    numbers = all_numbers(*tallies)
    assert not [e for t in tallies for e in t.errors]
    assert len(numbers) == 3 * 8 * 150
    assert len(set(numbers)) == len(numbers)
    assert all(ascending_per_terminal(t) for t in tallies)
    time.sleep(2.5)
    reconciled = admin.call("Reconcile", admin_pb2.ReconcileRequest())
    assert reconciled.ok
    assert sum(t.issued for t in reconciled.tracks) == len(numbers)


def test_hq_down_agents_keep_serving_and_grants_survive_restart(cluster: Cluster) -> None:
    admin = cluster.start_hq()
    add_pool(admin, CURRENT, "AB", 0, 9_999)
    add_branch(
        admin, BRANCH_BANS[0], per_request=10, per_period=100, low_water=300, min_booklets=10
    )
    address = cluster.start_agent(BRANCH_BANS[0])
    asyncio.run(load(address, terminals=1, calls=5))
    asyncio.run(wait_for_stock(address, at_least=300))
    time.sleep(1.5)  # the first grants and reports are in
    before = admin.call("ListAudit", admin_pb2.ListAuditRequest(limit=1000))
    assert cluster.hq is not None
    cluster.hq.kill9()
    during = asyncio.run(load(address, terminals=4, calls=25))
    assert not during.errors and len(during.numbers) == 100
    cluster.start_hq()
    after = admin.call("ListAudit", admin_pb2.ListAuditRequest(limit=1000))
    assert after.chain_ok
    assert [e.hash for e in after.entries[: len(before.entries)]] == [
        e.hash for e in before.entries
    ]
    grant = next(e for e in before.entries if e.action == "grant")
    request_id = json.loads(grant.details_json)["request_id"]

    async def retry() -> branch_pb2.Grant:
        async with cluster.branch_channel(BRANCH_BANS[0]) as channel:
            stub = branch_pb2_grpc.BranchServiceStub(channel)
            return await stub.RequestRange(
                branch_pb2.RequestRangeRequest(
                    request_id=request_id,
                    branch_ban=BRANCH_BANS[0],
                    year_month=CURRENT,
                    invoice_type=GENERAL,
                    booklets=1,
                )
            )

    again = asyncio.run(retry())
    assert again.grant_id == json.loads(grant.details_json)["grant_id"]


def test_killed_agent_restarts_without_reissuing(cluster: Cluster) -> None:
    admin = cluster.start_hq()
    add_pool(admin, CURRENT, "AB", 0, 49_999)
    add_branch(admin, BRANCH_BANS[0], per_request=4, per_period=400)
    address = cluster.start_agent(BRANCH_BANS[0])
    agent = cluster.agents[BRANCH_BANS[0]]

    async def traffic_with_kill() -> Tally:
        task = asyncio.create_task(load(address, terminals=6, calls=400))
        await asyncio.sleep(1.0)
        agent.kill9()
        return await task

    first = asyncio.run(traffic_with_kill())
    assert first.errors, "the kill should have interrupted some calls"
    cluster.start_agent(BRANCH_BANS[0])
    second = asyncio.run(load(address, terminals=6, calls=50, prefix="after"))
    numbers = all_numbers(first, second)
    assert not second.errors
    assert len(set(numbers)) == len(numbers)
    time.sleep(2.5)
    usage = admin.call("GetUsage", admin_pb2.GetUsageRequest(year_month=CURRENT))
    issued = next(u for u in usage.branches if u.branch_ban == BRANCH_BANS[0]).issued
    # Every number a POS received is on record as issued; a few more may have been durable
    # when the kill cut the reply off, and those count as issued too.
    assert issued >= len(numbers)


def test_period_rollover_on_a_fast_clock(cluster: Cluster) -> None:
    start = datetime(2026, 12, 31, 23, 59, 30, tzinfo=TAIPEI)
    epoch = cluster.use_clock(start, speed=4.0, delay=3.0)
    admin = cluster.start_hq()
    add_pool(admin, "11512", "AB", 0, 9_999)
    add_pool(admin, "11602", "CD", 0, 9_999)
    add_branch(admin, BRANCH_BANS[0], per_request=2, per_period=100)
    address = cluster.start_agent(BRANCH_BANS[0], "--prefetch-before", "60", wait=False)
    boundary = epoch + 30 / 4.0

    async def run() -> Tally:
        tally = Tally()
        stamps: list[float] = []

        async def one() -> None:
            async with grpc.aio.insecure_channel(address) as channel:
                pos = pos_pb2_grpc.PosServiceStub(channel)
                while time.time() < boundary + 5:
                    sent = time.time()
                    try:
                        reply = await pos.NextNumbers(
                            pos_pb2.NextNumbersRequest(count=1), timeout=5
                        )
                    except grpc.aio.AioRpcError as error:
                        tally.errors.append(error.details())
                        continue
                    n = reply.numbers[0]
                    tally.numbers.append(("t", n.invoice_number, n.year_month))
                    stamps.append(sent)
                    await asyncio.sleep(0.02)

        await one()
        tally.stamps = stamps  # type: ignore[attr-defined]
        return tally

    tally = asyncio.run(run())
    periods = [ym for _, _, ym in tally.numbers]
    assert "11512" in periods and "11602" in periods
    first_new = periods.index("11602")
    assert all(p == "11602" for p in periods[first_new:])
    late_old = [
        s
        for s, (_, _, ym) in zip(tally.stamps, tally.numbers, strict=True)
        if ym == "11512" and s > boundary + 0.05
    ]
    assert not late_old
    assert all(n.startswith("CD") for _, n, ym in tally.numbers if ym == "11602")
    time.sleep(2.0)
    usage = admin.call("GetUsage", admin_pb2.GetUsageRequest(year_month="11512"))
    mine = next(u for u in usage.branches if u.branch_ban == BRANCH_BANS[0])
    assert mine.final and mine.issued == periods.count("11512")
