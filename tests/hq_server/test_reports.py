"""E0501 import and E0402 hand-off through the admin API, on SQLite, to a Turnkey folder."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from lxml import etree

from hq_server.reports import ReportSettings
from mof_sync import MessageType, MigVersion
from mof_sync.xsd import schema_for
from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from runtime.grpc_status import refusal
from tests.conftest import BRANCH_BANS, HEAD_BAN
from tests.fixtures import snapshot
from tests.hq_server.conftest import HqHandle
from tests.hq_server.test_branch_api import request, usage_report
from tests.mof_sync.mof_support import envelope

GENERAL = common_pb2.INVOICE_TYPE_GENERAL


def e0501_file(name: str, *ranges: tuple[str, str, str]) -> admin_pb2.E0501File:
    items = [
        {
            "Ban": HEAD_BAN,
            "YearMonth": "11512",
            "InvoiceTrack": track,
            "InvoiceBeginNo": begin,
            "InvoiceEndNo": end,
            "InvoiceBooklet": str((int(end) - int(begin) + 1) // 50),
        }
        for track, begin, end in ranges
    ]
    return admin_pb2.E0501File(name=name, content=envelope(items))


async def turnkey_pool_and_branches(hq: HqHandle, tmp_path: Path, count: int) -> None:
    """Reports go to a Turnkey folder; period 11512's pool (AB 0-999) comes from an E0501; the
    first `count` branches get 2 booklets a request, 10 a period."""
    hq.app.reports = ReportSettings(turnkey_root=tmp_path / "turnkey")
    await hq.admin.ImportE0501(
        admin_pb2.ImportE0501Request(files=[e0501_file("a.xml", ("AB", "00000000", "00000999"))])
    )
    for ban in BRANCH_BANS[:count]:
        await hq.admin.AddBranch(
            admin_pb2.AddBranchRequest(
                ban=ban,
                name="s",
                quota=common_pb2.Quota(booklets_per_request=2, booklets_per_period=10),
            )
        )


async def test_import_is_all_or_nothing_and_idempotent(hq: HqHandle) -> None:
    good = e0501_file("a.xml", ("AB", "00000000", "00000999"), ("CD", "00001000", "00001499"))
    bad = e0501_file("b.xml", ("EF", "00000000", "00000998"))
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.admin.ImportE0501(admin_pb2.ImportE0501Request(files=[good, bad]))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "b.xml" in info.value.details() and "InvoiceEndNo" in info.value.details()
    assert snapshot(hq) == before
    first = await hq.admin.ImportE0501(admin_pb2.ImportE0501Request(files=[good]))
    again = await hq.admin.ImportE0501(admin_pb2.ImportE0501Request(files=[good]))
    assert len(first.imported) == 2 and (len(again.imported), again.unchanged) == (0, 2)
    foreign = admin_pb2.E0501File(name="c.xml", content=envelope([{"Ban": BRANCH_BANS[0]}]))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.admin.ImportE0501(admin_pb2.ImportE0501Request(files=[foreign]))
    assert BRANCH_BANS[0] in info.value.details()


async def test_e0402_set_holds_silent_branches_and_is_sent_once(
    hq: HqHandle, tmp_path: Path
) -> None:
    await turnkey_pool_and_branches(hq, tmp_path, 2)
    done = await hq.branch.RequestRange(request(BRANCH_BANS[0], "g1"))
    await hq.branch.RequestRange(request(BRANCH_BANS[1], "g2"))
    await hq.branch.ReportUsage(
        usage_report(BRANCH_BANS[0], done.grant_id, 40, [(10, 12)], final=True)
    )
    build = admin_pb2.BuildReportsRequest(
        year_month="11512", invoice_type=GENERAL, kind=admin_pb2.REPORT_KIND_E0402
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.admin.BuildReports(build)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "its E0402 waits" in info.value.details()
    hq.clock.advance(days=40)
    reply = await hq.admin.BuildReports(build)
    assert list(reply.held_branches) == [BRANCH_BANS[1]]
    src = tmp_path / "turnkey/UpCast/B2PMESSAGE/E0402/SRC"
    files = sorted(src.glob("*.xml"))
    assert [f.name for f in files] == sorted(reply.written) and len(files) == 2
    schema = schema_for(MessageType.E0402, MigVersion.V4_1)
    spans = {}
    for path in files:
        doc = etree.parse(str(path))
        schema.assertValid(doc)
        branch = doc.findtext("{*}Main/{*}BranchBan")
        spans[branch] = [
            (i.findtext("{*}InvoiceBeginNo"), i.findtext("{*}InvoiceEndNo"))
            for i in doc.iterfind("{*}Details/{*}BranchTrackBlankItem")
        ]
    assert spans[BRANCH_BANS[0]] == [("00000010", "00000012"), ("00000040", "00000099")]
    assert spans[HEAD_BAN] == [("00000200", "00000999")]
    again = await hq.admin.BuildReports(build)
    assert not again.written and sorted(again.unchanged) == sorted(reply.written)
    due = await hq.admin.ListDeadlines(admin_pb2.ListDeadlinesRequest())
    statuses = {(d.branch_ban, d.status) for d in due.deadlines}
    assert (BRANCH_BANS[1], "held") in statuses and (HEAD_BAN, "in_flight") in statuses
    # now is 2027-01-02 10:00 Taipei; the E0402 of 11512 is due by 2027-01-11 00:00
    assert {d.days_left for d in due.deadlines} == {8}


async def test_a_usage_change_after_the_e0402_went_out_is_refused_and_changes_nothing(
    hq: HqHandle, tmp_path: Path
) -> None:
    await turnkey_pool_and_branches(hq, tmp_path, 1)
    grant = await hq.branch.RequestRange(request(BRANCH_BANS[0], "g1"))

    def usage(skipped: list[tuple[int, int]]) -> branch_pb2.UsageReport:
        return usage_report(BRANCH_BANS[0], grant.grant_id, 40, skipped, final=True)

    await hq.branch.ReportUsage(usage([(10, 12)]))
    hq.clock.advance(days=40)
    build = admin_pb2.BuildReportsRequest(
        year_month="11512", invoice_type=GENERAL, kind=admin_pb2.REPORT_KIND_E0402
    )
    assert (await hq.admin.BuildReports(build)).written
    before = snapshot(hq)
    # A number given back after the hand-over would turn an issued number into a blank one.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hq.branch.ReportUsage(usage([(10, 12), (20, 20)]))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "after the period's E0402" in info.value.details()
    assert "--correction" in info.value.details()
    assert refusal(info.value).metadata["grant_id"] == grant.grant_id
    assert snapshot(hq) == before
    # The same state again (a retried report) is no change: accepted, nothing moves.
    assert (await hq.branch.ReportUsage(usage([(10, 12)]))).grants_updated == 0
