"""Fencing tokens refuse a deposed writer; configuration changes reach a watching agent."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from hq_server.coordinator import LocalCoordinator
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.fixtures import snapshot
from tests.hq_server.conftest import HqHandle
from tests.hq_server.test_branch_api import request, setup_pool


async def test_a_newer_token_fences_the_old_writer(hq: HqHandle) -> None:
    await setup_pool(hq)
    usurper = LocalCoordinator(hq.app.store, "other-hq", hq.clock)
    await usurper.start()
    assert usurper.token() > hq.app.coordinator.token()
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.RequestRange(request(BRANCH_BANS[0], "f1"))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "fenced" in info.value.details() and "other-hq" in info.value.details()
    assert snapshot(hq) == before


async def test_quota_change_reaches_a_watching_agent(hq: HqHandle) -> None:
    await setup_pool(hq, per_request=2, per_period=10)
    stream = hq.branch.WatchConfig(branch_pb2.WatchConfigRequest(branch_ban=BRANCH_BANS[1]))
    first = await asyncio.wait_for(stream.read(), 5)
    assert first.quota.booklets_per_request == 2 and first.enabled
    await hq.admin.SetQuota(
        admin_pb2.SetQuotaRequest(
            ban=BRANCH_BANS[1],
            quota=common_pb2.Quota(booklets_per_request=5, booklets_per_period=50),
        )
    )
    second = await asyncio.wait_for(stream.read(), 1.0)
    assert second.quota.booklets_per_request == 5 and second.version > first.version
    await hq.admin.SetRangeStatus(admin_pb2.SetRangeStatusRequest(assignment_id=1, status=3))
    third = await asyncio.wait_for(stream.read(), 1.0)
    assert [(r.track, r.begin, r.end) for r in third.disabled_ranges] == [("AB", 0, 999)]
    stream.cancel()
