"""The agent's side of BranchService, over mutual TLS, on one channel over every HQ replica.

gRPC fails over and retries (runtime.replicas: pick_first over the addresses, a retry policy
for UNAVAILABLE); a follower's NOT_LEADER naming the leader sends the call there once, and the
leader goes first from then on. Any status but UNAVAILABLE or a timeout is HQ's answer and
becomes the domain error it stands for, by its ErrorInfo reason (`status_map.hq_error`). When no
replica answers, `HqUnreachable` is raised and `HqHealth` remembers since when. A renewed
certificate takes effect with `use`: a new channel replaces the old one.

Usage reports and range requests each go on one long-lived stream (ReportUsageStream,
RequestRangeStream: less of HQ's CPU per call than a unary call each, and a period-start burst
that pays no call setup per branch); one the stream fails to carry, for whatever reason, is sent
again as the unary call, which fails over, redirects and maps refusals as every other call does.
Both are idempotent: a repeated report changes nothing, a repeated request id gets the original
grant. An HQ without the streams (UNIMPLEMENTED) gets unary calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

import grpc

from allocator import InvoiceType, Period
from branch_agent import wire
from branch_agent.errors import HqUnreachable
from branch_agent.hq.refusals import hq_error
from branch_agent.model import AgentConfig, GrantRecord
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime import messages
from runtime.clock import Clock
from runtime.errors import Fenced, NotLeader, Unavailable
from runtime.grpc_status import Refusal, refusal
from runtime.replicas import Replicas, service_config
from runtime.tls import Tls

T = TypeVar("T")
Req = TypeVar("Req")
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
LEADER_ELSEWHERE = (NotLeader.reason, Fenced.reason)
BRANCH_SERVICE = branch_pb2.DESCRIPTOR.services_by_name["BranchService"].full_name
# Retried by gRPC on UNAVAILABLE, as safe to repeat: RequestRange carries the agent's request id
# (HQ answers a repeat with the same grant); ReportUsage sends each grant's furthest state (HQ
# keeps the furthest: a repeat changes nothing); WatchConfig only reads, and a stream is retried
# only until its first message. Not RenewCertificate: a repeat would sign a second certificate;
# the renewal loop tries a failed renewal again itself.
IDEMPOTENT = ("RequestRange", "ReportUsage", "WatchConfig")


class HqPort(Protocol):
    """What the agent needs from HQ (the tests' double and the real HQ both serve it)."""

    health: HqHealth

    async def request_range(
        self,
        request_id: str,
        branch_ban: str,
        period: Period,
        invoice_type: InvoiceType,
        booklets: int,
    ) -> GrantRecord: ...

    async def report_usage(self, report: branch_pb2.UsageReport) -> int: ...

    def watch_config(self, branch_ban: str) -> AsyncIterator[AgentConfig]: ...

    async def renew_certificate(self, csr_pem: bytes) -> branch_pb2.BranchCertificate: ...

    async def close(self) -> None: ...


@dataclass
class HqHealth:
    """Whether HQ answered the last call, and since when it has not."""

    clock: Clock
    reachable: bool = False
    unreachable_since: datetime | None = None
    last_error: str = ""
    contacted: bool = False

    def answered(self) -> None:
        self.reachable, self.unreachable_since, self.contacted = True, None, True

    def failed(self, error: str) -> None:
        if self.reachable or self.unreachable_since is None:
            self.unreachable_since = self.clock.now()
        self.reachable, self.last_error, self.contacted = False, error, True


class HqClient:
    """The BranchService calls the agent makes, on one channel over every HQ address."""

    def __init__(
        self,
        addresses: Sequence[str],
        clock: Clock,
        timeout: float = 5.0,
        tls: Tls | None = None,
    ) -> None:
        self._replicas = Replicas(addresses, tls, service_config(BRANCH_SERVICE, IDEMPOTENT))
        self._timeout = timeout
        self.health = HqHealth(clock)
        self.reports: _Lane[branch_pb2.UsageReport, branch_pb2.UsageAck] = _Lane(
            lambda stub: stub.ReportUsageStream()
        )
        self.ranges: _Lane[branch_pb2.RequestRangeRequest, branch_pb2.Grant] = _Lane(
            lambda stub: stub.RequestRangeStream()
        )

    async def use(self, tls: Tls) -> None:
        """Call HQ with a new certificate from now on (after a renewal)."""
        await self._replicas.use(tls)

    async def close(self) -> None:
        self.reports.drop()
        self.ranges.drop()
        await self._replicas.close()

    async def renew_certificate(self, csr_pem: bytes) -> branch_pb2.BranchCertificate:
        request = branch_pb2.RenewCertificateRequest(csr_pem=csr_pem)
        return await self._call(lambda stub: stub.RenewCertificate(request, timeout=self._timeout))

    async def request_range(
        self,
        request_id: str,
        branch_ban: str,
        period: Period,
        invoice_type: InvoiceType,
        booklets: int,
    ) -> GrantRecord:
        request = branch_pb2.RequestRangeRequest(
            request_id=request_id,
            branch_ban=branch_ban,
            year_month=period.to_year_month(),
            invoice_type=messages.invoice_type_code(invoice_type),
            booklets=booklets,
        )
        reply = await self._streamed(
            self.ranges, request, lambda stub: stub.RequestRange(request, timeout=self._timeout)
        )
        return wire.grant_answering(reply, request)

    async def report_usage(self, report: branch_pb2.UsageReport) -> int:
        ack = await self._streamed(
            self.reports, report, lambda stub: stub.ReportUsage(report, timeout=self._timeout)
        )
        return ack.grants_updated

    async def _streamed(
        self,
        lane: _Lane[Req, T],
        request: Req,
        unary: Callable[[branch_pb2_grpc.BranchServiceStub], Awaitable[T]],
    ) -> T:
        """The reply from the lane's stream, or else from the unary call (which says what HQ
        answers when the stream could not carry the request)."""
        async with lane.lock:  # one request at a time on the stream, in order
            try:
                channel = await self._channel()
            except HqUnreachable:
                channel = None  # the unary call says so, the same way
            reply = None if channel is None else await lane.send(channel, request, self._timeout)
        if reply is not None:
            self.health.answered()
            return reply
        return await self._call(unary)

    async def watch_config(self, branch_ban: str) -> AsyncIterator[AgentConfig]:
        """Follow HQ's configuration until the stream breaks (then raise; the caller resumes).

        A stream that broke after it had served was HQ answering: its replica went away, and
        the caller's next stream goes to another (gRPC retries the start of a stream itself).
        """
        request = branch_pb2.WatchConfigRequest(branch_ban=branch_ban)
        channel = await self._channel()
        stream = branch_pb2_grpc.BranchServiceStub(channel).WatchConfig(request)
        served = False
        try:
            async for message in stream:
                if not served:  # HQ answers here: the period-start request need not wait
                    self.ranges.open_ahead(channel)  # for a stream to open
                served = True
                self.health.answered()
                yield wire.config(message)
        except grpc.aio.AioRpcError as error:
            seen = refusal(error)
            if seen.code not in (*UNREACHABLE, grpc.StatusCode.CANCELLED):
                self.health.answered()
                raise hq_error(seen) from error
            if served:
                raise HqUnreachable(f"the configuration stream broke ({seen.message})") from error
            raise await self._unreachable(seen, channel) from error
        finally:
            stream.cancel()

    async def _call(self, call: Callable[[branch_pb2_grpc.BranchServiceStub], Awaitable[T]]) -> T:
        """One call: gRPC fails over and retries; a follower naming the leader sends it there
        once (and the leader goes first for every call after it)."""
        for redirects_left in (1, 0):
            channel = await self._channel()
            try:
                result = await call(branch_pb2_grpc.BranchServiceStub(channel))
            except grpc.aio.AioRpcError as error:
                seen = refusal(error)
                if seen.code not in UNREACHABLE:
                    self.health.answered()
                    raise hq_error(seen) from error
                leader = seen.metadata.get("leader") if seen.reason in LEADER_ELSEWHERE else None
                if leader and redirects_left:
                    await self._replicas.redirect(leader, channel)
                    continue
                raise await self._unreachable(seen, channel) from error
            self.health.answered()
            return result
        raise AssertionError("the last pass returns or raises")

    async def _channel(self) -> grpc.aio.Channel:
        try:
            return await self._replicas.channel()
        except Unavailable as error:  # no address resolves
            self.health.failed(str(error))
            raise HqUnreachable(str(error)) from error

    async def _unreachable(self, seen: Refusal, channel: grpc.aio.Channel) -> HqUnreachable:
        await self._replicas.unreachable(channel)
        self.health.failed(f"{seen.code.name}: {seen.message}")
        return HqUnreachable(f"no HQ address answered ({seen.code.name}: {seen.message})")


class _Lane(Generic[Req, T]):
    """One long-lived bidi stream carrying a unary call's requests in turn, on the channel it
    was opened on; opened again when the channel changes or after it broke."""

    def __init__(
        self, open_stream: Callable[[branch_pb2_grpc.BranchServiceStub], grpc.aio.StreamStreamCall]
    ) -> None:
        self._open = open_stream
        self._stream: _Stream | None = None
        self.lock = asyncio.Lock()
        self.enabled = True  # until an HQ says it has no such stream (UNIMPLEMENTED)

    async def send(self, channel: grpc.aio.Channel, request: Req, timeout: float) -> T | None:
        """The reply from the stream, or None when it could not carry the request (dropped)."""
        if not self.enabled:
            return None
        stream = self._on(channel)
        try:
            async with asyncio.timeout(timeout):
                return await stream.send(request)  # type: ignore[no-any-return]
        # Whatever broke the stream (a refusal, a lost replica, a timeout, a call that ended
        # before this write: InvalidStateError), the unary call says what HQ answers.
        except Exception as error:
            if isinstance(error, grpc.aio.AioRpcError):
                self.enabled = error.code() != grpc.StatusCode.UNIMPLEMENTED
            self.drop()
            return None
        except asyncio.CancelledError:  # a request may be on its way: its reply is nobody's now
            self.drop()
            raise

    def open_ahead(self, channel: grpc.aio.Channel) -> None:
        """Have the stream open on `channel` before it is needed (unless a call is using it)."""
        if self.enabled and not self.lock.locked():
            self._on(channel)

    def _on(self, channel: grpc.aio.Channel) -> _Stream:
        stream = self._stream
        if stream is None or stream.channel is not channel or stream.call.done():
            self.drop()
            self._stream = _Stream(channel, self._open(branch_pb2_grpc.BranchServiceStub(channel)))
        return self._stream

    def drop(self) -> None:
        if self._stream is not None:
            self._stream.call.cancel()
            self._stream = None


@dataclass(frozen=True, slots=True)
class _Stream:
    channel: grpc.aio.Channel
    call: grpc.aio.StreamStreamCall

    async def send(self, request: object) -> object:
        await self.call.write(request)
        reply = await self.call.read()
        if reply is grpc.aio.EOF:  # HQ closed it cleanly (read raises a refusal's status)
            raise grpc.aio.UsageError("HQ ended the stream")
        return reply
