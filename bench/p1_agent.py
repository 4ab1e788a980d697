"""P1: the branch agent's NextNumbers, a real agent process fed by a real HQ process.

Floors: an empty grpc.aio unary call to the echo process (same client, same loopback, same
number of connections) and a bare write+fsync loop in the agent's own data directory. A number
is durable before the reply, so one call can at best cost an empty call plus one fsync; with many
terminals, group commit should let the agent keep up with the empty call instead of the disk.
The CPU the agent and the echo process spend per call is reported too: unlike rates, it hardly
moves when other work shares the machine.

Each figure comes in the shapes a POS can call in: one unary call per number over loopback
TCP (the reference), the same terminal on one bidi stream (`NextNumbersStream`), and both again
on a Unix socket, where the same agent and ledger listen next (a POS on the same machine). The
goals hold against the unary empty call over TCP in every shape; a streamed figure shows an
empty message on a stream of the echo as a floor too.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from time import monotonic

import grpc

from bench import load
from bench.echo_server import empty_call, empty_messages
from bench.figures import Figure, Goal, mean, ms, percentile
from bench.floors import fsync_loop
from bench.seed import BranchPlan, seed_hq
from bench.servers import Server, agent_process, hq_process
from protos.einvoice.v1 import common_pb2, pos_pb2, pos_pb2_grpc

BAN = "04595257"
# Grants of 10,000 numbers, refilled below 5,000: the pool never runs dry during a run.
PLAN = BranchPlan(per_request=200, per_period=100_000, low_water_count=5000, min_booklets=200)
STOCK_TIMEOUT = 30.0
LATENCY_GOAL = 1.3
THROUGHPUT_GOAL = 0.8
GOAL_TERMINALS = 32
ROUNDS = 3
CPU_TERMINALS = (1, 32)  # CPU per call, where the goals are
EMPTY_CALL = "empty call"  # the floors: the echo's unary call, and a message on its stream
EMPTY_MESSAGE = "empty stream message"
POS_SOCKET = "pos.sock"


@dataclass(frozen=True, slots=True)
class Sizes:
    latency_calls: int
    seconds: float
    fsync_writes: int
    warm_numbers: int
    terminals: tuple[int, ...] = (1, 8, 32, 128)


FULL = Sizes(latency_calls=3000, seconds=4.0, fsync_writes=2000, warm_numbers=2000)
SMOKE = Sizes(latency_calls=60, seconds=0.6, fsync_writes=50, warm_numbers=20)


@dataclass(frozen=True, slots=True)
class Shape:
    """How the POS calls: `call(channel, terminal)` is one number; `floor` the echo's like."""

    key: str  # after the figure's key: "" for the reference shape
    label: str  # after the figure's label
    call: Callable[[grpc.aio.Channel, str], load.Call]
    streamed: bool
    terminals: tuple[int, ...] | None = CPU_TERMINALS  # None: every size's

    @property
    def floors(self) -> list[str]:
        """The unary empty call (the goals'), and an empty stream message for a stream."""
        return [EMPTY_CALL, EMPTY_MESSAGE] if self.streamed else [EMPTY_CALL]


def run(root: Path, echo: Server, sizes: Sizes) -> list[Figure]:
    data = root / f"agent-{BAN}"
    fsync = fsync_loop(data, sizes.fsync_writes)
    url = f"sqlite:///{root / 'hq.db'}"
    seed_hq(url, [BAN], PLAN)
    with hq_process(root, url) as hq:
        with agent_process(root, hq.address, BAN) as agent:
            figures = asyncio.run(_measure(agent, echo, fsync, sizes, TCP_SHAPES))
        # The same agent and ledger again, its POS port a Unix socket.
        with agent_process(root, hq.address, BAN, f"unix:{root / POS_SOCKET}") as agent:
            figures += asyncio.run(_measure(agent, echo, fsync, sizes, UNIX_SHAPES))
    return figures


async def _measure(
    agent: Server, echo: Server, fsync: list[float], sizes: Sizes, shapes: tuple[Shape, ...]
) -> list[Figure]:
    await _wait_stocked(agent.address, PLAN.low_water_count)
    # A store's agent runs for days: its first commits after it opens the ledger, while the
    # WAL file grows to its checkpoint size (SQLite removes it at close), cost up to twice as
    # much CPU, and would fall on whichever shape is measured first.
    await _latency(agent.address, lambda ch: _next(ch, "warm"), sizes.warm_numbers)
    floors = {EMPTY_CALL: _echo, EMPTY_MESSAGE: empty_messages}
    latencies: dict[str, list[float]] = defaultdict(list)
    # Rounds in turn, so a change in the machine's background load hits both sides alike.
    for round_ in range(ROUNDS):
        calls = sizes.latency_calls // ROUNDS
        for name, floor in floors.items():
            latencies[name] += await _latency(echo.address, floor, calls)
        for shape in shapes:
            make = _terminal(shape, f"lat{shape.key}{round_}")
            latencies[shape.key] += await _latency(agent.address, make, calls)
    figures = [f for s in shapes for f in _latency_figures(s, latencies, fsync)]
    for terminals in sizes.terminals:
        chosen = [s for s in shapes if s.terminals is None or terminals in s.terminals]
        if not chosen:
            continue
        empty = {
            name: await _throughput(echo, terminals, sizes.seconds, lambda ch, _i, f=floor: f(ch))
            for name, floor in floors.items()
        }
        for shape in chosen:
            real = await _throughput(
                agent,
                terminals,
                sizes.seconds,
                lambda ch, i, s=shape, t=terminals: s.call(ch, f"c{s.key}{t}t{i}"),
            )
            figures.append(_throughput_figure(shape, terminals, real, empty, fsync))
            if terminals in CPU_TERMINALS:
                figures.append(_cpu_figure(shape, terminals, real, empty))
    return figures


