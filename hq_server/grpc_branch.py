"""BranchService: the thin gRPC shell over the branch use cases."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from allocator import InvalidInput, NumberRange
from hq_server import branch_ops, convert
from hq_server.app import Hq, grpc_errors, grpc_stream_errors
from hq_server.grant_batch import GrantQueue, RangeRequest
from hq_server.queries import branch_config
from hq_server.records import quota_of, refill_of
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime import messages

MAX_REQUEST_ID = 100
CONFIG_POLL_SECONDS = 5.0


class BranchServicer(branch_pb2_grpc.BranchServiceServicer):
    def __init__(self, hq: Hq) -> None:
        self.hq = hq
        self.grants = GrantQueue(hq.write)

    @grpc_errors
    async def RequestRange(
        self, request: branch_pb2.RequestRangeRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.Grant:
        if not request.request_id or len(request.request_id) > MAX_REQUEST_ID:
            raise InvalidInput(f"request id {request.request_id!r} must be 1..100 characters")
        req = RangeRequest(
            request_id=request.request_id,
            branch=convert.ban(request.branch_ban),
            pool=convert.pool_key(request.year_month, request.invoice_type),
            booklets=request.booklets or 1,
        )
        row = await self.grants.request(req)
        return convert.grant_pb(row)

    @grpc_errors
    async def ReportUsage(
        self, request: branch_pb2.UsageReport, context: grpc.aio.ServicerContext
    ) -> branch_pb2.UsageAck:
        branch = convert.ban(request.branch_ban)
        agent_time = messages.from_timestamp(request.agent_time, request.HasField("agent_time"))
        progress = [
            branch_ops.GrantProgress(
                g.grant_id, g.next_number, [NumberRange(s.begin, s.end) for s in g.skipped], g.final
            )
            for g in request.grants
        ]
        moved = await self.hq.write(
            lambda conn, now, _t: branch_ops.report_usage(conn, now, branch, agent_time, progress)
        )
        return branch_pb2.UsageAck(grants_updated=moved)

    @grpc_stream_errors
    async def WatchConfig(
        self, request: branch_pb2.WatchConfigRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.BranchConfig]:
        branch = convert.ban(request.branch_ban)
        last_version = -1
        with self.hq.hub.subscribe(branch.value) as changed, self.hq.presence.hold(branch.value):
            while True:
                view = await self.hq.read(lambda conn: branch_config(conn, branch))
                if view.branch.config_version != last_version:
                    last_version = view.branch.config_version
                    yield branch_pb2.BranchConfig(
                        branch_ban=branch.value,
                        enabled=view.branch.enabled,
                        quota=convert.quota_pb(quota_of(view.branch)),
                        refill=convert.refill_pb(refill_of(view.branch)),
                        disabled_ranges=[
                            messages.track_range_message(r) for r in view.disabled_ranges
                        ],
                        version=view.branch.config_version,
                    )
                # The timeout also catches changes made where no notify reaches (another replica).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), CONFIG_POLL_SECONDS)
                changed.clear()
