"""P4: usage ingest. 10,000 agents reporting each minute is ~167 ReportUsage calls a second.

Reports arrive on a fixed schedule (open loop) at a rate above that, each one moving a branch's
grant forward (every tenth with a skipped number), through the pool of connections P2 opened
to the same HQ. Latency counts from each report's scheduled instant. A closed loop of 32
reporters then finds the ceiling, by unary calls and again with each reporter on one
`ReportUsageStream` of its own (what the agent uses). Floors: the same shapes of empty calls to
the echo process (the unary one is the goals'; an empty message on one of its streams beside it).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.timestamp_pb2 import Timestamp

from bench import load
from bench.echo_server import empty_call, empty_messages
from bench.figures import Figure, Goal, Results, ms, percentile
from bench.servers import Server
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc, common_pb2

if TYPE_CHECKING:
    from bench.p2_branches import Granted

NEEDED_PER_S = 10_000 / 60
GOAL_PER_S = 200.0
GOAL_P99_MS = 50.0
STEP = 1  # numbers a branch issues between two reports: a 200-number grant moves 198 times


@dataclass(frozen=True, slots=True)
class Sizes:
    rate: float  # offered reports per second
    seconds: float
    capacity_seconds: float
    connections: int
    reporters: int = 32


FULL = Sizes(rate=220.0, seconds=20.0, capacity_seconds=5.0, connections=100)
SMOKE = Sizes(rate=100.0, seconds=0.5, capacity_seconds=0.6, connections=10)


def run(
    hq: Server, echo: Server, granted: Sequence[Granted], sizes: Sizes, results: Results
) -> list[Figure]:
    figures = asyncio.run(_measure(hq, echo, granted, sizes))
    results.note(
        f"P4: {sizes.rate:.0f} reports/s offered for {sizes.seconds:.0f} s "
        f"({NEEDED_PER_S:.0f}/s needed), then {sizes.reporters} reporters flat out"
    )
    return figures


async def _measure(
    hq: Server, echo: Server, granted: Sequence[Granted], sizes: Sizes
) -> list[Figure]:
    count = round(sizes.rate * sizes.seconds)
    async with load.channels(echo.address, sizes.connections) as opened:
        calls = [empty_call(channel) for channel in opened]

        def empty(index: int) -> load.Call:
            return lambda: calls[index % len(calls)](b"", timeout=10)

        steady_floor = (await load.open_loop(empty, sizes.rate, count)).check("echo")
        ceiling_floor = await _ceiling(echo, empty, sizes)
        streams = [empty_messages(opened[k % len(opened)]) for k in range(sizes.reporters)]
        stream_floor = await _measured(echo, streams, sizes)
    async with load.channels(hq.address, sizes.connections) as opened:
        stubs = [branch_pb2_grpc.BranchServiceStub(c) for c in opened]
        reports = _Reports(granted, stubs, fresh_from=count)
        steady = (await load.open_loop(reports.call, sizes.rate, count)).check("ReportUsage")
        ceiling = await _ceiling(hq, lambda _: reports.call(reports.fresh()), sizes)
        streamed = await _measured(hq, reports.streams(sizes.reporters), sizes)
    ceilings = Ceilings(ceiling, ceiling_floor, streamed, stream_floor)
    return _figures(steady, steady_floor, ceilings, sizes)


@dataclass(frozen=True, slots=True)
class Ceilings:
    unary: load.Run
    unary_floor: load.Run  # empty unary calls: the goals' floor
    streamed: load.Run
    stream_floor: load.Run  # empty messages, one echo stream per caller


async def _ceiling(server: Server, make: Callable[[int], load.Call], sizes: Sizes) -> load.Run:
    """`reporters` callers flat out, each taking the next report in turn."""
    serial = itertools.count()

    def reporter() -> load.Call:
        return lambda: make(next(serial))()

    return await _measured(server, [reporter() for _ in range(sizes.reporters)], sizes)


async def _measured(server: Server, calls: Sequence[load.Call], sizes: Sizes) -> load.Run:
    run = await load.measuring(server, load.closed_loop(calls, sizes.capacity_seconds))
    return run.check("closed loop")


class _Reports:
    """Report `index` comes from branch `index % n`, each round a few numbers further on. The
    steady schedule sends reports 0..count-1; each later phase takes the next `fresh` ones, so
    that every report moves its grant (a repeat would change nothing and cost HQ less)."""

    def __init__(
        self,
        granted: Sequence[Granted],
        stubs: Sequence[branch_pb2_grpc.BranchServiceStub],
        fresh_from: int,
    ) -> None:
        self._granted = granted
        self._stubs = stubs
        self._fresh = itertools.count(fresh_from)

    def fresh(self) -> int:
        return next(self._fresh)

    def call(self, index: int) -> load.Call:
        stub = self._stubs[index % len(self._stubs)]
        report = self._report(index)

        async def call() -> object:
            return _moved(await stub.ReportUsage(report, timeout=10))

        return call

    def streams(self, count: int) -> list[load.Call]:
        """`count` reporters, each on a ReportUsageStream of its own, taking the next report."""

        def reporter(stub: branch_pb2_grpc.BranchServiceStub) -> load.Call:
            answered = load.on_stream(stub.ReportUsageStream(), lambda: self._report(self.fresh()))

            async def call() -> object:
                return _moved(await answered())  # type: ignore[arg-type]

            return call

        return [reporter(self._stubs[k % len(self._stubs)]) for k in range(count)]

    def _report(self, index: int) -> branch_pb2.UsageReport:
        branch = self._granted[index % len(self._granted)]
        return _report(branch, index // len(self._granted), index)


def _moved(ack: branch_pb2.UsageAck) -> branch_pb2.UsageAck:
    """The ack, which must say the report moved its grant: a report that changed nothing
    would cost HQ less than the real thing and flatter the figures."""
    if ack.grants_updated != 1:
        raise RuntimeError(f"a report moved {ack.grants_updated} grants, not 1")
    return ack


def _report(branch: Granted, round_: int, index: int) -> branch_pb2.UsageReport:
    numbers = branch.grant.range
    used = min(numbers.end - numbers.begin + 1, 2 + STEP * round_)  # past the skip below
    usage = branch_pb2.GrantUsage(grant_id=branch.grant.grant_id, next_number=numbers.begin + used)
    if index % 10 == 0:  # a number given back after a later one went out: reported blank
        usage.skipped.append(common_pb2.Span(begin=numbers.begin + 1, end=numbers.begin + 1))
    now = Timestamp()
    now.GetCurrentTime()
    return branch_pb2.UsageReport(
        report_id=f"bench-{index}", branch_ban=branch.ban, grants=[usage], agent_time=now
    )


def _figures(
    steady: load.Run, steady_floor: load.Run, ceilings: Ceilings, sizes: Sizes
) -> list[Figure]:
    p99 = ms(percentile(steady.latencies, 99))
    callers = f"{sizes.reporters} callers"
    unary_cpu = {f"echo CPU per empty call, {callers}": ceilings.unary_floor.cpu_per_call * 1e3}
    return [
        Figure(
            "p4.reports_per_s",
            f"P4 reports/s at {sizes.rate:.0f}/s offered",
            steady.rate,
            "/s",
            {"empty calls/s, same schedule": steady_floor.rate},
            Goal(f">= {GOAL_PER_S:.0f}/s", steady.rate >= GOAL_PER_S),
        ),
        Figure(
            "p4.p99",
            f"P4 report p99 at {sizes.rate:.0f}/s offered",
            p99,
            "ms",
            {"empty call p99, same schedule": ms(percentile(steady_floor.latencies, 99))},
            Goal(f"< {GOAL_P99_MS:.0f} ms", p99 < GOAL_P99_MS),
        ),
        Figure(
            "p4.p50",
            f"P4 report p50 at {sizes.rate:.0f}/s offered",
            ms(percentile(steady.latencies, 50)),
            "ms",
            {"empty call p50, same schedule": ms(percentile(steady_floor.latencies, 50))},
        ),
        Figure(
            "p4.ceiling_per_s",
            f"P4 reports/s, {sizes.reporters} reporters flat out",
            ceilings.unary.rate,
            "/s",
            {f"empty calls/s, {callers}": ceilings.unary_floor.rate},
        ),
        Figure(
            "p4.cpu_per_report",
            f"P4 HQ CPU per report, {sizes.reporters} reporters",
            ceilings.unary.cpu_per_call * 1e3,
            "ms",
            unary_cpu,
        ),
        Figure(
            "p4.stream_ceiling_per_s",
            f"P4 reports/s, {sizes.reporters} reporters, one stream each",
            ceilings.streamed.rate,
            "/s",
            {
                f"empty calls/s, {callers}": ceilings.unary_floor.rate,
                f"empty stream messages/s, {callers}": ceilings.stream_floor.rate,
            },
        ),
        Figure(
            "p4.stream_cpu_per_report",
            f"P4 HQ CPU per report, {sizes.reporters} reporters, one stream each",
            ceilings.streamed.cpu_per_call * 1e3,
            "ms",
            {
                **unary_cpu,
                f"echo CPU per empty stream message, {callers}": (
                    ceilings.stream_floor.cpu_per_call * 1e3
                ),
            },
        ),
    ]
