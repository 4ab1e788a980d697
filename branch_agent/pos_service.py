"""PosService over grpc.aio: a thin servicer and the server that carries it.

Methods only translate: message -> use case (`AgentService`) -> message, and a domain error ->
a status code (`status_map`) with the domain's message unchanged.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection

from allocator import DomainError
from branch_agent import wire
from branch_agent.model import GiveBackOutcome
from branch_agent.service import AgentService, StatusView
from branch_agent.status_map import status_code
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from runtime import messages

SERVICE_NAME = pos_pb2.DESCRIPTOR.services_by_name["PosService"].full_name
_OUTCOMES = {
    GiveBackOutcome.REUSED: pos_pb2.GiveBackReply.OUTCOME_REUSED,
    GiveBackOutcome.SKIPPED: pos_pb2.GiveBackReply.OUTCOME_SKIPPED,
}


class PosServicer(pos_pb2_grpc.PosServiceServicer):
    def __init__(self, service: AgentService) -> None:
        self._service = service

    async def NextNumbers(
        self, request: pos_pb2.NextNumbersRequest, context: grpc.aio.ServicerContext
    ) -> pos_pb2.NextNumbersReply:
        try:
            # proto3 cannot tell 0 from unset: the contract says 0 means 1.
            handed = await self._service.next_numbers(
                request.count or 1,
                messages.invoice_type(request.invoice_type),
                request.terminal_id,
                request.request_id,
            )
        except DomainError as error:
            await context.abort(status_code(error), str(error))
        return pos_pb2.NextNumbersReply(numbers=wire.issued_numbers(handed))

    async def GiveBack(
        self, request: pos_pb2.GiveBackRequest, context: grpc.aio.ServicerContext
    ) -> pos_pb2.GiveBackReply:
        try:
            outcome = await self._service.give_back(request.invoice_number, request.terminal_id)
        except DomainError as error:
            await context.abort(status_code(error), str(error))
        return pos_pb2.GiveBackReply(outcome=_OUTCOMES[outcome])

    async def Status(
        self, request: pos_pb2.StatusRequest, context: grpc.aio.ServicerContext
    ) -> pos_pb2.AgentStatus:
        return status_message(await self._service.status())


def status_message(view: StatusView) -> pos_pb2.AgentStatus:
    message = pos_pb2.AgentStatus(
        branch_ban=view.branch_ban,
        year_month=view.period.to_year_month(),
        remaining=view.remaining,
        next_ranges=[messages.track_range_message(r) for r in view.next_ranges],
        hq_reachable=view.hq_reachable,
        burn_per_minute=view.burn_per_minute,
        issued_total=view.issued_total,
        reports_pending=view.reports_pending,
        last_refill_error=view.last_refill_error,
    )
    if view.current_range is not None:
        message.current_range.CopyFrom(messages.track_range_message(view.current_range))
    if view.hq_unreachable_since is not None:
        message.hq_unreachable_since.CopyFrom(messages.timestamp(view.hq_unreachable_since))
    return message


async def build_server(service: AgentService, listen: str) -> tuple[grpc.aio.Server, str]:
    """The started server and the address it listens on (port 0 becomes the real port)."""
    server = grpc.aio.server()
    pos_pb2_grpc.add_PosServiceServicer_to_server(PosServicer(service), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    names = (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
    reflection.enable_server_reflection((*names, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(listen)
    if port == 0 and not listen.startswith("unix:"):
        raise OSError(f"cannot listen on {listen}")
    await server.start()
    await health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    bound = listen if listen.startswith("unix:") else f"{listen.rsplit(':', 1)[0]}:{port}"
    return server, bound
