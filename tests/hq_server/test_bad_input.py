"""Bad input on every RPC: a precise status and message, and the stored state unchanged."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.fixtures import snapshot
from tests.hq_server.conftest import HqHandle
from tests.hq_server.test_branch_api import request, setup_pool

GENERAL = common_pb2.INVOICE_TYPE_GENERAL
INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def assignment(
    track: str = "AB", begin: int = 0, end: int = 999, ym: str = "11512", itype: int = GENERAL
) -> admin_pb2.AddAssignmentRequest:
    return admin_pb2.AddAssignmentRequest(
        year_month=ym,
        invoice_type=itype,
        actor="t",
        range=common_pb2.TrackRange(track=track, begin=begin, end=end),
    )


def branch(ban: str, per_request: int = 1, per_period: int = 5) -> admin_pb2.AddBranchRequest:
    return admin_pb2.AddBranchRequest(
        ban=ban,
        name="x",
        actor="t",
        quota=common_pb2.Quota(booklets_per_request=per_request, booklets_per_period=per_period),
    )


CASES = [
    ("AddAssignment", assignment(track="ab"), INVALID, "track 'ab'"),
    ("AddAssignment", assignment(track="A1"), INVALID, "track 'A1'"),
    ("AddAssignment", assignment(begin=10, end=999), INVALID, "not whole booklets"),
    ("AddAssignment", assignment(begin=500, end=1049), PRECONDITION, "overlaps"),
    ("AddAssignment", assignment(ym="11513"), INVALID, "11513"),
    ("AddAssignment", assignment(itype=9), INVALID, "invoice type 9"),
    ("AddAssignment", assignment(begin=2000, end=1000), INVALID, "begin must not be after end"),
    ("AddBranch", branch("04595258"), INVALID, "04595258"),
    ("AddBranch", branch("1234567"), INVALID, "'1234567'"),
    ("AddBranch", branch(BRANCH_BANS[0]), grpc.StatusCode.ALREADY_EXISTS, BRANCH_BANS[0]),
    ("AddBranch", branch("22099131", per_request=0), INVALID, "booklets per request 0"),
    ("DisableBranch", admin_pb2.DisableBranchRequest(ban="22099131"), NOT_FOUND, "22099131"),
    (
        "SetQuota",
        admin_pb2.SetQuotaRequest(
            ban="22099131", quota=common_pb2.Quota(booklets_per_request=1, booklets_per_period=1)
        ),
        NOT_FOUND,
        "22099131",
    ),
    (
        "SetQuota",
        admin_pb2.SetQuotaRequest(
            ban=BRANCH_BANS[0],
            quota=common_pb2.Quota(booklets_per_request=0, booklets_per_period=1),
        ),
        INVALID,
        "booklets per request 0",
    ),
    (
        "SetRangeStatus",
        admin_pb2.SetRangeStatusRequest(assignment_id=99, status=2),
        NOT_FOUND,
        "99",
    ),
    (
        "SetRangeStatus",
        admin_pb2.SetRangeStatusRequest(assignment_id=1, status=7),
        INVALID,
        "range status 7",
    ),
    (
        "ClosePeriod",
        admin_pb2.ClosePeriodRequest(year_month="11512", invoice_type=GENERAL),
        PRECONDITION,
        "closing it waits",
    ),
    ("GetUsage", admin_pb2.GetUsageRequest(year_month="2025"), INVALID, "'2025'"),
]

BRANCH_CASES = [
    (request("04595258", "b1"), INVALID, "04595258"),
    (request("22099131", "b2"), NOT_FOUND, "22099131 is not registered"),
    (
        branch_pb2.RequestRangeRequest(
            request_id="b3", branch_ban=BRANCH_BANS[0], year_month="11602", booklets=1
        ),
        PRECONDITION,
        "11602 type 07 has no assignment",
    ),
    (
        branch_pb2.RequestRangeRequest(
            request_id="b4", branch_ban=BRANCH_BANS[0], year_month="11508", booklets=1
        ),
        PRECONDITION,
        "period 11508 ended",
    ),
    (
        branch_pb2.RequestRangeRequest(
            request_id="", branch_ban=BRANCH_BANS[0], year_month="11512", booklets=1
        ),
        INVALID,
        "request id",
    ),
]


@pytest.mark.parametrize(
    ("method", "message", "code", "needle"), CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES]
)
async def test_admin_rejects(
    hq: HqHandle, method: str, message: Any, code: grpc.StatusCode, needle: str
) -> None:
    await setup_pool(hq)
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await getattr(hq.admin, method)(message)
    assert info.value.code() == code, info.value.details()
    assert needle in info.value.details()
    assert snapshot(hq) == before


@pytest.mark.parametrize(
    ("message", "code", "needle"), BRANCH_CASES, ids=[c[2] for c in BRANCH_CASES]
)
async def test_branch_rejects(
    hq: HqHandle, message: Any, code: grpc.StatusCode, needle: str
) -> None:
    await setup_pool(hq)
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.RequestRange(message)
    assert info.value.code() == code, info.value.details()
    assert needle in info.value.details()
    assert snapshot(hq) == before


async def test_usage_report_out_of_grant_changes_nothing(hq: HqHandle) -> None:
    await setup_pool(hq)
    g = await hq.branch.RequestRange(request(BRANCH_BANS[0], "o1"))
    before = snapshot(hq)
    bad = branch_pb2.UsageReport(
        branch_ban=BRANCH_BANS[0],
        grants=[
            branch_pb2.GrantUsage(grant_id=g.grant_id, next_number=20),
            branch_pb2.GrantUsage(grant_id=g.grant_id, next_number=5000),
        ],
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.ReportUsage(bad)
    assert info.value.code() == PRECONDITION and "5000" in info.value.details()
    assert snapshot(hq) == before


async def test_disabled_branch_and_paused_range_get_nothing(hq: HqHandle) -> None:
    await setup_pool(hq)
    await hq.admin.SetRangeStatus(admin_pb2.SetRangeStatusRequest(assignment_id=1, status=2))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.RequestRange(request(BRANCH_BANS[0], "d1"))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "pool exhausted" in info.value.details()
    await hq.admin.SetRangeStatus(admin_pb2.SetRangeStatusRequest(assignment_id=1, status=1))
    await hq.admin.DisableBranch(admin_pb2.DisableBranchRequest(ban=BRANCH_BANS[0]))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.RequestRange(request(BRANCH_BANS[0], "d2"))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "disabled" in info.value.details()


async def test_scheduled_quota_applies_at_its_time(hq: HqHandle) -> None:
    await setup_pool(hq, per_request=1, per_period=1)
    later = Timestamp()
    later.FromDatetime(hq.clock.now().replace(hour=12))
    await hq.admin.SetQuota(
        admin_pb2.SetQuotaRequest(
            ban=BRANCH_BANS[0],
            effective_from=later,
            quota=common_pb2.Quota(booklets_per_request=3, booklets_per_period=9),
        )
    )
    first = await hq.admin.ListBranches(admin_pb2.ListBranchesRequest())
    assert first.branches[0].quota.booklets_per_request == 1
    hq.clock.advance(hours=3)
    from hq_server.admin_ops import apply_due_quotas

    changed = await hq.app.write(lambda conn, now: apply_due_quotas(conn, now, "scheduler"))
    assert changed == [BRANCH_BANS[0]]
    after = await hq.admin.ListBranches(admin_pb2.ListBranchesRequest())
    assert after.branches[0].quota.booklets_per_period == 9
