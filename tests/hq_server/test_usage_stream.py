"""ReportUsageStream over real mutual TLS: each report on the stream is admitted, decided and
answered exactly as a unary ReportUsage is, and a refused one ends the stream with the status
ReportUsage would give, changing nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy import select

from hq_server.app import RateLimits
from hq_server.schema import grants
from hq_server.server import build_server
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime.grpc_status import Refusal, refusal
from runtime.ratelimit import BucketSize
from tests.fixtures import SecureHq, snapshot
from tests.hq_server.test_trust import A, B, range_request, setup


def report(ban: str, grant: branch_pb2.Grant, used: int, rid: str = "r") -> branch_pb2.UsageReport:
    usage = branch_pb2.GrantUsage(grant_id=grant.grant_id, next_number=grant.range.begin + used)
    return branch_pb2.UsageReport(report_id=rid, branch_ban=ban, grants=[usage])


def cursor(hq: SecureHq, grant: branch_pb2.Grant) -> int:
    with hq.app.store.read_engine.connect() as conn:
        found = conn.execute(select(grants.c.next_number).where(grants.c.id == grant.grant_id))
        return int(found.scalar_one())


async def refused_on(hq: SecureHq, stream: Any, message: Any) -> Refusal:
    """Write `message` on the open stream: it must end the stream with a refusal (returned)
    and change nothing."""
    before = snapshot(hq)
    await stream.write(message)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stream.read()
    assert snapshot(hq) == before
    return refusal(info.value)


async def acks(stream: Any, reports: list[branch_pb2.UsageReport]) -> list[int]:
    answered = []
    for sent in reports:
        await stream.write(sent)
        answered.append((await stream.read()).grants_updated)
    return answered


async def test_reports_on_one_stream_are_acked_in_turn_as_report_usage_acks_them(
    secure_hq: SecureHq,
) -> None:
    grant_a = await setup(secure_hq)
    grant_b = await secure_hq.branch_as(B).RequestRange(range_request(B, "b-1"))
    sequence = [5, 10, 10, 7, 20]  # a repeat and an older state change nothing
    stream = secure_hq.branch_as(A).ReportUsageStream()
    streamed = await acks(stream, [report(A, grant_a, n) for n in sequence])
    await stream.done_writing()
    assert await stream.code() == grpc.StatusCode.OK
    as_b = secure_hq.branch_as(B)
    unary = [(await as_b.ReportUsage(report(B, grant_b, n))).grants_updated for n in sequence]
    assert streamed == unary == [1, 1, 0, 0, 1]
    assert cursor(secure_hq, grant_a) - grant_a.range.begin == 20
    assert cursor(secure_hq, grant_b) - grant_b.range.begin == 20


@pytest.mark.parametrize(
    ("bad", "code", "reason", "needle"),
    [
        ("another branch", grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN", f"not for branch '{B}'"),
        ("a long id", grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REFUSED", "UsageReport.report_id"),
        ("a foreign grant", grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED", "not held by"),
    ],
)
async def test_a_refused_report_ends_the_stream_and_changes_nothing(
    secure_hq: SecureHq, bad: str, code: grpc.StatusCode, reason: str, needle: str
) -> None:
    grant_a = await setup(secure_hq)
    grant_b = await secure_hq.branch_as(B).RequestRange(range_request(B, "b-1"))
    refused = {
        "another branch": report(B, grant_b, 9),
        "a long id": report(A, grant_a, 9, rid="x" * 101),
        "a foreign grant": report(A, grant_b, 9),
    }[bad]
    stream = secure_hq.branch_as(A).ReportUsageStream()
    assert await acks(stream, [report(A, grant_a, 5)]) == [1]  # stands
    seen = await refused_on(secure_hq, stream, refused)
    assert (seen.code, seen.reason) == (code, reason), seen.message
    assert needle in seen.message
    assert cursor(secure_hq, grant_a) - grant_a.range.begin == 5


async def test_each_report_on_a_stream_is_charged_to_the_rate_limit(secure_hq: SecureHq) -> None:
    grant = await setup(secure_hq)
    secure_hq.app.limits = RateLimits(branch=BucketSize(burst=4, per_second=0.01))
    server, port = await build_server(secure_hq.app, "127.0.0.1:0")  # its limiter: these sizes
    await server.start()
    try:
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{port}", secure_hq.certs.branch_tls(A).credentials()
        )
        secure_hq.channels.append(channel)
        call = branch_pb2_grpc.BranchServiceStub(channel).ReportUsageStream()
        # The stream's start takes a token, then each report one: 3 reports fit in 4.
        assert await acks(call, [report(A, grant, n) for n in (1, 2, 3)]) == [1, 1, 1]
        before = snapshot(secure_hq)
        await call.write(report(A, grant, 4))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call.read()
        seen = refusal(info.value)
        assert (seen.code, seen.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
        assert snapshot(secure_hq) == before
    finally:
        await server.stop(0)
