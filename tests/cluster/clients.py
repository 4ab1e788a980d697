"""gRPC clients for a cluster under test, and checks made from the stored data alone."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc
from sqlalchemy import Engine, text

from hq_server.queries import TrackAccount, reconcile
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc, branch_pb2, branch_pb2_grpc, common_pb2

T = TypeVar("T")
GENERAL = common_pb2.INVOICE_TYPE_GENERAL
PERIOD = "11512"
LEADER_HINT = re.compile(r"\(leader: ([^)]+)\)")
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class HqClients:
    """Channels to every replica; `write` follows UNAVAILABLE to the leader it names, or on."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = list(addresses)
        self.channels = {a: grpc.aio.insecure_channel(a) for a in addresses}
        self.preferred = addresses[0]

    def branch(self, address: str) -> branch_pb2_grpc.BranchServiceStub:
        return branch_pb2_grpc.BranchServiceStub(self.channels[address])

    def admin(self, address: str) -> admin_pb2_grpc.AdminServiceStub:
        return admin_pb2_grpc.AdminServiceStub(self.channels[address])

    async def write(self, call: Callable[[str], Awaitable[T]], timeout: float = 20.0) -> T:
        """`call(address)` until one succeeds; retry ids make repeated grants safe."""
        deadline = time.monotonic() + timeout
        address = self.preferred
        while True:
            try:
                result = await call(address)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE or time.monotonic() > deadline:
                    raise
                hint = LEADER_HINT.search(error.details() or "")
                named = hint.group(1) if hint else None
                address = (
                    named if named in self.channels and named != address else self.next(address)
                )
                await asyncio.sleep(0.05)
                continue
            self.preferred = address
            return result

    def next(self, address: str) -> str:
        return self.addresses[(self.addresses.index(address) + 1) % len(self.addresses)]

    async def request_range(self, ban: str, rid: str, timeout: float = 20.0) -> branch_pb2.Grant:
        return await self.write(
            lambda a: self.branch(a).RequestRange(range_request(ban, rid), timeout=3),
            timeout,
        )

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()


def range_request(ban: str, rid: str, booklets: int = 1) -> branch_pb2.RequestRangeRequest:
    return branch_pb2.RequestRangeRequest(
        request_id=rid, branch_ban=ban, year_month=PERIOD, invoice_type=GENERAL, booklets=booklets
    )


async def setup_pool(clients: HqClients, bans: list[str], end: int = 999_999) -> None:
    """One big range of period 11512 and the branches, with quotas that never bind."""
    await clients.write(
        lambda a: clients.admin(a).AddAssignment(
            admin_pb2.AddAssignmentRequest(
                year_month=PERIOD,
                invoice_type=GENERAL,
                range=common_pb2.TrackRange(track="AB", begin=0, end=end),
                actor="test",
            ),
            timeout=5,
        )
    )
    for ban in bans:
        await clients.write(lambda a, ban=ban: clients.admin(a).AddBranch(branch(ban), timeout=5))


def branch(ban: str, per_request: int = 5) -> admin_pb2.AddBranchRequest:
    return admin_pb2.AddBranchRequest(
        ban=ban,
        name=f"store {ban}",
        actor="test",
        quota=common_pb2.Quota(booklets_per_request=per_request, booklets_per_period=100_000),
    )


def overlapping_grants(engine: Engine) -> list[tuple[str, str]]:
    """Pairs of stored grants of one pool that share a number (there must be none)."""
    query = text(
        "SELECT a.id, b.id FROM grants a JOIN grants b ON a.year_month = b.year_month "
        'AND a.track = b.track AND a.id < b.id AND a.begin <= b."end" AND b.begin <= a."end"'
    )
    with engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(query)]


def stored_grants(engine: Engine) -> dict[str, tuple[str, int, int]]:
    """request id -> (grant id, begin, end), from the database."""
    query = text('SELECT request_id, id, begin, "end" FROM grants')
    with engine.connect() as conn:
        return {r[0]: (r[1], r[2], r[3]) for r in conn.execute(query)}


def accounts(engine: Engine) -> list[TrackAccount]:
    with engine.connect() as conn:
        return reconcile(conn, None)


def leadership(engine: Engine) -> tuple[str, int] | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT holder, fencing_token FROM leadership")).first()
    return (row[0], row[1]) if row else None
