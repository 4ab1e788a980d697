"""The MOF hand-off as HQ runs it: E0402 built and handed to Turnkey, followed by the leader's
poll to confirmed (the notifier sees it too), a failure resent by an operator over the API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import grpc
import pytest

from allocator import TAIPEI, InvoiceType, Period, PoolKey
from hq_server import handover
from hq_server.reports import ReportSettings
from mof_sync import MessageType, TurnkeyFolders
from notifier.model import ReportState
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from tests.conftest import BRANCH_BANS
from tests.fixtures import SecureHq
from tests.mof_sync.turnkey_double import TurnkeyDouble

GENERAL = common_pb2.INVOICE_TYPE_GENERAL
POOL = PoolKey(Period.from_year_month("11510"), InvoiceType.GENERAL)
A = BRANCH_BANS[0]


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def ended_period_handed_over(hq: SecureHq, tmp_path: Path) -> tuple[TurnkeyDouble, list]:
    """Period 11510 with one grant of branch A, reported final; in November its E0402 is
    handed over. (Before the real date: Turnkey's result files are read by their mtime.)"""
    root = tmp_path / "turnkey"
    root.mkdir()
    (root / "Pack").mkdir()
    folders = TurnkeyFolders(root, pack_dirs=(root / "Pack",))
    hq.app.reports = ReportSettings(
        turnkey_root=root, test_data=True, poll_seconds=0.02, pack_dirs=folders.pack_dirs
    )
    admin, branch = hq.admin_as("root"), hq.branch_as(A)
    hq.clock.current = datetime(2026, 10, 20, 10, 0, tzinfo=TAIPEI)
    await admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month="11510",
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="AB", begin=0, end=999),
        )
    )
    quota = common_pb2.Quota(booklets_per_request=4, booklets_per_period=10)
    await admin.AddBranch(admin_pb2.AddBranchRequest(ban=A, name="store A", quota=quota))
    grant = await branch.RequestRange(
        branch_pb2.RequestRangeRequest(
            request_id="g1", branch_ban=A, year_month="11510", invoice_type=GENERAL, booklets=2
        )
    )
    await branch.ReportUsage(
        branch_pb2.UsageReport(
            report_id="r1",
            branch_ban=A,
            grants=[
                branch_pb2.GrantUsage(
                    grant_id=grant.grant_id, next_number=grant.range.begin + 10, final=True
                )
            ],
        )
    )
    hq.clock.advance(days=20)  # 11510 has ended, its E0402 is due by 11-10... and overdue
    reply = await admin.BuildReports(
        admin_pb2.BuildReportsRequest(
            year_month="11510", invoice_type=GENERAL, kind=admin_pb2.REPORT_KIND_E0402
        )
    )
    assert reply.written and not reply.held_branches
    return TurnkeyDouble(folders, pack_dir=root / "Pack"), list(reply.written)


def states(hq: SecureHq) -> dict[str, str]:
    outbox = hq.app.reports.outbox(hq.app.store.write_engine)
    return {d.name: d.state.value for d in outbox.documents()}


def tracked(hq: SecureHq) -> ReportState:
    tracker = handover.TurnkeyTracker()
    return hq.app.store.read_sync(lambda c: tracker.blank_report_status(c, POOL)).state


async def test_the_leader_follows_turnkey_to_confirmed(secure_hq: SecureHq, tmp_path: Path) -> None:
    double, written = await ended_period_handed_over(secure_hq, tmp_path)
    assert tracked(secure_hq) is ReportState.SUBMITTED
    poll = asyncio.create_task(handover.run_turnkey_poll(secure_hq.app))
    try:
        double.upcast(secure_hq.clock.now())
        await until(lambda: set(states(secure_hq).values()) == {"picked_up"})
        double.deliver(secure_hq.clock.now())
        await until(lambda: set(states(secure_hq).values()) == {"confirmed"})
    finally:
        poll.cancel()
    assert sorted(states(secure_hq)) == sorted(written)
    assert tracked(secure_hq) is ReportState.CONFIRMED
    due = await secure_hq.admin_as("vera").ListDeadlines(admin_pb2.ListDeadlinesRequest())
    assert list(due.deadlines) == []  # confirmed: nothing is due any more


async def test_a_failed_document_is_resent_by_an_operator(
    secure_hq: SecureHq, tmp_path: Path
) -> None:
    double, (name, *_) = await ended_period_handed_over(secure_hq, tmp_path)
    double.plan[name] = ["E0101"] * 3  # the platform rejects every attempt the outbox makes
    poll = asyncio.create_task(handover.run_turnkey_poll(secure_hq.app))
    waiting = [double.folders.src(m) / name for m in (MessageType.E0401, MessageType.E0402)]
    try:
        for _ in range(3):  # bounded: the outbox retries up to its max attempts, then fails
            # Each attempt once the outbox has put the document back (its poll saw the E0101).
            await until(lambda: any(p.exists() for p in waiting))
            double.upcast(secure_hq.clock.now())
            double.deliver(secure_hq.clock.now())
        await until(lambda: states(secure_hq)[name] == "failed")
    finally:
        poll.cancel()
    assert double.attempts[name] == 3 and not any(p.exists() for p in waiting)
    assert tracked(secure_hq) is ReportState.FAILED
    viewer = secure_hq.admin_as("vera")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await viewer.ResendReport(admin_pb2.ResendReportRequest(name=name))
    assert refused.value.code() is grpc.StatusCode.PERMISSION_DENIED
    operator = secure_hq.admin_as("olga")
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await operator.ResendReport(admin_pb2.ResendReportRequest(name="nope.xml"))
    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
    assert "'nope.xml'" in (unknown.value.details() or "")
    document = await operator.ResendReport(admin_pb2.ResendReportRequest(name=name))
    assert (document.name, document.state) == (name, "written")
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await operator.ResendReport(admin_pb2.ResendReportRequest(name=name))
    assert again.value.code() is grpc.StatusCode.FAILED_PRECONDITION
