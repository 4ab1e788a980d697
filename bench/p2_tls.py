"""P2 through mutual TLS: the period-start burst with every branch on its own certificate.

Each branch is an agent with its own key and a certificate of the HQ's CA naming its BAN (as
`einv-agent enroll` leaves it), so each has its own TLS connection: 10,000 branches are 10,000
handshakes and 10,000 connections at HQ. Agents keep their connection open (the WatchConfig
stream), so the handshakes happen before the burst and are timed on their own. The floor is
the same burst, same shape (one connection per branch), in plaintext on a fresh copy of the same
seed, in the same run: the difference is what TLS costs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from time import perf_counter, process_time

import grpc

from bench import load
from bench.figures import Figure, Goal, Results
from bench.p2_branches import Branches, check_disjoint
from bench.p2_hq import GOAL_SECONDS, PLAN
from bench.seed import seed_hq
from bench.servers import Server, hq_process
from demo.cluster import valid_bans
from runtime import pki, principal

LIFETIME = timedelta(hours=2)
CONNECTING = 200  # handshakes in flight while the branches connect
READY_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class Sizes:
    branches: int


FULL = Sizes(branches=10_000)
SMOKE = Sizes(branches=100)


@dataclass(frozen=True, slots=True)
class Burst:
    connect_seconds: float
    run: load.Run
    client_cpu: float  # seconds this process (the 10,000 agents) spent in the burst


def run(root: Path, sizes: Sizes, results: Results) -> list[Figure]:
    bans = valid_bans(sizes.branches)
    certs = root / "certs"
    authority = _hq_certificates(certs)
    started = perf_counter()
    credentials = [_branch_credentials(authority, ban) for ban in bans]
    made = perf_counter() - started
    plain = _burst(root / "plain", bans, None, [None] * len(bans))
    secure = _burst(root / "tls", bans, certs, credentials)
    results.note(
        f"P2 TLS: {len(bans):,} branches, each its own certificate and connection "
        f"({made:.1f} s to make the keys and certificates); plaintext floor of the same shape"
    )
    return _figures(len(bans), plain, secure)


def _hq_certificates(certs: Path) -> pki.CertificateAuthority:
    """What `einv-admin certs init-ca` and `certs hq --host 127.0.0.1` write."""
    authority = pki.create_ca()
    hq_key = pki.new_key()
    hq_cert = authority.issue(
        hq_key.public_key(), "hq", principal.HQ.spiffe_id, LIFETIME, ["127.0.0.1"], server=True
    )
    certs.mkdir(parents=True)
    pki.write_public(certs / pki.CA_CERT, pki.cert_pem(authority.cert))
    pki.write_public(certs / pki.HQ_CERT, pki.cert_pem(hq_cert))
    pki.write_private(certs / pki.HQ_KEY, pki.key_pem(hq_key))
    return authority


def _branch_credentials(authority: pki.CertificateAuthority, ban: str) -> grpc.ChannelCredentials:
    """A branch's key and the certificate HQ signs at enrolment (identity: its BAN)."""
    key = pki.new_key()
    cert = authority.issue(key.public_key(), ban, principal.branch(ban).spiffe_id, LIFETIME)
    ca = pki.cert_pem(authority.cert)
    return grpc.ssl_channel_credentials(ca, pki.key_pem(key), pki.cert_pem(cert))


def _burst(
    root: Path,
    bans: Sequence[str],
    certs: Path | None,
    credentials: Sequence[grpc.ChannelCredentials | None],
) -> Burst:
    root.mkdir(parents=True)
    db_url = f"sqlite:///{root / 'hq.db'}"
    period = seed_hq(db_url, bans, PLAN)
    with hq_process(root, db_url, certs) as hq:
        return asyncio.run(_connected_burst(hq, bans, period.to_year_month(), credentials))


async def _connected_burst(
    hq: Server,
    bans: Sequence[str],
    year_month: str,
    credentials: Sequence[grpc.ChannelCredentials | None],
) -> Burst:
    started = perf_counter()
    async with _one_connection_each(hq.address, credentials) as opened:
        connected = perf_counter() - started
        branches = Branches(bans, year_month, opened, PLAN.per_request)
        cpu = process_time()
        real = (await load.measuring(hq, load.burst(branches.asks()))).check("RequestRange burst")
        cpu = process_time() - cpu
    check_disjoint(branches.granted())
    return Burst(connected, real, cpu)


@contextlib.asynccontextmanager
async def _one_connection_each(
    address: str, credentials: Sequence[grpc.ChannelCredentials | None]
) -> AsyncIterator[list[grpc.aio.Channel]]:
    opened = [
        grpc.aio.insecure_channel(address, options=load.CHANNEL_OPTIONS)
        if given is None
        else grpc.aio.secure_channel(address, given, options=load.CHANNEL_OPTIONS)
        for given in credentials
    ]
    gate = asyncio.Semaphore(CONNECTING)

    async def ready(channel: grpc.aio.Channel) -> None:
        async with gate:
            await channel.channel_ready()

    try:
        await asyncio.wait_for(asyncio.gather(*map(ready, opened)), READY_TIMEOUT)
        yield opened
    finally:
        await asyncio.gather(*(c.close() for c in opened))


def _figures(count: int, plain: Burst, secure: Burst) -> list[Figure]:
    same_shape = f"plaintext, {count:,} connections"
    wall = Figure(
        "p2.tls_burst_seconds",
        f"P2 mutual TLS burst, {count:,} branches served",
        secure.run.elapsed,
        "s",
        {f"{same_shape}: burst": plain.run.elapsed},
        Goal(f"all served in < {GOAL_SECONDS:.0f} s", secure.run.elapsed < GOAL_SECONDS),
    )
    connect = Figure(
        "p2.tls_connect_seconds",
        f"P2 mutual TLS: {count:,} branches connected (handshakes, before the burst)",
        secure.connect_seconds,
        "s",
        {f"{same_shape}: connected": plain.connect_seconds},
    )
    cpu = Figure(
        "p2.tls_cpu_per_grant",
        "P2 mutual TLS HQ CPU per grant in the burst",
        secure.run.cpu_per_call * 1e3,
        "ms",
        {f"{same_shape}: HQ CPU per grant": plain.run.cpu_per_call * 1e3},
    )
    client = Figure(
        "p2.tls_client_cpu_per_grant",
        "P2 mutual TLS: the branches' (bench client's) CPU per grant in the burst",
        secure.client_cpu / count * 1e3,
        "ms",
        {f"{same_shape}: client CPU per grant": plain.client_cpu / count * 1e3},
    )
    return [wall, connect, cpu, client]
