"""ERP export through the admin API: what an in-process HQ holds after grants, POS usage and a
closed period, row for row; its refusals; who may call it; and its chunks at 10,000 branches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import insert

from hq_server.convert import EXPORT_ROWS_PER_REPLY
from hq_server.reports import ReportSettings
from hq_server.schema import branches, grants
from mof_sync.e0402 import read_e0402_file
from protos.einvoice.v1 import admin_pb2, admin_pb2_grpc, branch_pb2, common_pb2
from runtime.grpc_status import refusal
from tests.conftest import BRANCH_BANS
from tests.fixtures import HqHandle, SecureHq, snapshot
from tests.hq_server.test_branch_api import request
from tests.mof_sync.mof_support import valid_bans

GENERAL, SPECIAL = common_pb2.INVOICE_TYPE_GENERAL, common_pb2.INVOICE_TYPE_SPECIAL
GRANTS, USAGE, BLANKS = (
    admin_pb2.EXPORT_KIND_GRANTS,
    admin_pb2.EXPORT_KIND_USAGE,
    admin_pb2.EXPORT_KIND_BLANKS,
)
A, B, C = BRANCH_BANS
NAMES = {A: '台北 "Main", St.', B: "Taichung 'North'; 2F", C: "高雄"}  # quotes, commas, CJK
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


async def export(
    stub: object, what: int, year_month: str = "11512", invoice_type: int = 0
) -> list[admin_pb2.ExportDataReply]:
    call = stub.ExportData(  # type: ignore[attr-defined]
        admin_pb2.ExportDataRequest(year_month=year_month, what=what, invoice_type=invoice_type)
    )
    return [reply async for reply in call]


def rows(replies: list[admin_pb2.ExportDataReply], field: str) -> list[object]:
    return [row for reply in replies for row in getattr(reply, field)]


async def build_state(
    admin: object, branch_as: Callable[[str], Any]
) -> dict[str, list[branch_pb2.Grant]]:
    """Two pools of 11512 (07: AB, 08: CD), three branches; A used and skipped some numbers
    and reported final, B reported part of a grant not final, C holds an unused grant."""
    for track, type_ in (("AB", GENERAL), ("CD", SPECIAL)):
        await admin.AddAssignment(  # type: ignore[attr-defined]
            admin_pb2.AddAssignmentRequest(
                year_month="11512",
                invoice_type=type_,
                range=common_pb2.TrackRange(track=track, begin=0, end=999),
            )
        )
    for ban in BRANCH_BANS:
        await admin.AddBranch(  # type: ignore[attr-defined]
            admin_pb2.AddBranchRequest(
                ban=ban,
                name=NAMES[ban],
                quota=common_pb2.Quota(booklets_per_request=4, booklets_per_period=20),
            )
        )
    held: dict[str, list[branch_pb2.Grant]] = {ban: [] for ban in BRANCH_BANS}
    for ban, rid, type_ in ((A, "a1", GENERAL), (B, "b1", GENERAL), (A, "a2", GENERAL)):
        ask = request(ban, rid)
        ask.invoice_type = type_
        held[ban].append(await branch_as(ban).RequestRange(ask))
    special = request(C, "c1")
    special.invoice_type = SPECIAL
    held[C].append(await branch_as(C).RequestRange(special))
    a1, a2 = held[A]
    progress = [
        branch_pb2.GrantUsage(
            grant_id=a1.grant_id,
            next_number=a1.range.end + 1,
            final=True,
            skipped=[common_pb2.Span(begin=10, end=12)],
        ),
        branch_pb2.GrantUsage(grant_id=a2.grant_id, next_number=a2.range.begin + 7, final=True),
    ]
    await branch_as(A).ReportUsage(branch_pb2.UsageReport(branch_ban=A, grants=progress))
    b1 = held[B][0]
    await branch_as(B).ReportUsage(
        branch_pb2.UsageReport(
            branch_ban=B,
            grants=[branch_pb2.GrantUsage(grant_id=b1.grant_id, next_number=b1.range.begin + 20)],
        )
    )
    return held


async def test_the_export_holds_what_hq_holds(hq: HqHandle, tmp_path: Path) -> None:
    held = await build_state(hq.admin, lambda _: hq.branch)
    before = snapshot(hq)
    grant_rows = rows(await export(hq.admin, GRANTS), "grants")
    assert [(r.ban, r.invoice_type, r.track, r.begin_number) for r in grant_rows] == sorted(
        (r.ban, r.invoice_type, r.track, r.begin_number) for r in grant_rows
    )
    for ban in BRANCH_BANS:  # each grant as ListGrants shows it, with the branch's name
        listed = await hq.admin.ListGrants(admin_pb2.ListGrantsRequest(branch_ban=ban))
        mine = [r for r in grant_rows if r.ban == ban]
        assert {r.grant_id for r in mine} == {g.grant_id for g in listed.grants}
        by_id = {g.grant_id: g for g in listed.grants}
        for r in mine:
            g = by_id[r.grant_id]
            assert (r.track, int(r.begin_number), int(r.end_number)) == (
                g.range.track,
                g.range.begin,
                g.range.end,
            )
            assert len(r.begin_number) == 8 and r.booklets == g.booklets
            assert r.status == ("final" if g.final else "held")
            assert r.granted_at == g.granted_at and r.branch_name == NAMES[ban]
            assert r.invoice_type == ("08" if g.invoice_type == SPECIAL else "07")
    assert {r.grant_id for r in grant_rows} == {g.grant_id for gs in held.values() for g in gs}

    usage = rows(await export(hq.admin, USAGE), "usage")
    assert [(u.ban, u.invoice_type) for u in usage] == [(A, "07"), (C, "08"), (B, "07")]
    listed = await hq.admin.GetUsage(admin_pb2.GetUsageRequest(year_month="11512"))
    per_branch = {u.branch_ban: u for u in listed.branches}
    for u in usage:  # while the period is open: blank = skipped, the rest is remaining
        assert (u.granted, u.issued, u.blank) == (
            per_branch[u.ban].granted,
            per_branch[u.ban].issued,
            per_branch[u.ban].skipped,
        )
        assert u.remaining == u.granted - u.issued - u.blank == per_branch[u.ban].held
    reconciled = await hq.admin.Reconcile(admin_pb2.ReconcileRequest(year_month="11512"))
    assert sum(u.issued for u in usage) == sum(t.issued for t in reconciled.tracks) == 100 - 3 + 27
    assert usage[0].last_report.seconds and not usage[1].HasField("last_report")
    only_special = rows(await export(hq.admin, USAGE, invoice_type=SPECIAL), "usage")
    assert [(u.ban, u.remaining) for u in only_special] == [(C, 100)]
    assert snapshot(hq) == before  # an export changes nothing, the audit log included

    # The period ends; its E0402 is built and handed over: the export holds exactly its items.
    hq.app.reports = ReportSettings(turnkey_root=tmp_path / "turnkey")
    hq.clock.advance(days=40)
    items = set()
    held_back = set()
    for type_ in (GENERAL, SPECIAL):
        built = await hq.admin.BuildReports(
            admin_pb2.BuildReportsRequest(
                year_month="11512", invoice_type=type_, kind=admin_pb2.REPORT_KIND_E0402
            )
        )
        held_back |= set(built.held_branches)
    for path in (tmp_path / "turnkey/UpCast/B2PMESSAGE/E0402/SRC").glob("*.xml"):
        doc = read_e0402_file(path)
        for numbers in doc.ranges:
            key = doc.key
            items.add(
                (
                    key.head_ban.value,
                    key.branch_ban.value,
                    key.invoice_type.value,
                    str(key.track),
                    numbers.begin,
                    numbers.end,
                )
            )
    replies = await export(hq.admin, BLANKS)
    blanks = rows(replies, "blanks")
    exported = [
        (b.head_ban, b.branch_ban, b.invoice_type, b.track, int(b.begin_number), int(b.end_number))
        for b in blanks
    ]
    assert exported == sorted(exported, key=lambda e: (e[1], e[2], e[3], e[4]))
    assert set(exported) == items and len(exported) == len(items)
    assert list(replies[0].held_branches) == sorted(held_back) == [C, B]
    assert all(b.numbers == int(b.end_number) - int(b.begin_number) + 1 for b in blanks)
    # Closed now: every number a branch did not issue is blank.
    usage = rows(await export(hq.admin, USAGE), "usage")
    assert all(u.blank == u.granted - u.issued and u.remaining == 0 for u in usage)


async def test_bad_requests_are_refused_naming_the_field(hq: HqHandle) -> None:
    await build_state(hq.admin, lambda _: hq.branch)
    cases = [
        ("", GRANTS, grpc.StatusCode.INVALID_ARGUMENT, "ExportDataRequest.year_month"),
        ("11513", GRANTS, grpc.StatusCode.INVALID_ARGUMENT, "ExportDataRequest.year_month"),
        ("11512", 0, grpc.StatusCode.INVALID_ARGUMENT, "ExportDataRequest.what"),
        ("11512", 9, grpc.StatusCode.INVALID_ARGUMENT, "ExportDataRequest.what"),
        ("11602", USAGE, grpc.StatusCode.FAILED_PRECONDITION, "nothing of period 11602"),
        ("11512", BLANKS, grpc.StatusCode.FAILED_PRECONDITION, "blank ranges (E0402) waits"),
    ]
    for year_month, what, code, needle in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await export(hq.admin, what, year_month)
        assert info.value.code() == code, (year_month, what)
        assert needle in info.value.details(), info.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await export(hq.admin, GRANTS, "11512", invoice_type=99)
    assert "ExportDataRequest.invoice_type" in info.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await export(hq.admin, GRANTS, "11602")
    assert refusal(info.value).reason == "PERIOD_NOT_ASSIGNED"


async def test_a_viewer_may_export_and_a_branch_may_not(secure_hq: SecureHq) -> None:
    operator = secure_hq.admin_as("olga")
    await build_state(operator, secure_hq.branch_as)
    found = rows(await export(secure_hq.admin_as("vera"), GRANTS), "grants")
    assert {r.ban for r in found} == {A, B, C}
    with pytest.raises(grpc.aio.AioRpcError) as info:
        as_branch = secure_hq.channel(secure_hq.certs.branch_tls(A))
        await export(admin_pb2_grpc.AdminServiceStub(as_branch), GRANTS)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.slow  # about 3 s of export on this machine's kind, more under load
async def test_ten_thousand_branches_come_in_replies_under_the_message_limit(
    hq: HqHandle,
) -> None:
    await hq.admin.AddAssignment(
        admin_pb2.AddAssignmentRequest(
            year_month="11512",
            invoice_type=GENERAL,
            range=common_pb2.TrackRange(track="AB", begin=0, end=999_999),
        )
    )
    bans = [b.value for b in valid_bans(10_000)]
    now = hq.clock.now()
    name = "門市" * 100  # 200 characters, 600 bytes of UTF-8: the longest name allowed
    branch_rows = [
        {
            "ban": ban,
            "name": name,
            "enabled": True,
            "booklets_per_request": 1,
            "booklets_per_period": 1,
            "low_water_count": 0,
            "low_water_minutes": 10.0,
            "min_booklets": 1,
            "max_booklets": 1,
            "emails": "[]",
            "config_version": 1,
            "created_at": now,
            "last_report_at": now,
        }
        for ban in bans
    ]
    grant_rows = [
        {
            "id": f"{i:036d}",
            "request_id": f"seed-{i}",
            "branch_ban": ban,
            "assignment_id": 1,
            "year_month": "11512",
            "invoice_type": "07",
            "track": "AB",
            "begin": i * 50,
            "end": i * 50 + 49,
            "booklets": 1,
            "granted_at": now - timedelta(hours=1),
            "fencing_token": hq.app.coordinator.token(),
            "next_number": i * 50 + i % 50,
            "final": False,
        }
        for i, ban in enumerate(bans)
    ]

    def seed(conn):  # type: ignore[no-untyped-def]
        conn.execute(insert(branches), branch_rows)
        conn.execute(insert(grants), grant_rows)

    hq.app.store.write_sync(hq.app.coordinator.token(), seed)
    for what, field in ((GRANTS, "grants"), (USAGE, "usage")):
        replies = await export(hq.admin, what)
        sizes = [r.ByteSize() for r in replies]
        assert max(sizes) < MAX_MESSAGE_BYTES // 4, max(sizes)
        assert all(len(getattr(r, field)) <= EXPORT_ROWS_PER_REPLY for r in replies)
        found = rows(replies, field)
        assert [r.ban for r in found] == sorted(bans)  # every branch once, in BAN order
    assert sum(u.issued for u in found) == sum(i % 50 for i in range(10_000))
