"""RequestRangeStream over real mutual TLS: each request on the stream is admitted, decided and
answered exactly as a unary RequestRange is (idempotent by request id), and a refused one ends
the stream with the status RequestRange would give, changing nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from protos.einvoice.v1 import admin_pb2, branch_pb2
from tests.fixtures import SecureHq, seed_pool_and_branches
from tests.hq_server.test_trust import A, B, range_request
from tests.hq_server.test_usage_stream import refused_on


async def answers(stream: Any, requests: list[branch_pb2.RequestRangeRequest]) -> list[Any]:
    answered = []
    for sent in requests:
        await stream.write(sent)
        answered.append(await stream.read())
    return answered


def span(grant: branch_pb2.Grant) -> tuple[str, int, int]:
    return grant.range.track, grant.range.begin, grant.range.end


async def test_requests_on_one_stream_are_granted_in_turn_as_request_range_grants_them(
    secure_hq: SecureHq,
) -> None:
    await seed_pool_and_branches(secure_hq.admin_as("olga"))
    stream = secure_hq.branch_as(A).RequestRangeStream()
    first, second, repeat = await answers(
        stream, [range_request(A, "a-1"), range_request(A, "a-2"), range_request(A, "a-1")]
    )
    await stream.done_writing()
    assert await stream.code() == grpc.StatusCode.OK
    assert repeat == first  # the same request id: the original grant, nothing new
    assert first.branch_ban == second.branch_ban == A
    assert span(first)[2] < span(second)[1]  # ascending, disjoint
    unary = await secure_hq.branch_as(A).RequestRange(range_request(A, "a-2"))
    assert unary == second  # a stream's request and the unary call share the request ids
    held = await secure_hq.admin_as("olga").ListGrants(admin_pb2.ListGrantsRequest(branch_ban=A))
    assert sorted(g.grant_id for g in held.grants) == sorted([first.grant_id, second.grant_id])


@pytest.mark.parametrize(
    ("bad", "code", "reason", "needle"),
    [
        ("another branch", grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN", f"not for branch '{B}'"),
        ("no request id", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_INPUT", "request id"),
        ("a bad period", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PERIOD", "YearMonth '11513'"),
        ("a disabled branch", grpc.StatusCode.PERMISSION_DENIED, "BRANCH_DISABLED", "disabled"),
    ],
)
async def test_a_refused_request_ends_the_stream_and_changes_nothing(
    secure_hq: SecureHq, bad: str, code: grpc.StatusCode, reason: str, needle: str
) -> None:
    await seed_pool_and_branches(secure_hq.admin_as("olga"))
    refused = {
        "another branch": range_request(B, "b-1"),
        "no request id": range_request(A, ""),
        "a bad period": branch_pb2.RequestRangeRequest(
            request_id="a-9", branch_ban=A, year_month="11513", booklets=1
        ),
        "a disabled branch": range_request(A, "a-2"),
    }[bad]
    stream = secure_hq.branch_as(A).RequestRangeStream()
    [granted] = await answers(stream, [range_request(A, "a-1")])  # stands
    admin = secure_hq.admin_as("olga")
    if bad == "a disabled branch":  # by an operator while the stream is open
        await admin.DisableBranch(admin_pb2.DisableBranchRequest(ban=A))
    seen = await refused_on(secure_hq, stream, refused)
    assert (seen.code, seen.reason) == (code, reason), seen.message
    assert needle in seen.message
    await admin.EnableBranch(admin_pb2.EnableBranchRequest(ban=A))
    again = await secure_hq.branch_as(A).RequestRange(range_request(A, "a-1"))
    assert again == granted
