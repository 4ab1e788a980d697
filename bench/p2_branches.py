"""The branches of a P2 burst: each asks HQ once for its period-start range, as an agent does.

On a unary RequestRange call, or on its own RequestRangeStream opened before the burst (what
`branch_agent.hq.client` does once HQ has answered its WatchConfig). Either way, like
`branch_agent.buffer.refill`, a branch HQ does not answer (CANCELLED, UNAVAILABLE) asks again
with the same request id after a backoff; a stream that breaks sends its request as a unary
call, as the agent's client does.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from bench import load
from branch_agent.buffer.refill import RefillTiming
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc, common_pb2
from runtime.backoff import Backoff

# What the agent's HqClient takes for "HQ unreachable": its refill retries after a backoff.
RETRY_CODES = (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
BACKOFF = RefillTiming()
RETRIES = 30
# Far longer than the agent's 5 s: the burst measures how long HQ takes to serve everyone.
CALL_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class Granted:
    ban: str
    grant: branch_pb2.Grant


class Branches:
    """`bans` asking for `booklets` of `year_month` over the `opened` connections."""

    def __init__(
        self,
        bans: Sequence[str],
        year_month: str,
        opened: Sequence[grpc.aio.Channel],
        booklets: int,
    ) -> None:
        self.bans = bans
        self.stubs = [branch_pb2_grpc.BranchServiceStub(channel) for channel in opened]
        self.requests = [
            branch_pb2.RequestRangeRequest(
                request_id=str(uuid.uuid4()),
                branch_ban=ban,
                year_month=year_month,
                invoice_type=common_pb2.INVOICE_TYPE_GENERAL,
                booklets=booklets,
            )
            for ban in bans
        ]
        self.replies: list[branch_pb2.Grant | None] = [None] * len(bans)
        self.retries = 0
        self.streams: list[grpc.aio.StreamStreamCall] = []

    def asks(self) -> list[load.Call]:
        """One unary call per branch."""
        return [lambda i=i: self._unary(i) for i in range(len(self.bans))]

    def open_streams(self) -> list[grpc.aio.StreamStreamCall]:
        """One RequestRangeStream per branch, to be taken in (load.taken_in) before the burst."""
        self.streams = [
            self.stubs[i % len(self.stubs)].RequestRangeStream() for i in range(len(self.bans))
        ]
        return self.streams

    def streamed_asks(self) -> list[load.Call]:
        """One request per branch on its open stream."""
        return [lambda i=i: self._streamed(i) for i in range(len(self.bans))]

    async def close_streams(self) -> None:
        await load.finish(self.streams)
        self.streams = []

    async def _streamed(self, index: int) -> None:
        answered = load.on_stream(self.streams[index], lambda: self.requests[index])
        try:
            self.replies[index] = await answered()  # type: ignore[assignment]
        except grpc.aio.AioRpcError as error:
            if error.code() not in RETRY_CODES:
                raise
            self.retries += 1
            await self._unary(index)

    async def _unary(self, index: int) -> None:
        request = self.requests[index]
        stub = self.stubs[index % len(self.stubs)]
        backoff = Backoff(BACKOFF.backoff_min, BACKOFF.backoff_max)
        for _ in range(RETRIES):
            try:
                self.replies[index] = await stub.RequestRange(request, timeout=CALL_TIMEOUT)
                return
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRY_CODES:
                    raise
            self.retries += 1
            await backoff.sleep()
        self.replies[index] = await stub.RequestRange(request, timeout=CALL_TIMEOUT)

    def granted(self) -> list[Granted]:
        pairs = zip(self.bans, self.replies, strict=True)
        return [Granted(ban, reply) for ban, reply in pairs if reply is not None]


def check_disjoint(granted: Sequence[Granted]) -> None:
    """A benchmark of wrong answers is worthless: the grants must not share a number."""
    spans = sorted((g.grant.range.track, g.grant.range.begin, g.grant.range.end) for g in granted)
    for before, after in itertools.pairwise(spans):
        if before[0] == after[0] and after[1] <= before[2]:
            raise RuntimeError(f"overlapping grants in the burst: {before} and {after}")
