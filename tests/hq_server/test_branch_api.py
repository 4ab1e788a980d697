"""The branch API end to end over loopback gRPC, on SQLite."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
import pytest

from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.hq_server.conftest import HqHandle

GENERAL = common_pb2.INVOICE_TYPE_GENERAL


async def setup_pool(hq: HqHandle, per_request: int = 4, per_period: int = 10) -> None:
    await hq.admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month="11512",
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="AB", begin=0, end=999),
            actor="alice",
        )
    )
    for ban in BRANCH_BANS:
        await hq.admin.AddBranch(
            admin_pb2.AddBranchRequest(
                ban=ban,
                name=f"store {ban}",
                actor="alice",
                quota=common_pb2.Quota(
                    booklets_per_request=per_request, booklets_per_period=per_period
                ),
            )
        )


def request(ban: str, rid: str, booklets: int = 2) -> branch_pb2.RequestRangeRequest:
    return branch_pb2.RequestRangeRequest(
        request_id=rid, branch_ban=ban, year_month="11512", invoice_type=GENERAL, booklets=booklets
    )


def usage_report(
    ban: str,
    grant_id: str,
    next_number: int,
    skipped: Sequence[tuple[int, int]] = (),
    final: bool = False,
    report_id: str = "",
) -> branch_pb2.UsageReport:
    """A branch's report on one grant, its skipped numbers as (begin, end) spans."""
    spans = [common_pb2.Span(begin=b, end=e) for b, e in skipped]
    progress = branch_pb2.GrantUsage(
        grant_id=grant_id, next_number=next_number, skipped=spans, final=final
    )
    return branch_pb2.UsageReport(report_id=report_id, branch_ban=ban, grants=[progress])


async def test_grants_are_whole_booklets_apart_and_idempotent(hq: HqHandle) -> None:
    await setup_pool(hq)
    a = await hq.branch.RequestRange(request(BRANCH_BANS[0], "r1"))
    b = await hq.branch.RequestRange(request(BRANCH_BANS[1], "r2"))
    again = await hq.branch.RequestRange(request(BRANCH_BANS[0], "r1"))
    assert (a.range.begin, a.range.end, a.booklets) == (0, 99, 2)
    assert (b.range.begin, b.range.end) == (100, 199)
    assert again.grant_id == a.grant_id
    extend = await hq.branch.RequestRange(request(BRANCH_BANS[1], "r3", booklets=9))
    assert (extend.range.begin, extend.range.end, extend.booklets) == (200, 399, 4)


async def test_quota_and_pool_exhaustion_are_resource_exhausted(hq: HqHandle) -> None:
    await setup_pool(hq, per_request=4, per_period=4)
    await hq.branch.RequestRange(request(BRANCH_BANS[0], "q1", booklets=4))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.RequestRange(request(BRANCH_BANS[0], "q2", booklets=1))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "quota reached" in info.value.details()


async def test_usage_report_feeds_reconcile_and_audit_chain(hq: HqHandle) -> None:
    await setup_pool(hq)
    g = await hq.branch.RequestRange(request(BRANCH_BANS[0], "u1"))
    report = usage_report(BRANCH_BANS[0], g.grant_id, 30, [(5, 6)], report_id="x")
    ack = await hq.branch.ReportUsage(report)
    again = await hq.branch.ReportUsage(report)
    assert (ack.grants_updated, again.grants_updated) == (1, 0)
    usage = await hq.admin.GetUsage(admin_pb2.GetUsageRequest(year_month="11512"))
    mine = next(u for u in usage.branches if u.branch_ban == BRANCH_BANS[0])
    assert (mine.granted, mine.issued, mine.skipped, mine.held) == (100, 28, 2, 70)
    rec = await hq.admin.Reconcile(admin_pb2.ReconcileRequest())
    assert rec.ok and rec.tracks[0].assigned == 1000
    assert rec.tracks[0].issued == 28 and rec.tracks[0].blank == 2
    log = await hq.admin.ListAudit(admin_pb2.ListAuditRequest())
    assert log.chain_ok and [e.action for e in log.entries][-1] == "grant"


async def test_another_branchs_grant_is_permission_denied(hq: HqHandle) -> None:
    await setup_pool(hq)
    g = await hq.branch.RequestRange(request(BRANCH_BANS[0], "p1"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.ReportUsage(usage_report(BRANCH_BANS[1], g.grant_id, 10))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert BRANCH_BANS[1] in info.value.details()


async def test_a_growing_skip_set_is_counted_in_full(hq: HqHandle) -> None:
    """Agents send their merged skip set each time: [10], then [10-11], later [8-12]."""
    await setup_pool(hq)
    g = await hq.branch.RequestRange(request(BRANCH_BANS[0], "s1"))

    async def report(*spans: tuple[int, int]) -> tuple[int, int]:
        await hq.branch.ReportUsage(usage_report(BRANCH_BANS[0], g.grant_id, 20, spans))
        usage = await hq.admin.GetUsage(admin_pb2.GetUsageRequest(year_month="11512"))
        mine = next(u for u in usage.branches if u.branch_ban == BRANCH_BANS[0])
        return mine.issued, mine.skipped

    assert await report((10, 10)) == (19, 1)
    assert await report((10, 11)) == (18, 2)
    assert await report((8, 12)) == (15, 5)
    assert await report((8, 12)) == (15, 5)
    rec = await hq.admin.Reconcile(admin_pb2.ReconcileRequest())
    assert rec.ok and rec.tracks[0].blank == 5 and rec.tracks[0].issued == 15
