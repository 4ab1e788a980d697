"""P2: the period-start burst on SQLite: every branch asks HQ for a range at the same instant.

The HQ is a real process (`python -m hq_server serve`) on a seeded SQLite file; the branches are
RequestRange calls fired at once from this process over a pool of open connections (agents keep
theirs open: WatchConfig streams). Floors: the same burst of empty calls to the echo process,
and single-row commits on the same database file (WAL, synchronous=FULL), the rate any HQ
would get without group commit. P4 then reports usage of these grants to the same HQ.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench import load, p4_usage
from bench.echo_server import empty_call
from bench.figures import Figure, Goal, Results, mean, percentile
from bench.floors import sqlite_commit_loop
from bench.seed import BranchPlan, seed_hq
from bench.servers import Server, hq_process
from branch_agent.buffer.refill import RefillTiming
from demo.cluster import valid_bans
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc, common_pb2
from runtime.backoff import Backoff

PLAN = BranchPlan(per_request=4, per_period=400)
# What the agent's HqClient takes for "HQ unreachable": its refill retries after a backoff.
RETRY_CODES = (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
BACKOFF = RefillTiming()
RETRIES = 30
# Far longer than the agent's 5 s: the burst measures how long HQ takes to serve everyone.
CALL_TIMEOUT = 600.0
GOAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: int
    connections: int
    raw_commits: int
    usage: p4_usage.Sizes


FULL = Sizes(branches=10_000, connections=100, raw_commits=2000, usage=p4_usage.FULL)
SMOKE = Sizes(branches=200, connections=10, raw_commits=100, usage=p4_usage.SMOKE)


@dataclass(frozen=True, slots=True)
class Granted:
    ban: str
    grant: branch_pb2.Grant


def run(root: Path, echo: Server, sizes: Sizes, with_usage: bool, results: Results) -> list[Figure]:
    root.mkdir(parents=True, exist_ok=True)
    database = root / "hq.db"
    bans = valid_bans(sizes.branches)
    period = seed_hq(f"sqlite:///{database}", bans, PLAN)
    commits = sqlite_commit_loop(database, sizes.raw_commits)
    with hq_process(root, f"sqlite:///{database}") as hq:
        branches, figures = asyncio.run(
            burst(hq, echo, bans, period.to_year_month(), sizes.connections, commits)
        )
        results.note(
            f"P2: {len(bans):,} branches over {sizes.connections} connections, "
            f"{PLAN.per_request} booklets each; {branches.retries:,} calls CANCELLED/UNAVAILABLE "
            "by HQ and retried as an agent does"
        )
        if with_usage:
            figures += p4_usage.run(hq, echo, branches.granted(), sizes.usage, results)
    return figures


async def burst(
    hq: Server,
    echo: Server,
    bans: Sequence[str],
    year_month: str,
    connections: int,
    commits: list[float],
) -> tuple[_Branches, list[Figure]]:
    """The burst of `bans` to `hq` over `connections` and its floors; the branches and figures."""
    async with load.channels(echo.address, connections) as opened:
        calls = [empty_call(opened[i % len(opened)]) for i in range(len(bans))]
        asks = [lambda c=c: c(b"", timeout=60) for c in calls]
        empty = (await load.measuring(echo, load.burst(asks))).check("echo")
    async with load.channels(hq.address, connections) as opened:
        branches = _Branches(bans, year_month, opened)
        real = await load.measuring(hq, load.burst(branches.asks()))
        real.check("RequestRange burst")
    _check_disjoint(branches.granted())
    return branches, _figures(len(bans), real, empty, commits)


class _Branches:
    """The agents of the burst: each asks once and, like `branch_agent.buffer.refill`, retries
    with the same request id after a backoff when HQ does not answer (CANCELLED, UNAVAILABLE)."""

    def __init__(
        self, bans: Sequence[str], year_month: str, opened: Sequence[grpc.aio.Channel]
    ) -> None:
        self.bans = bans
        self.year_month = year_month
        self.stubs = [branch_pb2_grpc.BranchServiceStub(channel) for channel in opened]
        self.replies: list[branch_pb2.Grant | None] = [None] * len(bans)
        self.retries = 0

    def asks(self) -> list[load.Call]:
        return [lambda i=i: self._ask(i) for i in range(len(self.bans))]

    async def _ask(self, index: int) -> None:
        request = branch_pb2.RequestRangeRequest(
            request_id=str(uuid.uuid4()),
            branch_ban=self.bans[index],
            year_month=self.year_month,
            invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
            booklets=PLAN.per_request,
        )
        stub = self.stubs[index % len(self.stubs)]
        backoff = Backoff(BACKOFF.backoff_min, BACKOFF.backoff_max)
        for _ in range(RETRIES):
            try:
                self.replies[index] = await stub.RequestRange(request, timeout=CALL_TIMEOUT)
                return
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRY_CODES:
                    raise
            self.retries += 1
            await backoff.sleep()
        self.replies[index] = await stub.RequestRange(request, timeout=CALL_TIMEOUT)

    def granted(self) -> list[Granted]:
        pairs = zip(self.bans, self.replies, strict=True)
        return [Granted(ban, reply) for ban, reply in pairs if reply is not None]


def _check_disjoint(granted: Sequence[Granted]) -> None:
    """A benchmark of wrong answers is worthless: the grants must not share a number."""
    spans = sorted((g.grant.range.track, g.grant.range.begin, g.grant.range.end) for g in granted)
    for before, after in itertools.pairwise(spans):
        if before[0] == after[0] and after[1] <= before[2]:
            raise RuntimeError(f"overlapping grants in the burst: {before} and {after}")


def _figures(count: int, real: load.Run, empty: load.Run, commits: list[float]) -> list[Figure]:
    serial = count * mean(commits)  # every grant its own commit, one after another
    wall = Figure(
        "p2.sqlite_burst_seconds",
        f"P2 SQLite burst, {count:,} branches served",
        real.elapsed,
        "s",
        {"empty-call burst": empty.elapsed, f"{count:,} raw commits in a row": serial},
        Goal(f"all served in < {GOAL_SECONDS:.0f} s", real.elapsed < GOAL_SECONDS),
    )
    rate = Figure(
        "p2.sqlite_grants_per_s",
        "P2 SQLite grants/s in the burst",
        real.rate,
        "/s",
        {"empty calls/s in the burst": empty.rate, "raw commits/s": 1 / mean(commits)},
    )
    p99 = Figure(
        "p2.sqlite_p99",
        "P2 SQLite grant p99 (from burst start)",
        percentile(real.latencies, 99),
        "s",
        {
            "empty-call burst p99": percentile(empty.latencies, 99),
            f"{count:,} raw commits in a row": serial,
        },
    )
    cpu = Figure(
        "p2.sqlite_cpu_per_grant",
        "P2 SQLite HQ CPU per grant in the burst",
        real.cpu_per_call * 1e3,
        "ms",
        {"echo CPU per empty call in the burst": empty.cpu_per_call * 1e3},
    )
    return [wall, rate, p99, cpu]
