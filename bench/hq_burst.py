"""The period-start burst on a cluster: how many grants per second the leader sustains.

Starts 3 etcd members, a fresh PostgreSQL database and 2 HQ replicas (cluster mode) on
loopback, registers N branches (default 10,000), then has every branch request a range at once
through the leader. Next to it, in the same run and database, a raw PostgreSQL loop of
single-row INSERT + COMMIT: the cost of one durable commit on this machine, the ceiling of any
design that commits once per grant. Prints both and their ratio. Not a test: nothing is asserted
except that the grants do not overlap.

    .venv/bin/python bench/hq_burst.py [--branches 10000] [--raw-commits 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

import grpc
import psycopg
from sqlalchemy import create_engine, text

from demo.cluster import EtcdCluster, Replica, fresh_database, replica_args, valid_bans
from demo.procs import free_port
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc, branch_pb2, branch_pb2_grpc, common_pb2

HEAD_BAN = "22099131"
GENERAL = common_pb2.INVOICE_TYPE_GENERAL
PERIOD = "11512"
SIM = ["--sim-start", "2026-11-23T10:00:00+08:00"]
CHANNELS = 8  # spread the client's streams over a few HTTP/2 connections
REGISTER_IN_FLIGHT = 64


def raw_commits_per_second(db_url: str, count: int) -> float:
    """Sequential single-row INSERT + COMMIT on one connection (synchronous_commit as set)."""
    conninfo = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_raw (id serial PRIMARY KEY, v integer NOT NULL)")
        started = time.perf_counter()
        for n in range(count):
            conn.execute("INSERT INTO bench_raw (v) VALUES (%s)", (n,))
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw")
    return count / elapsed


async def register(admin: admin_pb2_grpc.AdminServiceStub, bans: list[str]) -> None:
    await admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month=PERIOD,
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="AB", begin=0, end=50 * 2 * len(bans) - 1),
            actor="bench",
        )
    )
    gate = asyncio.Semaphore(REGISTER_IN_FLIGHT)

    async def one(ban: str) -> None:
        async with gate:
            await admin.AddBranch(
                admin_pb2.AddBranchRequest(
                    ban=ban,
                    name=f"store {ban}",
                    actor="bench",
                    quota=common_pb2.Quota(booklets_per_request=1, booklets_per_period=10),
                ),
                timeout=60,
            )

    await asyncio.gather(*(one(ban) for ban in bans))


async def burst(address: str, bans: list[str]) -> tuple[float, list[float]]:
    """Every branch asks for one booklet at the same moment; (seconds, latencies)."""
    channels = [grpc.aio.insecure_channel(address) for _ in range(CHANNELS)]
    stubs = [branch_pb2_grpc.BranchServiceStub(c) for c in channels]
    latencies: list[float] = []

    async def one(n: int, ban: str) -> None:
        sent = time.perf_counter()
        await stubs[n % CHANNELS].RequestRange(
            branch_pb2.RequestRangeRequest(
                request_id=f"burst-{ban}",
                branch_ban=ban,
                year_month=PERIOD,
                invoice_type=GENERAL,
                booklets=1,
            ),
            timeout=600,
        )
        latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    await asyncio.gather(*(one(n, ban) for n, ban in enumerate(bans)))
    elapsed = time.perf_counter() - started
    for channel in channels:
        await channel.close()
    return elapsed, latencies


def overlaps(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT count(*) FROM grants a JOIN grants b ON a.track = b.track "
                "AND a.year_month = b.year_month AND a.id < b.id "
                'AND a.begin <= b."end" AND b.begin <= a."end"'
            )
        ).scalar_one()
    engine.dispose()
    return int(found)


def leader_address(db_url: str) -> str:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        holder = conn.execute(text("SELECT holder FROM leadership")).scalar_one()
    engine.dispose()
    return str(holder)


async def measure(db_url: str, bans: list[str], raw_count: int) -> None:
    leader = leader_address(db_url)
    async with grpc.aio.insecure_channel(leader) as channel:
        started = time.perf_counter()
        await register(admin_pb2_grpc.AdminServiceStub(channel), bans)
        print(f"registered {len(bans)} branches in {time.perf_counter() - started:.1f} s")
    raw = raw_commits_per_second(db_url, raw_count)
    elapsed, latencies = await burst(leader, bans)
    rate = len(bans) / elapsed
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"burst: {len(bans)} grants in {elapsed:.2f} s through the leader {leader}")
    print(f"  grants/s                 {rate:10.0f}")
    print(f"  raw PostgreSQL commits/s {raw:10.0f}  (single-row INSERT + COMMIT loop)")
    print(f"  ratio grants/commits     {rate / raw:10.2f}")
    print(f"  grant latency p50 {quantiles[49]:.2f} s, p99 {quantiles[98]:.2f} s")
    print(f"  overlapping grants: {overlaps(db_url)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=10_000)
    parser.add_argument("--raw-commits", type=int, default=2_000)
    parser.add_argument("--lease-ttl", type=int, default=5)
    args = parser.parse_args()
    bans = valid_bans(args.branches)
    with (
        tempfile.TemporaryDirectory(prefix="einv-bench-") as tmp,
        fresh_database(prefix="einv_bench") as db_url,
    ):
        root = Path(tmp)
        etcd = EtcdCluster(root / "etcd").start()
        serve = replica_args(HEAD_BAN, db_url, etcd.endpoints, args.lease_ttl, ["--insecure", *SIM])
        replicas = [Replica(n, f"127.0.0.1:{free_port()}", serve, root / "hq") for n in ("a", "b")]
        try:
            for replica in replicas:
                replica.start()
            asyncio.run(measure(db_url, bans, args.raw_commits))
        except Exception:
            for replica in replicas:
                print(f"--- {replica.name} log (tail) ---\n{replica.log_text()[-3000:]}")
            raise
        finally:
            for replica in replicas:
                with contextlib.suppress(Exception):
                    replica.stop()
            etcd.stop()


if __name__ == "__main__":
    main()
