"""P1: the branch agent's NextNumbers, a real agent process fed by a real HQ process.

Floors: an empty grpc.aio unary call to the echo process (same client, same loopback, same
number of connections) and a bare write+fsync loop in the agent's own data directory. A number
is durable before the reply, so one call can at best cost an empty call plus one fsync; with many
terminals, group commit should let the agent keep up with the empty call instead of the disk.
The CPU the agent and the echo process spend per call is reported too: unlike rates, it hardly
moves when other work shares the machine.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import grpc

from bench import load
from bench.echo_server import empty_call
from bench.figures import Figure, Goal, mean, ms, percentile
from bench.floors import fsync_loop
from bench.seed import BranchPlan, seed_hq
from bench.servers import Server, agent_process, hq_process
from protos.einvoice.v1 import common_pb2, pos_pb2, pos_pb2_grpc

BAN = "04595257"
# Grants of 10,000 numbers, refilled below 5,000: the pool never runs dry during a run.
PLAN = BranchPlan(per_request=200, per_period=100_000, low_water_count=5000, min_booklets=200)
STOCK_TIMEOUT = 30.0
LATENCY_GOAL = 1.5
THROUGHPUT_GOAL = 0.7
GOAL_TERMINALS = 32
ROUNDS = 3
CPU_TERMINALS = (1, 32)  # CPU per call, where the goals are


@dataclass(frozen=True, slots=True)
class Sizes:
    latency_calls: int
    seconds: float
    fsync_writes: int
    terminals: tuple[int, ...] = (1, 8, 32, 128)


FULL = Sizes(latency_calls=3000, seconds=4.0, fsync_writes=2000)
SMOKE = Sizes(latency_calls=60, seconds=0.2, fsync_writes=50)


def run(root: Path, echo: Server, sizes: Sizes) -> list[Figure]:
    data = root / f"agent-{BAN}"
    fsync = fsync_loop(data, sizes.fsync_writes)
    url = f"sqlite:///{root / 'hq.db'}"
    seed_hq(url, [BAN], PLAN)
    with hq_process(root, url) as hq, agent_process(root, hq.address, BAN) as agent:
        return asyncio.run(_measure(agent, echo, fsync, sizes))


async def _measure(agent: Server, echo: Server, fsync: list[float], sizes: Sizes) -> list[Figure]:
    await _wait_stocked(agent.address, PLAN.low_water_count)
    floor: list[float] = []
    served: list[float] = []
    # Rounds in turn, so a change in the machine's background load hits both sides alike.
    for round_ in range(ROUNDS):
        calls = sizes.latency_calls // ROUNDS
        floor += await _latency(echo.address, _echo, calls)
        served += await _latency(agent.address, lambda ch, r=round_: _next(ch, f"lat{r}"), calls)
    figures = _latency_figures(served, floor, fsync)
    for terminals in sizes.terminals:
        empty = await _throughput(echo, terminals, sizes.seconds, lambda ch, _i: _echo(ch))
        real = await _throughput(
            agent, terminals, sizes.seconds, lambda ch, i, t=terminals: _next(ch, f"c{t}t{i}")
        )
        figures.append(_throughput_figure(terminals, real, empty, fsync))
        if terminals in CPU_TERMINALS:
            figures.append(_cpu_figure(terminals, real, empty))
    return figures


def _latency_figures(served: list[float], floor: list[float], fsync: list[float]) -> list[Figure]:
    figures = []
    for q in (50, 99):
        value, empty, disk = (ms(percentile(x, q)) for x in (served, floor, fsync))
        bound = empty + disk
        goal = None
        if q == 50:
            goal = Goal(f"<= {LATENCY_GOAL}x (empty call + fsync)", value <= LATENCY_GOAL * bound)
        figures.append(
            Figure(
                f"p1.latency_p{q}",
                f"P1 next number p{q}, 1 terminal",
                value,
                "ms",
                {f"empty call p{q}": empty, f"fsync p{q}": disk, "empty call + fsync": bound},
                goal,
            )
        )
    return figures


def _throughput_figure(
    terminals: int, real: load.Run, empty: load.Run, fsync: list[float]
) -> Figure:
    goal = None
    if terminals == GOAL_TERMINALS:
        goal = Goal(
            f">= {THROUGHPUT_GOAL}x empty-call throughput",
            real.rate >= THROUGHPUT_GOAL * empty.rate,
        )
    return Figure(
        f"p1.throughput_{terminals}",
        f"P1 numbers/s, {_terminals(terminals)}",
        real.rate,
        "/s",
        {
            f"empty calls/s, {_terminals(terminals)}": empty.rate,
            "fsyncs/s, 1 writer": 1 / mean(fsync),
        },
        goal,
    )


def _terminals(count: int) -> str:
    return f"{count} terminal{'s' if count > 1 else ''}"


def _cpu_figure(terminals: int, real: load.Run, empty: load.Run) -> Figure:
    return Figure(
        f"p1.cpu_per_number_{terminals}",
        f"P1 agent CPU per number, {_terminals(terminals)}",
        real.cpu_per_call * 1e6,
        "us",
        {f"echo CPU per empty call, {_terminals(terminals)}": empty.cpu_per_call * 1e6},
    )


def _echo(channel: grpc.aio.Channel) -> load.Call:
    call = empty_call(channel)
    return lambda: call(b"", timeout=10)


def _next(channel: grpc.aio.Channel, terminal: str) -> load.Call:
    """A POS terminal: one number per call, each with its own request id (as POS vendors do)."""
    stub = pos_pb2_grpc.PosServiceStub(channel)
    serial = itertools.count()

    def call() -> Awaitable[object]:
        request = pos_pb2.NextNumbersRequest(
            count=1,
            invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
            terminal_id=terminal,
            request_id=f"{terminal}-{next(serial)}",
        )
        return stub.NextNumbers(request, timeout=10)

    return call


async def _latency(address: str, make: load.CallFactory, count: int) -> list[float]:
    """Seconds per call of one caller, one call at a time."""
    async with load.channels(address, 1) as (channel,):
        call = make(channel)
        await load.sequential(call, max(10, count // 10))  # warm the connection and the caches
        return (await load.sequential(call, count)).check(f"latency against {address}").latencies


async def _throughput(
    server: Server, terminals: int, seconds: float, make: load.TerminalFactory
) -> load.Run:
    async with load.channels(server.address, terminals) as opened:
        calls = [make(channel, index) for index, channel in enumerate(opened)]
        await load.closed_loop(calls, seconds / 10)  # warm-up, not counted
        run = await load.measuring(server, load.closed_loop(calls, seconds))
        return run.check(_terminals(terminals))


async def _wait_stocked(agent: str, numbers: int) -> None:
    """Until the agent holds `numbers` (HQ's config has arrived and a big grant is in)."""
    deadline = monotonic() + STOCK_TIMEOUT
    async with grpc.aio.insecure_channel(agent) as channel:
        stub = pos_pb2_grpc.PosServiceStub(channel)
        while monotonic() < deadline:
            status = await stub.Status(pos_pb2.StatusRequest(), timeout=5)
            if status.remaining >= numbers:
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"agent {agent} did not get {numbers} numbers from HQ in {STOCK_TIMEOUT}s")
