"""In-process HQs for tests (a pytest plugin of the root conftest, so every package has them):
`hq` on loopback without TLS and a manual clock, `secure_hq` on mutual TLS with certificates
for every kind of caller; `seed_pool_and_branches`, the state most refusal tests start from;
`snapshot`, every row of the HQ database, to show that a refused call changed nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import Connection

from allocator import TAIPEI
from demo.trust import Certs
from hq_server.app import Hq
from hq_server.coordinator import LocalCoordinator
from hq_server.enrolment import Signer
from hq_server.schema import metadata as hq_metadata
from hq_server.server import build_server
from hq_server.store import Store
from mof_sync.store import metadata as mof_metadata
from notifier.outbox import metadata as notifier_metadata
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc, branch_pb2_grpc, common_pb2
from runtime import pki
from runtime.principal import Role
from runtime.tls import Tls, server_tls
from tests.conftest import BRANCH_BANS, HEAD_BAN, ManualClock


@dataclass
class HqHandle:
    app: Hq
    clock: ManualClock
    admin: admin_pb2_grpc.AdminServiceStub
    branch: branch_pb2_grpc.BranchServiceStub
    address: str


@pytest.fixture
async def hq(tmp_path: Path) -> AsyncIterator[HqHandle]:
    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI))
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    app = Hq(store, LocalCoordinator(store, "test-hq", clock), clock, HEAD_BAN)
    await app.coordinator.start()
    server, port = await build_server(app, "127.0.0.1:0")
    await server.start()
    address = f"127.0.0.1:{port}"
    async with grpc.aio.insecure_channel(address) as channel:
        yield HqHandle(
            app,
            clock,
            admin_pb2_grpc.AdminServiceStub(channel),
            branch_pb2_grpc.BranchServiceStub(channel),
            address,
        )
    await server.stop(0)
    store.close()


@dataclass
class SecureHq:
    """An in-process HQ on mutual TLS, with certificates for every kind of caller."""

    app: Hq
    clock: ManualClock
    address: str
    certs: Certs
    channels: list[grpc.aio.Channel]

    def channel(self, tls: Tls | None) -> grpc.aio.Channel:
        opened = (
            grpc.aio.insecure_channel(self.address)
            if tls is None
            else grpc.aio.secure_channel(self.address, tls.credentials())
        )
        self.channels.append(opened)
        return opened

    def admin_as(self, user: str) -> admin_pb2_grpc.AdminServiceStub:
        return admin_pb2_grpc.AdminServiceStub(self.channel(self.certs.admin_tls(user)))

    def branch_as(self, ban: str) -> branch_pb2_grpc.BranchServiceStub:
        return branch_pb2_grpc.BranchServiceStub(self.channel(self.certs.branch_tls(ban)))


USERS = {"root": Role.ADMIN, "olga": Role.OPERATOR, "vera": Role.VIEWER}


@pytest.fixture
async def secure_hq(tmp_path: Path) -> AsyncIterator[SecureHq]:
    clock = ManualClock(datetime(2026, 11, 23, 10, 0, tzinfo=TAIPEI))
    certs = Certs.create(tmp_path, USERS)
    store = Store(f"sqlite:///{tmp_path / 'hq.db'}")
    app = Hq(store, LocalCoordinator(store, "test-hq", clock), clock, HEAD_BAN)
    app.tls = server_tls(certs.folder)
    app.signer = Signer(pki.load_ca(certs.folder))
    await app.coordinator.start()
    server, port = await build_server(app, "127.0.0.1:0")
    await server.start()
    handle = SecureHq(app, clock, f"127.0.0.1:{port}", certs, [])
    try:
        yield handle
    finally:
        for channel in handle.channels:
            await channel.close()
        await server.stop(0)
        store.close()


async def seed_pool_and_branches(admin: admin_pb2_grpc.AdminServiceStub) -> None:
    """A pool of period 11512 (AB 0-9999) and branches BRANCH_BANS[0] and [1] (4 booklets a
    request, 100 a period)."""
    await admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month="11512",
            invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
            range=common_pb2.TrackRange(track="AB", begin=0, end=9_999),
        )
    )
    for ban in BRANCH_BANS[:2]:
        await admin.AddBranch(
            admin_pb2.AddBranchRequest(
                ban=ban,
                name=f"store {ban}",
                quota=common_pb2.Quota(booklets_per_request=4, booklets_per_period=100),
            )
        )


# The server's tables, MOF sync's and the notifier's: all of the HQ database.
EVERY_TABLE = tuple(
    table for m in (hq_metadata, mof_metadata, notifier_metadata) for table in m.sorted_tables
)


def table_rows(conn: Connection) -> dict[str, list[Any]]:
    """Every row of every table, in an order of their own (equal means nothing changed)."""
    return {
        t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=repr) for t in EVERY_TABLE
    }


def snapshot(hq: HqHandle | SecureHq) -> dict[str, list[Any]]:
    return hq.app.store.read_sync(table_rows)
