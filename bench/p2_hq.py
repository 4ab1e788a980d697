"""P2: the period-start burst on SQLite: every branch asks HQ for a range at the same instant.

The HQ is a real process (`python -m hq_server serve`) on a seeded SQLite file; the branches are
RequestRange calls fired at once from this process over a pool of open connections (agents keep
theirs open: WatchConfig streams). Then the burst the agent makes today: every branch's request
on its own RequestRangeStream, opened before the period starts (bench.p2_branches). Floors: the
same bursts of empty calls and of empty messages on open streams to the echo process, and
single-row commits on the same database file (WAL, synchronous=FULL), the rate any HQ would get
without group commit. P4 then reports usage of the unary burst's grants to the same HQ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import load, p4_usage
from bench.echo_server import empty_call, empty_stream
from bench.figures import Figure, Goal, Results, mean, percentile
from bench.floors import sqlite_commit_loop
from bench.p2_branches import Branches, check_disjoint
from bench.seed import BranchPlan, seed_hq
from bench.servers import Server, hq_process
from demo.cluster import valid_bans

PLAN = BranchPlan(per_request=4, per_period=400)
GOAL_SECONDS = 10.0
GOAL_OF_EMPTY_BURST = 1.4  # the streamed burst's seconds, at most this many empty bursts'
GOAL_OF_RAW_COMMITS = 0.6  # its grants/s, at least this share of raw single-row commits/s


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: int
    connections: int
    raw_commits: int
    usage: p4_usage.Sizes


FULL = Sizes(branches=10_000, connections=100, raw_commits=2000, usage=p4_usage.FULL)
SMOKE = Sizes(branches=200, connections=10, raw_commits=100, usage=p4_usage.SMOKE)


def run(root: Path, echo: Server, sizes: Sizes, with_usage: bool, results: Results) -> list[Figure]:
    root.mkdir(parents=True, exist_ok=True)
    database = root / "hq.db"
    bans = valid_bans(sizes.branches)
    period = seed_hq(f"sqlite:///{database}", bans, PLAN)
    commits = sqlite_commit_loop(database, sizes.raw_commits)
    with hq_process(root, f"sqlite:///{database}") as hq:
        year_month = period.to_year_month()
        branches, streamed, figures = asyncio.run(
            both_bursts(hq, echo, bans, year_month, sizes.connections, commits)
        )
        results.note(
            f"P2: {len(bans):,} branches over {sizes.connections} connections, "
            f"{PLAN.per_request} booklets each, first on unary calls, then on one open stream "
            f"each; {branches.retries:,} and {streamed.retries:,} calls CANCELLED/UNAVAILABLE "
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
) -> tuple[Branches, list[Figure]]:
    """The burst of `bans` to `hq` over `connections` and its floors; the branches and figures."""
    empty = await _empty_burst(echo, len(bans), connections)
    async with load.channels(hq.address, connections) as opened:
        branches = Branches(bans, year_month, opened, PLAN.per_request)
        real = await load.measuring(hq, load.burst(branches.asks()))
        real.check("RequestRange burst")
    check_disjoint(branches.granted())
    return branches, _figures(len(bans), real, empty, commits)


async def both_bursts(
    hq: Server,
    echo: Server,
    bans: Sequence[str],
    year_month: str,
    connections: int,
    commits: list[float],
) -> tuple[Branches, Branches, list[Figure]]:
    """The unary burst, then the streamed one (on one loop: gRPC's client keeps to one)."""
    unary, figures = await burst(hq, echo, bans, year_month, connections, commits)
    streamed, more = await streamed_burst(hq, echo, bans, year_month, connections, commits)
    return unary, streamed, figures + more


@dataclass(frozen=True, slots=True)
class Streamed:
    """A burst on open streams: its run, and how long the streams took to be taken in."""

    run: load.Run
    opening: float


async def streamed_burst(
    hq: Server,
    echo: Server,
    bans: Sequence[str],
    year_month: str,
    connections: int,
    commits: list[float],
) -> tuple[Branches, list[Figure]]:
    """The burst on one open RequestRangeStream per branch, against the same on echo streams
    and the unary empty-call burst; the branches and the figures."""
    empty_calls = await _empty_burst(echo, len(bans), connections)
    empty = await _on_streams(echo, len(bans), connections)
    async with load.channels(hq.address, connections) as opened:
        branches = Branches(bans, year_month, opened, PLAN.per_request)
        opening = await load.taken_in(branches.open_streams(), hq)
        real = await load.measuring(hq, load.burst(branches.streamed_asks()))
        await branches.close_streams()
    real.check("RequestRangeStream burst")
    check_disjoint(branches.granted())
    figures = _streamed_figures(len(bans), Streamed(real, opening), empty, empty_calls, commits)
    return branches, figures


async def _empty_burst(echo: Server, count: int, connections: int) -> load.Run:
    async with load.channels(echo.address, connections) as opened:
        calls = [empty_call(opened[i % len(opened)]) for i in range(count)]
        asks = [lambda c=c: c(b"", timeout=60) for c in calls]
        return (await load.measuring(echo, load.burst(asks))).check("echo")


async def _on_streams(echo: Server, count: int, connections: int) -> Streamed:
    """An empty message on each of `count` open echo streams, all at once."""
    async with load.channels(echo.address, connections) as opened:
        streams = [empty_stream(opened[i % len(opened)]) for i in range(count)]
        opening = await load.taken_in(streams, echo)
        calls = [load.on_stream(stream, lambda: b"") for stream in streams]
        run = (await load.measuring(echo, load.burst(calls))).check("echo streams")
        await load.finish(streams)
    return Streamed(run, opening)


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


def _streamed_figures(
    count: int, real: Streamed, empty: Streamed, empty_calls: load.Run, commits: list[float]
) -> list[Figure]:
    raw_per_s = 1 / mean(commits)
    wall = Figure(
        "p2.sqlite_streamed_burst_seconds",
        f"P2 SQLite burst on open streams, {count:,} branches served",
        real.run.elapsed,
        "s",
        {
            "empty-call burst": empty_calls.elapsed,
            "empty messages on open echo streams": empty.run.elapsed,
        },
        Goal(
            f"<= {GOAL_OF_EMPTY_BURST}x the empty-call burst",
            real.run.elapsed <= GOAL_OF_EMPTY_BURST * empty_calls.elapsed,
        ),
    )
    rate = Figure(
        "p2.sqlite_streamed_grants_per_s",
        "P2 SQLite grants/s in the burst on open streams",
        real.run.rate,
        "/s",
        {"empty calls/s in the burst": empty_calls.rate, "raw commits/s": raw_per_s},
        Goal(
            f">= {GOAL_OF_RAW_COMMITS}x raw commits/s",
            real.run.rate >= GOAL_OF_RAW_COMMITS * raw_per_s,
        ),
    )
    cpu = Figure(
        "p2.sqlite_streamed_cpu_per_grant",
        "P2 SQLite HQ CPU per grant in the burst on open streams",
        real.run.cpu_per_call * 1e3,
        "ms",
        {
            "echo CPU per empty call in the burst": empty_calls.cpu_per_call * 1e3,
            "echo CPU per empty stream message": empty.run.cpu_per_call * 1e3,
        },
    )
    opening = Figure(
        "p2.sqlite_streams_open_seconds",
        f"P2 SQLite: {count:,} RequestRangeStreams opened and taken in, before the period",
        real.opening,
        "s",
        {f"{count:,} echo streams": empty.opening},
    )
    return [wall, rate, cpu, opening]
