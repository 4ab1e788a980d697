"""P4: usage ingest. 10,000 agents reporting each minute is ~167 ReportUsage calls a second.

Reports arrive on a fixed schedule (open loop) at a rate above that, each one moving a branch's
grant forward (every tenth with a skipped number), through the pool of connections P2 opened
to the same HQ. Latency counts from each report's scheduled instant. A closed loop of 32
reporters then finds the ceiling. Floors: the same two shapes of empty calls to the echo process.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.timestamp_pb2 import Timestamp

from bench import load
from bench.echo_server import empty_call
from bench.figures import Figure, Goal, Results, ms, percentile
from bench.servers import Server
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc, common_pb2

if TYPE_CHECKING:
    from bench.p2_hq import Granted

NEEDED_PER_S = 10_000 / 60
GOAL_PER_S = 200.0
GOAL_P99_MS = 50.0
STEP = 10  # numbers a branch issues between two reports


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
    async with load.channels(hq.address, sizes.connections) as opened:
        reports = _Reports(granted, [branch_pb2_grpc.BranchServiceStub(c) for c in opened])
        steady = (await load.open_loop(reports.call, sizes.rate, count)).check("ReportUsage")
        ceiling = await _ceiling(hq, reports.call, sizes)
    return _figures(steady, steady_floor, ceiling, ceiling_floor, sizes)


async def _ceiling(server: Server, make: Callable[[int], load.Call], sizes: Sizes) -> load.Run:
    """`reporters` callers flat out, each taking the next report in turn."""
    serial = itertools.count()

    def reporter() -> load.Call:
        return lambda: make(next(serial))()

    calls = [reporter() for _ in range(sizes.reporters)]
    run = await load.measuring(server, load.closed_loop(calls, sizes.capacity_seconds))
    return run.check("closed loop")


class _Reports:
    """Report `index` comes from branch `index % n`, each round a few numbers further on."""

    def __init__(
        self, granted: Sequence[Granted], stubs: Sequence[branch_pb2_grpc.BranchServiceStub]
    ) -> None:
        self._granted = granted
        self._stubs = stubs

    def call(self, index: int) -> load.Call:
        branch = self._granted[index % len(self._granted)]
        stub = self._stubs[index % len(self._stubs)]
        report = _report(branch, index // len(self._granted), index)
        return lambda: stub.ReportUsage(report, timeout=10)


def _report(branch: Granted, round_: int, index: int) -> branch_pb2.UsageReport:
    numbers = branch.grant.range
    used = min(numbers.end - numbers.begin + 1, STEP * (round_ + 1))
    usage = branch_pb2.GrantUsage(grant_id=branch.grant.grant_id, next_number=numbers.begin + used)
    if index % 10 == 0:  # a number given back after a later one went out: reported blank
        usage.skipped.append(common_pb2.Span(begin=numbers.begin + 1, end=numbers.begin + 1))
    now = Timestamp()
    now.GetCurrentTime()
    return branch_pb2.UsageReport(
        report_id=f"bench-{index}", branch_ban=branch.ban, grants=[usage], agent_time=now
    )


def _figures(
    steady: load.Run,
    steady_floor: load.Run,
    ceiling: load.Run,
    ceiling_floor: load.Run,
    sizes: Sizes,
) -> list[Figure]:
    p99 = ms(percentile(steady.latencies, 99))
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
            ceiling.rate,
            "/s",
            {f"empty calls/s, {sizes.reporters} callers": ceiling_floor.rate},
        ),
        Figure(
            "p4.cpu_per_report",
            f"P4 HQ CPU per report, {sizes.reporters} reporters",
            ceiling.cpu_per_call * 1e3,
            "ms",
            {
                f"echo CPU per empty call, {sizes.reporters} callers": ceiling_floor.cpu_per_call
                * 1e3
            },
        ),
    ]
