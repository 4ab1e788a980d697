"""The agent's usage reports on one ReportUsageStream and its range requests on one
RequestRangeStream: one stream carries call after call; a call the stream fails to carry goes
again as the unary call (a range request with the same request id) and the next opens a new
stream (as it does after a cancelled one or one HQ ended); an HQ without a stream gets unary
calls for it from then on. Over a real grpc.aio server on loopback whose BranchService counts
what it was sent (the real HQ's streams: test_usage_stream and test_range_stream in
tests/hq_server, and every end-to-end test, where agents report to and ask a real HQ)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from allocator import InvoiceType, Period, PermissionDenied
from branch_agent.hq.client import HqClient
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc, common_pb2
from runtime.clock import SystemClock

PERIOD = Period(2026, 12)


@dataclass
class CountingHq(branch_pb2_grpc.BranchServiceServicer):
    """Acks each report with its number of grants; `break_after` ends a stream with UNAVAILABLE
    after that many reports; `streams` False answers the stream UNIMPLEMENTED (an older HQ)."""

    streams: bool = True
    break_after: int | None = None
    end_after: int | None = None  # then end the stream cleanly (an HQ going away gracefully)
    opened: int = 0
    streamed: list[str] = field(default_factory=list)
    unary: list[str] = field(default_factory=list)
    slow_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    ranges_stream: bool = True
    ranges_break_after: int | None = None
    ranges_end_at_once: bool = False
    asked: list[tuple[str, str]] = field(default_factory=list)  # (how, request id)

    async def WatchConfig(
        self, request: branch_pb2.WatchConfigRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.BranchConfig]:
        yield branch_pb2.BranchConfig(version=1, enabled=True)
        await asyncio.Event().wait()  # open until the agent lets go

    async def RequestRange(
        self, request: branch_pb2.RequestRangeRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.Grant:
        self.asked.append(("unary", request.request_id))
        return grant_for(request)

    async def RequestRangeStream(
        self,
        requests: AsyncIterator[branch_pb2.RequestRangeRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[branch_pb2.Grant]:
        if not self.ranges_stream:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        self.asked.append(("opened", ""))
        if self.ranges_end_at_once:  # an HQ going away while the stream waits
            return
        async for request in requests:
            if self.ranges_break_after == sum(how == "stream" for how, _ in self.asked):
                self.ranges_break_after = None
                await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")
            self.asked.append(("stream", request.request_id))
            yield grant_for(request)

    async def ReportUsage(
        self, request: branch_pb2.UsageReport, context: grpc.aio.ServicerContext
    ) -> branch_pb2.UsageAck:
        if request.report_id == "refused":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        self.unary.append(request.report_id)
        return branch_pb2.UsageAck(grants_updated=len(request.grants))

    async def ReportUsageStream(
        self, requests: AsyncIterator[branch_pb2.UsageReport], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.UsageAck]:
        if not self.streams:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        self.opened += 1
        async for request in requests:
            if request.report_id == "refused":
                await context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
            if self.break_after is not None and len(self.streamed) == self.break_after:
                self.break_after = None
                await context.abort(grpc.StatusCode.UNAVAILABLE, "going away")
            if request.report_id == "slow":
                self.slow_arrived.set()
                await asyncio.sleep(0.3)
            self.streamed.append(request.report_id)
            yield branch_pb2.UsageAck(grants_updated=len(request.grants))
            if self.end_after is not None and len(self.streamed) == self.end_after:
                self.end_after = None
                return


@pytest.fixture
async def served() -> AsyncIterator[tuple[CountingHq, HqClient]]:
    hq = CountingHq()
    server = grpc.aio.server()
    branch_pb2_grpc.add_BranchServiceServicer_to_server(hq, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    client = HqClient([f"127.0.0.1:{port}"], SystemClock(), timeout=5.0)
    try:
        yield hq, client
    finally:
        await client.close()
        await server.stop(None)


def grant_for(request: branch_pb2.RequestRangeRequest) -> branch_pb2.Grant:
    begin = 50 * len(request.request_id)
    return branch_pb2.Grant(
        grant_id=f"g-{request.request_id}",
        branch_ban=request.branch_ban,
        year_month=request.year_month,
        invoice_type=request.invoice_type,
        range=common_pb2.TrackRange(track="AB", begin=begin, end=begin + 49),
        booklets=1,
        request_id=request.request_id,
    )


async def ended(lane: Any) -> None:
    """Until HQ's end of the lane's open stream has reached the agent (bounded: a few ms)."""
    for _ in range(500):
        if lane._stream is not None and lane._stream.call.done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("HQ's end of the stream never reached the agent")


async def ask(client: HqClient, rid: str) -> str:
    granted = await client.request_range(rid, "12345675", PERIOD, InvoiceType.GENERAL, 1)
    return granted.grant_id


def report(rid: str, grants: int = 1) -> branch_pb2.UsageReport:
    usage = [branch_pb2.GrantUsage(grant_id=f"g{n}", next_number=n) for n in range(grants)]
    return branch_pb2.UsageReport(report_id=rid, branch_ban="12345675", grants=usage)


async def test_reports_go_one_after_another_on_one_stream(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    assert [await client.report_usage(report(f"r{n}", n)) for n in range(1, 5)] == [1, 2, 3, 4]
    assert (hq.opened, hq.streamed, hq.unary) == (1, ["r1", "r2", "r3", "r4"], [])
    assert client.health.reachable


async def test_a_broken_stream_sends_its_report_unary_and_the_next_opens_a_new_one(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    hq.break_after = 1
    assert [await client.report_usage(report(f"r{n}", 2)) for n in range(1, 4)] == [2, 2, 2]
    assert (hq.opened, hq.streamed, hq.unary) == (2, ["r1", "r3"], ["r2"])


async def test_a_stream_hq_ended_is_opened_again_for_the_next_report(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    hq.end_after = 1
    assert await client.report_usage(report("r1")) == 1
    await ended(client.reports)  # the end has reached the agent: the call is over
    assert [await client.report_usage(report(f"r{n}")) for n in (2, 3)] == [1, 1]
    assert (hq.opened, hq.streamed, hq.unary) == (2, ["r1", "r2", "r3"], [])


async def test_an_hq_without_the_stream_gets_unary_reports_from_then_on(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    hq.streams = False
    assert [await client.report_usage(report(f"r{n}")) for n in range(1, 4)] == [1, 1, 1]
    assert (hq.opened, hq.streamed, hq.unary) == (0, [], ["r1", "r2", "r3"])
    assert not client.reports.enabled


async def test_a_refusal_is_hqs_answer_as_for_a_unary_report(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    with pytest.raises(PermissionDenied, match="not yours"):
        await client.report_usage(report("refused"))
    assert await client.report_usage(report("after")) == 1  # on a new stream
    assert (hq.opened, hq.streamed, hq.unary) == (2, ["after"], [])


async def test_a_report_cancelled_on_its_way_leaves_no_ack_for_the_next_one(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    slow = asyncio.create_task(client.report_usage(report("slow", 3)))
    await asyncio.wait_for(hq.slow_arrived.wait(), 5)  # and its ack is on its way
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert await client.report_usage(report("next", 1)) == 1  # its own ack, not the slow one's
    assert hq.opened == 2


async def test_range_requests_go_one_after_another_on_their_own_stream(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    assert [await ask(client, rid) for rid in ("a", "bb", "a")] == ["g-a", "g-bb", "g-a"]
    assert await client.report_usage(report("r1")) == 1  # on the other stream
    assert hq.asked == [("opened", ""), ("stream", "a"), ("stream", "bb"), ("stream", "a")]
    assert (hq.opened, hq.streamed) == (1, ["r1"])


async def test_a_broken_stream_sends_its_request_unary_with_the_same_id(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    hq.ranges_break_after = 1
    assert [await ask(client, rid) for rid in ("a", "bb", "ccc")] == ["g-a", "g-bb", "g-ccc"]
    opened = ("opened", "")
    assert hq.asked == [opened, ("stream", "a"), ("unary", "bb"), opened, ("stream", "ccc")]


async def test_an_hq_without_the_range_stream_gets_unary_requests_and_still_streamed_reports(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    hq.ranges_stream = False
    assert [await ask(client, rid) for rid in ("a", "bb")] == ["g-a", "g-bb"]
    assert await client.report_usage(report("r1")) == 1
    assert hq.asked == [("unary", "a"), ("unary", "bb")]
    assert (not client.ranges.enabled, client.reports.enabled, hq.streamed) == (True, True, ["r1"])


async def test_the_range_stream_is_open_once_hq_has_answered_before_any_request(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    watch = aiter(client.watch_config("12345675"))
    assert (await anext(watch)).version == 1
    for _ in range(100):  # bounded: the stream's start reaches HQ in a few ms
        if hq.asked:
            break
        await asyncio.sleep(0.02)
    assert hq.asked == [("opened", "")]  # before the period-start request
    assert await ask(client, "a") == "g-a"
    assert hq.asked == [("opened", ""), ("stream", "a")]  # on that stream
    await watch.aclose()


async def test_a_range_stream_hq_ended_while_idle_is_opened_again_by_the_next_watch(
    served: tuple[CountingHq, HqClient],
) -> None:
    hq, client = served
    hq.ranges_end_at_once = True
    for _ in range(2):  # the watch breaks and the agent follows again (ConfigWatcher)
        watch = aiter(client.watch_config("12345675"))
        await anext(watch)
        await watch.aclose()
        await ended(client.ranges)
    assert hq.asked == [("opened", ""), ("opened", "")]
    hq.ranges_end_at_once = False
    assert await ask(client, "a") == "g-a"  # on a third stream, or unary if it broke on the way
    assert hq.asked[-1] in (("stream", "a"), ("unary", "a"))
