"""An in-process HQ server on a loopback port with a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import grpc
import pytest

from allocator import TAIPEI
from hq_server.app import Hq
from hq_server.coordinator import LocalCoordinator
from hq_server.server import build_server
from hq_server.store import Store
from protos.einvoice.v1 import admin_pb2_grpc, branch_pb2_grpc
from tests.conftest import HEAD_BAN, ManualClock


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
