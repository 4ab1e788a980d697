"""The bad-input corpus of the HQ's RPCs: every case is refused with the right status and a
message naming the problem, and every table of the HQ database is byte-identical afterwards.

Each case builds its request from the seeded state (a pool of 11512, branches A and B, one grant
of A), so it can refer to real ids. `G` stands for A's grant id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from protos.einvoice.v1 import admin_pb2, branch_pb2, common_pb2
from runtime.grpc_status import refusal
from tests.corpus.state import GENERAL, A, B, seed
from tests.fixtures import snapshot
from tests.hq_server.conftest import HqHandle

INVALID = grpc.StatusCode.INVALID_ARGUMENT
REFUSED = grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND = grpc.StatusCode.NOT_FOUND
EXISTS = grpc.StatusCode.ALREADY_EXISTS
DENIED = grpc.StatusCode.PERMISSION_DENIED
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
SPECIAL = common_pb2.INVOICE_TYPE_SPECIAL
HUGE = "x" * 2_500_000


@dataclass(frozen=True)
class Case:
    name: str
    service: str  # "admin" or "branch"
    method: str
    request: Callable[[branch_pb2.Grant], Any]
    code: grpc.StatusCode
    needle: str


def tr(track: str = "CD", begin: int = 0, end: int = 49) -> common_pb2.TrackRange:
    return common_pb2.TrackRange(track=track, begin=begin, end=end)


def assign(**kw: Any) -> Callable[[Any], admin_pb2.AddAssignmentRequest]:
    values = {"year_month": "11512", "invoice_type": GENERAL, "range": tr()} | kw
    return lambda g: admin_pb2.AddAssignmentRequest(**values)


def branch(**kw: Any) -> Callable[[Any], admin_pb2.AddBranchRequest]:
    values = {
        "ban": "10458575",
        "name": "new store",
        "quota": common_pb2.Quota(booklets_per_request=1, booklets_per_period=5),
    } | kw
    return lambda g: admin_pb2.AddBranchRequest(**values)


def refill(**kw: Any) -> common_pb2.RefillSettings:
    return common_pb2.RefillSettings(**kw)


def quota(ban: str = A, per_request: int = 1, per_period: int = 5, **kw: Any) -> Callable:
    q = common_pb2.Quota(booklets_per_request=per_request, booklets_per_period=per_period)
    return lambda g: admin_pb2.SetQuotaRequest(ban=ban, quota=q, **kw)


def stamp(seconds: int, nanos: int = 0) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=nanos)


def rr(**kw: Any) -> Callable[[Any], branch_pb2.RequestRangeRequest]:
    values = {
        "request_id": "corpus-1",
        "branch_ban": A,
        "year_month": "11512",
        "invoice_type": GENERAL,
        "booklets": 1,
    } | kw
    return lambda g: branch_pb2.RequestRangeRequest(**values)


def report(**grant_kw: Any) -> Callable[[branch_pb2.Grant], branch_pb2.UsageReport]:
    def build(g: branch_pb2.Grant) -> branch_pb2.UsageReport:
        values = {"grant_id": g.grant_id, "next_number": g.range.begin + 5} | grant_kw
        return branch_pb2.UsageReport(
            report_id="r", branch_ban=A, grants=[branch_pb2.GrantUsage(**values)]
        )

    return build


def raw_report(**kw: Any) -> Callable[[Any], branch_pb2.UsageReport]:
    return lambda g: branch_pb2.UsageReport(**({"branch_ban": A} | kw))


def e0501(name: str, content: bytes) -> Callable[[Any], admin_pb2.ImportE0501Request]:
    return lambda g: admin_pb2.ImportE0501Request(
        files=[admin_pb2.E0501File(name=name, content=content)]
    )


CASES = [
    # --- AddAssignment ---
    Case("track lower case", "admin", "AddAssignment", assign(range=tr("cd")), INVALID, "'cd'"),
    Case("track digit", "admin", "AddAssignment", assign(range=tr("C1")), INVALID, "'C1'"),
    Case("track empty", "admin", "AddAssignment", assign(range=tr("")), INVALID, "track ''"),
    Case(
        "track three letters", "admin", "AddAssignment", assign(range=tr("CDE")), INVALID, "'CDE'"
    ),
    Case("track full-width", "admin", "AddAssignment", assign(range=tr("ＣＤ")), INVALID, "ＣＤ"),
    Case(
        "not booklets",
        "admin",
        "AddAssignment",
        assign(range=tr(begin=10, end=59)),
        INVALID,
        "not whole booklets",
    ),
    Case(
        "end before begin",
        "admin",
        "AddAssignment",
        assign(range=tr(begin=100, end=49)),
        INVALID,
        "begin must not be after end",
    ),
    Case(
        "nine digits",
        "admin",
        "AddAssignment",
        assign(range=tr(end=100_000_049)),
        INVALID,
        "8 digits",
    ),
    Case(
        "overlap stored",
        "admin",
        "AddAssignment",
        assign(range=tr("AB", 9_950, 10_049)),
        REFUSED,
        "overlaps",
    ),
    Case(
        "period 13th month", "admin", "AddAssignment", assign(year_month="11513"), INVALID, "11513"
    ),
    Case(
        "period odd month", "admin", "AddAssignment", assign(year_month="11511"), INVALID, "11511"
    ),
    Case("period year 0", "admin", "AddAssignment", assign(year_month="00012"), INVALID, "00012"),
    Case("period letters", "admin", "AddAssignment", assign(year_month="abcde"), INVALID, "abcde"),
    Case(
        "period full-width",
        "admin",
        "AddAssignment",
        assign(year_month="１１５１２"),
        INVALID,
        "１１５１２",
    ),
    Case("period empty", "admin", "AddAssignment", assign(year_month=""), INVALID, "YearMonth ''"),
    Case("type 9", "admin", "AddAssignment", assign(invoice_type=9), INVALID, "invoice type 9"),
    Case(
        "type 0 (unset)",
        "admin",
        "AddAssignment",
        lambda g: admin_pb2.AddAssignmentRequest(year_month="11512", range=tr("AB", 0, 49)),
        REFUSED,
        "overlaps",
    ),
    Case(
        "actor 1 MB",
        "admin",
        "AddAssignment",
        assign(actor="a" * 1_000_000),
        INVALID,
        "AddAssignmentRequest.actor",
    ),
    # --- AddBranch ---
    Case("BAN check digit", "admin", "AddBranch", branch(ban="04595258"), INVALID, "04595258"),
    Case("BAN seven digits", "admin", "AddBranch", branch(ban="1234567"), INVALID, "'1234567'"),
    Case("BAN nine digits", "admin", "AddBranch", branch(ban="123456789"), INVALID, "'123456789'"),
    Case(
        "BAN full-width",
        "admin",
        "AddBranch",
        branch(ban="０４５９５２５７"),
        INVALID,
        "０４５９５２５７",
    ),
    Case("BAN letters", "admin", "AddBranch", branch(ban="0459525X"), INVALID, "'0459525X'"),
    Case("BAN empty", "admin", "AddBranch", branch(ban=""), INVALID, "BAN ''"),
    Case("BAN twice", "admin", "AddBranch", branch(ban=A), EXISTS, A),
    Case("name empty", "admin", "AddBranch", branch(name=""), INVALID, "needs a name"),
    Case("name blank", "admin", "AddBranch", branch(name="   "), INVALID, "needs a name"),
    Case(
        "name 201 characters",
        "admin",
        "AddBranch",
        branch(name="n" * 201),
        INVALID,
        "AddBranchRequest.name is 201 characters",
    ),
    Case(
        "name 2.5 MB",
        "admin",
        "AddBranch",
        branch(name=HUGE),
        INVALID,
        "AddBranchRequest.name is 2,500,000 characters",
    ),
    Case("name NUL", "admin", "AddBranch", branch(name="a\x00b"), INVALID, "U+0000"),
    Case("name ANSI escape", "admin", "AddBranch", branch(name="\x1b[31mred"), INVALID, "U+001B"),
    Case("name newline", "admin", "AddBranch", branch(name="two\nlines"), INVALID, "U+000A"),
    Case("name RTL override", "admin", "AddBranch", branch(name="abc\u202edef"), INVALID, "U+202E"),
    Case(
        "email CR LF",
        "admin",
        "AddBranch",
        branch(emails=["a@b.tw\r\nBcc: x@y.tw"]),
        INVALID,
        "U+000D",
    ),
    Case("email without @", "admin", "AddBranch", branch(emails=["nobody"]), INVALID, "'nobody'"),
    Case(
        "email 255 characters",
        "admin",
        "AddBranch",
        branch(emails=["a" * 250 + "@b.tw"]),
        INVALID,
        "AddBranchRequest.emails is 255 characters",
    ),
    Case("email two @", "admin", "AddBranch", branch(emails=["a@b@c.tw"]), INVALID, "'a@b@c.tw'"),
    Case(
        "email display name",
        "admin",
        "AddBranch",
        branch(emails=["Bob <b@c.tw>"]),
        INVALID,
        "is not a valid address",
    ),
    Case(
        "21 emails",
        "admin",
        "AddBranch",
        branch(emails=[f"a{i}@b.tw" for i in range(21)]),
        INVALID,
        "AddBranchRequest.emails has 21 items",
    ),
    Case(
        "per request 0",
        "admin",
        "AddBranch",
        branch(quota=common_pb2.Quota(booklets_per_request=0, booklets_per_period=5)),
        INVALID,
        "booklets per request 0",
    ),
    Case(
        "per request 2^32-1",
        "admin",
        "AddBranch",
        branch(quota=common_pb2.Quota(booklets_per_request=2**32 - 1, booklets_per_period=5)),
        INVALID,
        "booklets per request 4294967295",
    ),
    Case(
        "per period 2^32-1",
        "admin",
        "AddBranch",
        branch(quota=common_pb2.Quota(booklets_per_request=1, booklets_per_period=2**32 - 1)),
        INVALID,
        "booklets per period 4294967295",
    ),
    Case(
        "refill minutes NaN",
        "admin",
        "AddBranch",
        branch(refill=refill(low_water_minutes=float("nan"))),
        INVALID,
        "low water minutes nan",
    ),
    Case(
        "refill minutes inf",
        "admin",
        "AddBranch",
        branch(refill=refill(low_water_minutes=float("inf"))),
        INVALID,
        "low water minutes inf",
    ),
    Case(
        "refill minutes negative",
        "admin",
        "AddBranch",
        branch(refill=refill(low_water_minutes=-5)),
        INVALID,
        "low water minutes -5",
    ),
    Case(
        "refill min above max",
        "admin",
        "AddBranch",
        branch(refill=refill(min_booklets=9, max_booklets=2)),
        INVALID,
        "min 9 / max 2",
    ),
    Case(
        "refill count huge",
        "admin",
        "AddBranch",
        branch(refill=refill(low_water_count=2**32 - 1)),
        INVALID,
        "low water count 4294967295",
    ),
    # --- DisableBranch / EnableBranch ---
    Case(
        "disable unknown",
        "admin",
        "DisableBranch",
        lambda g: admin_pb2.DisableBranchRequest(ban="22099131"),
        NOT_FOUND,
        "22099131",
    ),
    Case(
        "disable bad BAN",
        "admin",
        "DisableBranch",
        lambda g: admin_pb2.DisableBranchRequest(ban="zzz"),
        INVALID,
        "'zzz'",
    ),
    Case(
        "enable unknown",
        "admin",
        "EnableBranch",
        lambda g: admin_pb2.EnableBranchRequest(ban="22099131"),
        NOT_FOUND,
        "22099131",
    ),
    Case(
        "enable empty",
        "admin",
        "EnableBranch",
        lambda g: admin_pb2.EnableBranchRequest(),
        INVALID,
        "BAN ''",
    ),
    # --- SetQuota ---
    Case("quota unknown branch", "admin", "SetQuota", quota(ban="22099131"), NOT_FOUND, "22099131"),
    Case(
        "quota per request 0",
        "admin",
        "SetQuota",
        quota(per_request=0),
        INVALID,
        "booklets per request 0",
    ),
    Case(
        "quota per period huge",
        "admin",
        "SetQuota",
        quota(per_period=2_000_001),
        INVALID,
        "booklets per period 2000001",
    ),
    Case(
        "quota NaN minutes",
        "admin",
        "SetQuota",
        quota(refill=refill(low_water_minutes=float("nan"))),
        INVALID,
        "low water minutes nan",
    ),
    Case(
        "quota min above max",
        "admin",
        "SetQuota",
        quota(refill=refill(min_booklets=5, max_booklets=4)),
        INVALID,
        "min 5 / max 4",
    ),
    Case(
        "quota time 2^62",
        "admin",
        "SetQuota",
        quota(effective_from=stamp(2**62)),
        INVALID,
        "SetQuotaRequest.effective_from",
    ),
    Case(
        "quota nanos 2e9",
        "admin",
        "SetQuota",
        quota(effective_from=stamp(1, 2_000_000_000)),
        INVALID,
        "nanos 2000000000",
    ),
    Case(
        "quota negative time",
        "admin",
        "SetQuota",
        quota(effective_from=stamp(-1)),
        INVALID,
        "seconds -1",
    ),
    Case(
        "quota far past",
        "admin",
        "SetQuota",
        quota(effective_from=stamp(1_000_000_000)),
        INVALID,
        "must be between an hour ago",
    ),
    Case(
        "quota far future",
        "admin",
        "SetQuota",
        quota(effective_from=stamp(4_000_000_000)),
        INVALID,
        "must be between an hour ago",
    ),
    # --- SetRangeStatus ---
    Case(
        "range status 7",
        "admin",
        "SetRangeStatus",
        lambda g: admin_pb2.SetRangeStatusRequest(assignment_id=1, status=7),
        INVALID,
        "range status 7",
    ),
    Case(
        "range status unset",
        "admin",
        "SetRangeStatus",
        lambda g: admin_pb2.SetRangeStatusRequest(assignment_id=1),
        INVALID,
        "range status 0",
    ),
    Case(
        "range unknown",
        "admin",
        "SetRangeStatus",
        lambda g: admin_pb2.SetRangeStatusRequest(assignment_id=99, status=2),
        NOT_FOUND,
        "99",
    ),
    Case(
        "range negative id",
        "admin",
        "SetRangeStatus",
        lambda g: admin_pb2.SetRangeStatusRequest(assignment_id=-3, status=2),
        NOT_FOUND,
        "-3",
    ),
    # --- ClosePeriod ---
    Case(
        "close before the end",
        "admin",
        "ClosePeriod",
        lambda g: admin_pb2.ClosePeriodRequest(year_month="11512", invoice_type=GENERAL),
        REFUSED,
        "closing it waits",
    ),
    Case(
        "close nothing assigned",
        "admin",
        "ClosePeriod",
        lambda g: admin_pb2.ClosePeriodRequest(year_month="11508", invoice_type=GENERAL),
        REFUSED,
        "has nothing assigned",
    ),
    Case(
        "close not a period",
        "admin",
        "ClosePeriod",
        lambda g: admin_pb2.ClosePeriodRequest(year_month="11500", invoice_type=GENERAL),
        INVALID,
        "11500",
    ),
    Case(
        "close type 8 nothing",
        "admin",
        "ClosePeriod",
        lambda g: admin_pb2.ClosePeriodRequest(year_month="11510", invoice_type=SPECIAL),
        REFUSED,
        "type 08 has nothing assigned",
    ),
    # --- queries with malformed filters ---
    Case(
        "pools period 11513",
        "admin",
        "ListPools",
        lambda g: admin_pb2.ListPoolsRequest(year_month="11513"),
        INVALID,
        "11513",
    ),
    Case(
        "usage period 2025",
        "admin",
        "GetUsage",
        lambda g: admin_pb2.GetUsageRequest(year_month="2025"),
        INVALID,
        "'2025'",
    ),
    Case(
        "usage branch zzz",
        "admin",
        "GetUsage",
        lambda g: admin_pb2.GetUsageRequest(branch_ban="zzz"),
        INVALID,
        "'zzz'",
    ),
    Case(
        "usage branch check digit",
        "admin",
        "GetUsage",
        lambda g: admin_pb2.GetUsageRequest(branch_ban="04595258"),
        INVALID,
        "04595258",
    ),
    Case(
        "reconcile period bad",
        "admin",
        "Reconcile",
        lambda g: admin_pb2.ReconcileRequest(year_month="99999"),
        INVALID,
        "99999",
    ),
    Case(
        "audit after 2^63",
        "admin",
        "ListAudit",
        lambda g: admin_pb2.ListAuditRequest(after_seq=2**63),
        INVALID,
        "after_seq",
    ),
    Case(
        "branches page token",
        "admin",
        "ListBranches",
        lambda g: admin_pb2.ListBranchesRequest(page_token="garbage!"),
        INVALID,
        "'garbage!'",
    ),
    Case(
        "certificates branch bad",
        "admin",
        "ListCertificates",
        lambda g: admin_pb2.ListCertificatesRequest(branch_ban="123"),
        INVALID,
        "'123'",
    ),
    # --- enrolment tokens ---
    Case(
        "token unknown branch",
        "admin",
        "CreateEnrollToken",
        lambda g: admin_pb2.CreateEnrollTokenRequest(ban="10458575"),
        NOT_FOUND,
        "10458575",
    ),
    Case(
        "token ttl too long",
        "admin",
        "CreateEnrollToken",
        lambda g: admin_pb2.CreateEnrollTokenRequest(ban=A, ttl_seconds=30 * 86400),
        INVALID,
        "token lifetime",
    ),
    Case(
        "token ttl 1 s",
        "admin",
        "CreateEnrollToken",
        lambda g: admin_pb2.CreateEnrollTokenRequest(ban=A, ttl_seconds=1),
        INVALID,
        "token lifetime",
    ),
    # --- ImportE0501 ---
    Case(
        "import no file",
        "admin",
        "ImportE0501",
        lambda g: admin_pb2.ImportE0501Request(),
        INVALID,
        "1..100 files",
    ),
    Case(
        "import 101 files",
        "admin",
        "ImportE0501",
        lambda g: admin_pb2.ImportE0501Request(
            files=[admin_pb2.E0501File(name=f"{i}", content=b"<x/>") for i in range(101)]
        ),
        INVALID,
        "has 101 items",
    ),
    Case(
        "import file 2 MiB+",
        "admin",
        "ImportE0501",
        e0501("big.xml", b" " * (2 * 2**20 + 1)),
        INVALID,
        "E0501File.content is 2,097,153 bytes",
    ),
    Case(
        "import name 256",
        "admin",
        "ImportE0501",
        e0501("n" * 256, b"<x/>"),
        INVALID,
        "E0501File.name is 256 characters",
    ),
    Case("import name NUL", "admin", "ImportE0501", e0501("a\x00.xml", b"<x/>"), INVALID, "U+0000"),
    # --- BuildReports ---
    Case(
        "report kind 0",
        "admin",
        "BuildReports",
        lambda g: admin_pb2.BuildReportsRequest(year_month="11512"),
        INVALID,
        "report kind 0",
    ),
    Case(
        "report kind 9",
        "admin",
        "BuildReports",
        lambda g: admin_pb2.BuildReportsRequest(year_month="11512", kind=9),
        INVALID,
        "report kind 9",
    ),
    Case(
        "report mig 5.0",
        "admin",
        "BuildReports",
        lambda g: admin_pb2.BuildReportsRequest(year_month="11512", kind=1, mig_version="5.0"),
        INVALID,
        "5.0",
    ),
    Case(
        "report period bad",
        "admin",
        "BuildReports",
        lambda g: admin_pb2.BuildReportsRequest(year_month="1151", kind=1),
        INVALID,
        "'1151'",
    ),
    Case(
        "report E0402 early",
        "admin",
        "BuildReports",
        lambda g: admin_pb2.BuildReportsRequest(year_month="11512", kind=2),
        REFUSED,
        "no Turnkey data root",
    ),
    Case(
        "resend without Turnkey",
        "admin",
        "ResendReport",
        lambda g: admin_pb2.ResendReportRequest(name="E0402_x.xml"),
        REFUSED,
        "no Turnkey data root",
    ),
    Case(
        "resend name 201",
        "admin",
        "ResendReport",
        lambda g: admin_pb2.ResendReportRequest(name="n" * 201),
        INVALID,
        "ResendReportRequest.name is 201 characters",
    ),
    # --- RequestRange ---
    Case(
        "request bad BAN", "branch", "RequestRange", rr(branch_ban="04595258"), INVALID, "04595258"
    ),
    Case(
        "request unknown branch",
        "branch",
        "RequestRange",
        rr(branch_ban="22099131"),
        NOT_FOUND,
        "22099131 is not registered",
    ),
    Case(
        "request no assignment",
        "branch",
        "RequestRange",
        rr(year_month="11602"),
        REFUSED,
        "11602 type 07 has no assignment",
    ),
    Case(
        "request ended period",
        "branch",
        "RequestRange",
        rr(year_month="11508"),
        REFUSED,
        "period 11508 ended",
    ),
    Case("request empty id", "branch", "RequestRange", rr(request_id=""), INVALID, "request id ''"),
    Case(
        "request id 101",
        "branch",
        "RequestRange",
        rr(request_id="i" * 101),
        INVALID,
        "RequestRangeRequest.request_id is 101 characters",
    ),
    Case("request id control", "branch", "RequestRange", rr(request_id="a\tb"), INVALID, "U+0009"),
    Case("request type 9", "branch", "RequestRange", rr(invoice_type=9), INVALID, "invoice type 9"),
    Case(
        "request type 8 unassigned",
        "branch",
        "RequestRange",
        rr(invoice_type=SPECIAL),
        REFUSED,
        "type 08 has no assignment",
    ),
    Case("request bad period", "branch", "RequestRange", rr(year_month="11513"), INVALID, "11513"),
    Case(
        "request id reused, other period",
        "branch",
        "RequestRange",
        rr(request_id="seed-1", year_month="11602"),
        INVALID,
        "already used for period 11512",
    ),
    Case(
        "request id of B's",
        "branch",
        "RequestRange",
        rr(request_id="seed-1", branch_ban=B),
        DENIED,
        f"belongs to branch {A}",
    ),
    # --- ReportUsage ---
    Case(
        "report beyond grant",
        "branch",
        "ReportUsage",
        report(next_number=5_000),
        REFUSED,
        "5000 is outside grant",
    ),
    Case(
        "report skip reversed",
        "branch",
        "ReportUsage",
        report(skipped=[common_pb2.Span(begin=4, end=2)]),
        INVALID,
        "begin must not be after end",
    ),
    Case(
        "report skip outside used",
        "branch",
        "ReportUsage",
        report(skipped=[common_pb2.Span(begin=90, end=95)]),
        REFUSED,
        "outside the used part",
    ),
    Case(
        "report unknown grant",
        "branch",
        "ReportUsage",
        report(grant_id="nope"),
        DENIED,
        "'nope' is not held by branch",
    ),
    Case(
        "report grant id 37",
        "branch",
        "ReportUsage",
        report(grant_id="g" * 37),
        INVALID,
        "GrantUsage.grant_id is 37 characters",
    ),
    Case(
        "report unknown branch",
        "branch",
        "ReportUsage",
        raw_report(branch_ban="22099131"),
        NOT_FOUND,
        "22099131 is not registered",
    ),
    Case("report bad BAN", "branch", "ReportUsage", raw_report(branch_ban="1"), INVALID, "'1'"),
    Case(
        "report agent time 2^62",
        "branch",
        "ReportUsage",
        raw_report(agent_time=stamp(2**62)),
        INVALID,
        "UsageReport.agent_time",
    ),
    Case(
        "report 1001 grants",
        "branch",
        "ReportUsage",
        raw_report(grants=[branch_pb2.GrantUsage(grant_id=str(i)) for i in range(1001)]),
        INVALID,
        "UsageReport.grants has 1001 items",
    ),
    Case(
        "report id huge",
        "branch",
        "ReportUsage",
        raw_report(report_id="r" * 101),
        INVALID,
        "UsageReport.report_id is 101 characters",
    ),
    # --- WatchConfig (the first message) and Enroll/Renew with --insecure ---
    Case(
        "enroll without a token",
        "branch",
        "Enroll",
        lambda g: branch_pb2.EnrollRequest(csr_pem=b"x"),
        INVALID,
        "enrolment credential",
    ),
    Case(
        "renew without a certificate",
        "branch",
        "RenewCertificate",
        lambda g: branch_pb2.RenewCertificateRequest(csr_pem=b"x"),
        INVALID,
        "branch certificate",
    ),
    Case(
        "enroll CSR 16 KiB+",
        "branch",
        "Enroll",
        lambda g: branch_pb2.EnrollRequest(csr_pem=b"x" * (16 * 1024 + 1)),
        INVALID,
        "EnrollRequest.csr_pem is 16,385 bytes",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_refused_and_nothing_changes(hq: HqHandle, case: Case) -> None:
    grant = await seed(hq.admin, hq.branch)
    stub = hq.admin if case.service == "admin" else hq.branch
    request = case.request(grant)
    before = snapshot(hq)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await getattr(stub, case.method)(request)
    seen = refusal(info.value)
    assert seen.code == case.code, (seen.code, seen.message)
    assert case.needle in seen.message, seen.message
    assert seen.reason, "a refusal carries a machine-readable reason"
    assert len(seen.message) <= 1000  # echoed values are cut: the trailer stays small
    assert snapshot(hq) == before


async def test_watch_config_of_an_unknown_branch_is_refused(hq: HqHandle) -> None:
    await seed(hq.admin, hq.branch)
    before = snapshot(hq)
    stream = hq.branch.WatchConfig(branch_pb2.WatchConfigRequest(branch_ban="22099131"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stream:
            break
    assert info.value.code() == NOT_FOUND and "22099131" in info.value.details()
    assert snapshot(hq) == before


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)
