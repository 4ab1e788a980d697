"""The agent's side of BranchService, over mutual TLS, with failover over several HQ addresses.

On UNAVAILABLE or a timeout the next address is tried (a follower or a dead replica); any other
status is HQ's answer and becomes the domain error it stands for, by its ErrorInfo reason
(`status_map.hq_error`). When no address answers, `HqUnreachable` is raised and `HqHealth`
remembers since when. A renewed certificate takes effect with `use`: new channels replace the
old ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import grpc

from allocator import InvoiceType, Period
from branch_agent import wire
from branch_agent.errors import HqUnreachable
from branch_agent.model import AgentConfig, GrantRecord
from branch_agent.status_map import hq_error
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime import messages
from runtime.clock import Clock
from runtime.grpc_status import refusal
from runtime.tls import Tls

T = TypeVar("T")
RETRY_ELSEWHERE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# Reconnect quickly once a replica is back, instead of gRPC's default backoff of up to 2 minutes.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


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
    """One channel per address; calls stick to the address that answered last."""

    def __init__(
        self,
        addresses: Sequence[str],
        clock: Clock,
        timeout: float = 5.0,
        tls: Tls | None = None,
    ) -> None:
        if not addresses:
            raise ValueError("at least one HQ address is needed")
        self._addresses = list(addresses)
        self._channels: list[grpc.aio.Channel] = []
        self._stubs: list[branch_pb2_grpc.BranchServiceStub] = []
        self._open(tls)
        self._current = 0
        self._timeout = timeout
        self.health = HqHealth(clock)

    def _open(self, tls: Tls | None) -> list[grpc.aio.Channel]:
        old = self._channels
        if tls is None:
            self._channels = [
                grpc.aio.insecure_channel(a, options=CHANNEL_OPTIONS) for a in self._addresses
            ]
        else:
            creds = tls.credentials()
            self._channels = [
                grpc.aio.secure_channel(a, creds, options=CHANNEL_OPTIONS) for a in self._addresses
            ]
        self._stubs = [branch_pb2_grpc.BranchServiceStub(channel) for channel in self._channels]
        return old

    async def use(self, tls: Tls) -> None:
        """Call HQ with a new certificate from now on (after a renewal)."""
        for channel in self._open(tls):
            await channel.close(grace=1.0)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()

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
        reply = await self._call(lambda stub: stub.RequestRange(request, timeout=self._timeout))
        return wire.grant_answering(reply, request)

    async def report_usage(self, report: branch_pb2.UsageReport) -> int:
        ack = await self._call(lambda stub: stub.ReportUsage(report, timeout=self._timeout))
        return ack.grants_updated

    async def watch_config(self, branch_ban: str) -> AsyncIterator[AgentConfig]:
        """Follow HQ's configuration until the stream breaks (then raise; the caller resumes).

        Addresses are tried in turn until one sends the first copy.
        """
        request = branch_pb2.WatchConfigRequest(branch_ban=branch_ban)
        for index in self._rotation():
            stream = self._stubs[index].WatchConfig(request)
            try:
                async for message in stream:
                    self._answered(index)
                    yield wire.config(message)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRY_ELSEWHERE:
                    self._answered(index)
                    raise hq_error(refusal(error)) from error
                continue
            finally:
                stream.cancel()
            return
        self.health.failed(f"no HQ address streams the configuration ({self._addresses})")
        raise HqUnreachable(self.health.last_error)

    async def _call(self, call: Callable[[branch_pb2_grpc.BranchServiceStub], Awaitable[T]]) -> T:
        """One attempt per address, starting with the one that answered last."""
        errors: list[str] = []
        for index in self._rotation():
            try:
                result = await call(self._stubs[index])
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRY_ELSEWHERE:
                    self._answered(index)
                    raise hq_error(refusal(error)) from error
                errors.append(f"{self._addresses[index]}: {error.code().name}")
                continue
            self._answered(index)
            return result
        self.health.failed("; ".join(errors))
        raise HqUnreachable(f"no HQ address answered ({'; '.join(errors)})")

    def _rotation(self) -> list[int]:
        """Every address once, the one that answered last first (calls run concurrently, so
        each walks its own copy of the order)."""
        count = len(self._stubs)
        return [(self._current + step) % count for step in range(count)]

    def _answered(self, index: int) -> None:
        self._current = index
        self.health.answered()
