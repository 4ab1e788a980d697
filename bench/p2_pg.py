"""P2 on PostgreSQL: the burst through the leader of two HQ replicas in cluster mode.

The cluster, the registration, the burst, the raw-commit loop and the overlap check are
bench/hq_burst.py's (its own stand-alone script); this module runs them with the suite's sizes
and turns what they return into figures. Then the burst the agent makes today: each branch's
next request on its own RequestRangeStream, opened before the period starts (bench.p2_branches).
Floors: single-row INSERT + COMMIT on the same database (hq_burst's loop) and the same burst of
empty calls to the echo process.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from time import monotonic
from types import ModuleType

import grpc
from sqlalchemy.exc import SQLAlchemyError

from bench import load
from bench.echo_server import empty_call
from bench.figures import Figure, Goal, Results, percentile
from bench.p2_branches import Branches
from bench.p2_hq import GOAL_OF_EMPTY_BURST, GOAL_OF_RAW_COMMITS
from bench.servers import HEAD_BAN, REPO, Server, loopback
from demo.cluster import (
    EtcdCluster,
    Replica,
    fresh_database,
    postgres_reachable,
    replica_args,
    valid_bans,
)
from protos.einvoice.v1 import admin_pb2_grpc

GOAL_SECONDS = 10.0
LEASE_TTL = 5
LEADER_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: int
    raw_commits: int


FULL = Sizes(branches=10_000, raw_commits=2000)
SMOKE = Sizes(branches=50, raw_commits=50)


def unavailable() -> str | None:
    """Why the PostgreSQL burst cannot run here, or None when it can."""
    if not (REPO / "bench" / "hq_burst.py").exists():
        return "bench/hq_burst.py is not there"
    if shutil.which("etcd") is None:
        return "etcd is not installed (scripts/setup installs it)"
    if not postgres_reachable():
        return "PostgreSQL is not reachable on 127.0.0.1:5432"
    return None


def run(root: Path, echo: Server, sizes: Sizes, results: Results) -> list[Figure]:
    if (why := unavailable()) is not None:
        results.note(f"P2 PostgreSQL skipped: {why}")
        return []
    burst = importlib.import_module("bench.hq_burst")
    bans = valid_bans(sizes.branches)
    with fresh_database(prefix="einv_bench") as db_url:
        etcd = EtcdCluster(root / "etcd").start()
        serve = replica_args(
            HEAD_BAN, db_url, etcd.endpoints, LEASE_TTL, ["--insecure", *burst.SIM]
        )
        replicas = [Replica(name, loopback(), serve, root / "hq") for name in ("a", "b")]
        try:
            for replica in replicas:
                replica.start()
            figures = asyncio.run(_measure(burst, db_url, bans, echo, sizes, replicas))
        finally:
            for replica in replicas:
                replica.stop()
            # Its data goes with the run; a graceful stop waits 5 s for a leader hand-over.
            for member in etcd.members:
                member.kill9()
    results.note(
        f"P2 PostgreSQL: {len(bans):,} branches through the leader of 2 replicas "
        f"(bench/hq_burst.py: {burst.CHANNELS} channels, no retries), then again on one "
        "open stream each"
    )
    return figures


async def _measure(
    burst: ModuleType,
    db_url: str,
    bans: list[str],
    echo: Server,
    sizes: Sizes,
    replicas: list[Replica],
) -> list[Figure]:
    leader = await _leader(burst, db_url)
    async with grpc.aio.insecure_channel(leader) as channel:
        await burst.register(admin_pb2_grpc.AdminServiceStub(channel), bans)
    raw_per_s = burst.raw_commits_per_second(db_url, sizes.raw_commits)
    async with load.channels(echo.address, burst.CHANNELS) as opened:
        calls = [empty_call(opened[i % len(opened)]) for i in range(len(bans))]
        asks = [lambda c=c: c(b"", timeout=60) for c in calls]
        empty = (await load.measuring(echo, load.burst(asks))).check("echo")
    elapsed, latencies = await burst.burst(leader, bans)
    streamed = await _streamed(burst, _serving(leader, replicas), bans)
    if (overlapping := burst.overlaps(db_url)) != 0:
        raise RuntimeError(f"{overlapping} overlapping grants after the PostgreSQL bursts")
    return [
        *_figures(len(bans), elapsed, latencies, empty, raw_per_s),
        *_streamed_figures(len(bans), streamed, empty, raw_per_s),
    ]


def _serving(address: str, replicas: list[Replica]) -> Server:
    for replica in replicas:
        if replica.address == address:
            return Server(address, replica.pid)
    raise RuntimeError(f"the leader {address} is none of {[r.address for r in replicas]}")


async def _streamed(burst: ModuleType, leader: Server, bans: list[str]) -> load.Run:
    """Each branch's second booklet, on its own RequestRangeStream opened and taken in first."""
    async with load.channels(leader.address, burst.CHANNELS) as opened:
        branches = Branches(bans, burst.PERIOD, opened, booklets=1)
        await load.taken_in(branches.open_streams(), leader)
        run = await load.measuring(leader, load.burst(branches.streamed_asks()))
        await branches.close_streams()
    return run.check("RequestRangeStream burst on PostgreSQL")