def _terminal(shape: Shape, name: str) -> load.CallFactory:
    return lambda channel: shape.call(channel, name)


def _latency_figures(
    shape: Shape, latencies: dict[str, list[float]], fsync: list[float]
) -> list[Figure]:
    figures = []
    for q in (50, 99):
        at = {name: ms(percentile(values, q)) for name, values in latencies.items()}
        value, disk = at[shape.key], ms(percentile(fsync, q))
        bound = at[EMPTY_CALL] + disk
        goal = None
        if q == 50:
            goal = Goal(f"<= {LATENCY_GOAL}x (empty call + fsync)", value <= LATENCY_GOAL * bound)
        floors = {f"{name} p{q}": at[name] for name in shape.floors}
        figures.append(
            Figure(
                f"p1.latency_p{q}{shape.key}",
                f"P1 next number p{q}, 1 terminal{shape.label}",
                value,
                "ms",
                {**floors, f"fsync p{q}": disk, "empty call + fsync": bound},
                goal,
            )
        )
    return figures


def _throughput_figure(
    shape: Shape, terminals: int, real: load.Run, empty: dict[str, load.Run], fsync: list[float]
) -> Figure:
    goal = None
    if terminals == GOAL_TERMINALS:
        goal = Goal(
            f">= {THROUGHPUT_GOAL}x empty-call throughput",
            real.rate >= THROUGHPUT_GOAL * empty[EMPTY_CALL].rate,
        )
    rates = {f"{n}s/s, {_terminals(terminals)}": empty[n].rate for n in shape.floors}
    return Figure(
        f"p1.throughput_{terminals}{shape.key}",
        f"P1 numbers/s, {_terminals(terminals)}{shape.label}",
        real.rate,
        "/s",
        {**rates, "fsyncs/s, 1 writer": 1 / mean(fsync)},
        goal,
    )


def _terminals(count: int) -> str:
    return f"{count} terminal{'s' if count > 1 else ''}"


def _cpu_figure(shape: Shape, terminals: int, real: load.Run, empty: dict[str, load.Run]) -> Figure:
    return Figure(
        f"p1.cpu_per_number_{terminals}{shape.key}",
        f"P1 agent CPU per number, {_terminals(terminals)}{shape.label}",
        real.cpu_per_call * 1e6,
        "us",
        {
            f"echo CPU per {n}, {_terminals(terminals)}": empty[n].cpu_per_call * 1e6
            for n in shape.floors
        },
    )


def _echo(channel: grpc.aio.Channel) -> load.Call:
    call = empty_call(channel)
    return lambda: call(b"", timeout=10)


def _requests(terminal: str) -> Callable[[], pos_pb2.NextNumbersRequest]:
    """A POS terminal's requests: one number each, each with its own request id (as POS
    vendors do)."""
    serial = itertools.count()
    return lambda: pos_pb2.NextNumbersRequest(
        count=1,
        invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
        terminal_id=terminal,
        request_id=f"{terminal}-{next(serial)}",
    )


def _next(channel: grpc.aio.Channel, terminal: str) -> load.Call:
    """One unary NextNumbers per number."""
    stub = pos_pb2_grpc.PosServiceStub(channel)
    request = _requests(terminal)
    return lambda: stub.NextNumbers(request(), timeout=10)


def _next_stream(channel: grpc.aio.Channel, terminal: str) -> load.Call:
    """One NextNumbersStream per terminal, a request and its reply per number."""
    return load.on_stream(
        pos_pb2_grpc.PosServiceStub(channel).NextNumbersStream(), _requests(terminal)
    )


TCP_SHAPES = (
    Shape("", "", _next, streamed=False, terminals=None),
    Shape("_stream", ", one stream", _next_stream, streamed=True),
)
UNIX_SHAPES = (
    Shape("_unix", ", Unix socket", _next, streamed=False),
    Shape("_unix_stream", ", Unix socket, one stream", _next_stream, streamed=True),
)


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
