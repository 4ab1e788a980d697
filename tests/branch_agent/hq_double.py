"""A small in-test HQ: a real grpc.aio BranchService on 127.0.0.1 with an in-memory pool.

Only for the agent's own tests (the real HQ has its own). Grants follow the domain's policy
(`free_runs`, `plan_grant`, `booklets_allowed`), are idempotent by request id, and usage is kept
as the furthest state per grant. `stop()` and `start()` again (same port) simulate an outage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc

from allocator import (
    AssignedRange,
    InvoiceType,
    NumberRange,
    PoolExhausted,
    Quota,
    QuotaReached,
    RangeSet,
    Track,
    TrackRange,
    UsageState,
    booklets_allowed,
    free_runs,
    merge_report,
    plan_grant,
)
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc, common_pb2
from runtime import messages
from runtime.errors import NotLeader
from runtime.grpc_status import abort

PoolKey = tuple[str, InvoiceType]


def pool(track: str, begin: int, end: int) -> AssignedRange:
    return AssignedRange(TrackRange(Track(track), NumberRange(begin, end)))


@dataclass
class HqDouble:
    branches: set[str]
    pools: dict[PoolKey, list[AssignedRange]]
    quota: Quota = field(default_factory=lambda: Quota(10, 1000))
    refill: common_pb2.RefillSettings = field(
        default_factory=lambda: common_pb2.RefillSettings(
            # A tiny horizon keeps the burn rate out of the tests' arithmetic.
            low_water_count=100,
            low_water_minutes=0.001,
            min_booklets=2,
            max_booklets=4,
        )
    )
    enabled: bool = True
    disabled: list[TrackRange] = field(default_factory=list)
    version: int = 1
    # Fault injection: the next N RequestRange calls commit (or find) their grant, then answer
    # UNAVAILABLE, as if the reply were lost on the way.
    lose_replies: int = 0
    # When set: a refusal of a quota or an empty pool waits for this before it goes out.
    reply_gate: asyncio.Event | None = None
    # A follower: writes are refused NOT_LEADER naming this address, as a real follower does.
    leader: str | None = None
    grants: dict[str, branch_pb2.Grant] = field(default_factory=dict)  # by request id
    request_ids: list[str] = field(default_factory=list)  # every RequestRange, retries too
    usage: dict[str, UsageState] = field(default_factory=dict)  # by grant id
    reports: int = 0
    sent: list[branch_pb2.UsageReport] = field(default_factory=list)  # every report, in order
    port: int = 0
    _server: grpc.aio.Server | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> str:
        server = grpc.aio.server()
        branch_pb2_grpc.add_BranchServiceServicer_to_server(_Servicer(self), server)
        self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        await server.start()
        self._server = server
        return self.address

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(0)
            self._server = None

    async def change_config(self, **changes: object) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        self.version += 1
        async with self._changed:
            self._changed.notify_all()

    def config(self, ban: str) -> branch_pb2.BranchConfig:
        return branch_pb2.BranchConfig(
            branch_ban=ban,
            enabled=self.enabled,
            quota=common_pb2.Quota(
                booklets_per_request=self.quota.booklets_per_request,
                booklets_per_period=self.quota.booklets_per_period,
            ),
            refill=self.refill,
            disabled_ranges=[messages.track_range_message(r) for r in self.disabled],
            version=self.version,
        )

    def granted(self, ban: str | None = None) -> list[branch_pb2.Grant]:
        return [g for g in self.grants.values() if ban is None or g.branch_ban == ban]

    def grant(self, request: branch_pb2.RequestRangeRequest) -> branch_pb2.Grant:
        """The grant for a request (raises the domain's QuotaReached / PoolExhausted)."""
        itype = messages.invoice_type(request.invoice_type)
        key = (request.year_month, itype)
        same_pool = [
            g
            for g in self.grants.values()
            if (g.year_month, messages.invoice_type(g.invoice_type)) == key
        ]
        mine = [g for g in same_pool if g.branch_ban == request.branch_ban]
        allowed = booklets_allowed(request.booklets, self.quota, sum(g.booklets for g in mine))
        runs = free_runs(self.pools[key], [messages.track_range(g.range) for g in same_pool])
        current = messages.track_range(mine[-1].range) if mine else None
        chosen = plan_grant(runs, current, allowed)
        grant = branch_pb2.Grant(
            grant_id=f"grant-{len(self.grants) + 1}",
            branch_ban=request.branch_ban,
            year_month=request.year_month,
            invoice_type=request.invoice_type or common_pb2.INVOICE_TYPE_GENERAL,
            range=messages.track_range_message(chosen),
            booklets=chosen.range.booklets,
            granted_at=messages.timestamp(datetime.now(UTC)),
            request_id=request.request_id,
        )
        self.grants[request.request_id] = grant
        return grant

    def record(self, report: branch_pb2.UsageReport) -> int:
        """Kept as HQ keeps it (allocator.merge_report); grants moved."""
        updated = 0
        held = {g.grant_id: messages.track_range(g.range) for g in self.grants.values()}
        for item in report.grants:
            numbers = held[item.grant_id]
            stored = self.usage.get(
                item.grant_id, UsageState(numbers.range.begin, RangeSet(), False)
            )
            skips = RangeSet.of(NumberRange(s.begin, s.end) for s in item.skipped)
            merged = merge_report(numbers, stored, UsageState(item.next_number, skips, item.final))
            self.usage[item.grant_id] = merged.state
            updated += merged.moved
        self.reports += 1
        self.sent.append(report)
        return updated


class _Servicer(branch_pb2_grpc.BranchServiceServicer):
    def __init__(self, hq: HqDouble) -> None:
        self.hq = hq

    async def RequestRange(
        self, request: branch_pb2.RequestRangeRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.Grant:
        hq = self.hq
        hq.request_ids.append(request.request_id)
        await self._leader_only(context)
        grant = hq.grants.get(request.request_id) or await self._new_grant(request, context)
        if hq.lose_replies > 0:
            hq.lose_replies -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "reply lost (test fault)")
        return grant

    async def _new_grant(
        self, request: branch_pb2.RequestRangeRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.Grant:
        hq = self.hq
        if request.branch_ban not in hq.branches:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"branch {request.branch_ban} unknown")
        if not hq.enabled:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"branch {request.branch_ban} is disabled"
            )
        key = (request.year_month, messages.invoice_type(request.invoice_type))
        if key not in hq.pools:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"period {request.year_month} not yet assigned: no MOF range of type "
                f"{key[1].value} imported",
            )
        try:
            return hq.grant(request)
        except (QuotaReached, PoolExhausted) as error:
            if hq.reply_gate is not None:
                await hq.reply_gate.wait()
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(error))
        raise AssertionError("unreachable")

    async def _leader_only(self, context: grpc.aio.ServicerContext) -> None:
        if self.hq.leader is not None:
            await abort(context, NotLeader("this HQ replica follows", leader=self.hq.leader))

    async def ReportUsage(
        self, request: branch_pb2.UsageReport, context: grpc.aio.ServicerContext
    ) -> branch_pb2.UsageAck:
        await self._leader_only(context)
        return branch_pb2.UsageAck(grants_updated=self.hq.record(request))

    async def WatchConfig(
        self, request: branch_pb2.WatchConfigRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.BranchConfig]:
        hq = self.hq
        while True:
            sent = hq.version
            yield hq.config(request.branch_ban)
            async with hq._changed:
                await hq._changed.wait_for(lambda sent=sent: hq.version != sent)