async def _leader(burst: ModuleType, db_url: str) -> str:
    """The address in the fence row, once a replica has taken office."""
    deadline = monotonic() + LEADER_TIMEOUT
    while monotonic() < deadline:
        try:
            return str(await asyncio.to_thread(burst.leader_address, db_url))
        except SQLAlchemyError:
            await asyncio.sleep(0.2)
    raise RuntimeError(f"no HQ replica took office within {LEADER_TIMEOUT:.0f} s")


def _figures(
    count: int, elapsed: float, latencies: list[float], empty: load.Run, raw_per_s: float
) -> list[Figure]:
    serial = count / raw_per_s
    return [
        Figure(
            "p2.pg_burst_seconds",
            f"P2 PostgreSQL burst, {count:,} branches served",
            elapsed,
            "s",
            {"empty-call burst": empty.elapsed, f"{count:,} raw commits in a row": serial},
            Goal(f"all served in < {GOAL_SECONDS:.0f} s", elapsed < GOAL_SECONDS),
        ),
        Figure(
            "p2.pg_grants_per_s",
            "P2 PostgreSQL grants/s in the burst",
            count / elapsed,
            "/s",
            {"empty calls/s in the burst": empty.rate, "raw commits/s": raw_per_s},
        ),
        Figure(
            "p2.pg_p99",
            "P2 PostgreSQL grant p99",
            percentile(latencies, 99),
            "s",
            {
                "empty-call burst p99": percentile(empty.latencies, 99),
                f"{count:,} raw commits in a row": serial,
            },
        ),
    ]


def _streamed_figures(count: int, run: load.Run, empty: load.Run, raw_per_s: float) -> list[Figure]:
    return [
        Figure(
            "p2.pg_streamed_burst_seconds",
            f"P2 PostgreSQL burst on open streams, {count:,} branches served",
            run.elapsed,
            "s",
            {
                "empty-call burst": empty.elapsed,
                f"{count:,} raw commits in a row": count / raw_per_s,
            },
            Goal(
                f"<= {GOAL_OF_EMPTY_BURST}x the empty-call burst",
                run.elapsed <= GOAL_OF_EMPTY_BURST * empty.elapsed,
            ),
        ),
        Figure(
            "p2.pg_streamed_grants_per_s",
            "P2 PostgreSQL grants/s in the burst on open streams",
            run.rate,
            "/s",
            {"empty calls/s in the burst": empty.rate, "raw commits/s": raw_per_s},
            Goal(
                f">= {GOAL_OF_RAW_COMMITS}x raw commits/s",
                run.rate >= GOAL_OF_RAW_COMMITS * raw_per_s,
            ),
        ),
        Figure(
            "p2.pg_streamed_cpu_per_grant",
            "P2 PostgreSQL leader's CPU per grant in the burst on open streams",
            run.cpu_per_call * 1e3,
            "ms",
            {"echo CPU per empty call in the burst": empty.cpu_per_call * 1e3},
        ),
    ]
