"""PosService over grpc.aio: a thin servicer, its authorization table, and the server.

Methods only translate: message -> use case (`AgentService`) -> message; the guard
(runtime.guard) identifies the caller and turns domain errors into statuses with their reason.
A local POS (loopback or the Unix socket) names its terminal in the request; a POS on the store
LAN connects over mutual TLS with a certificate of the agent's own POS CA (`pos_tls`), which is
its terminal id.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping

import grpc
from grpc_health.v1.health import SERVICE_NAME as HEALTH_SERVICE

from allocator import DomainError
from branch_agent import wire
from branch_agent.model import GiveBackOutcome
from branch_agent.pos.numbers import AgentService, StatusView
from protos.einvoice.v1 import pos_pb2, pos_pb2_grpc
from runtime import messages, principal, reflection
from runtime.errors import Unauthenticated
from runtime.guard import Anyone, Guard, OwnTerminal, Rule, current_principal
from runtime.health import HealthBoard, keep_updated
from runtime.principal import Kind, Principal
from runtime.tls import Tls, add_port, server_options

log = logging.getLogger("einv.agent.health")
SERVICE_NAME = pos_pb2.DESCRIPTOR.services_by_name["PosService"].full_name
HEALTH_EVERY = 0.5  # seconds between two readings of the rule (AgentService.can_hand_out)
POS = f"/{SERVICE_NAME}/"
RULES: Mapping[str, Rule] = {
    POS + "NextNumbers": OwnTerminal("terminal_id"),
    POS + "NextNumbersStream": OwnTerminal("terminal_id"),  # each request as NextNumbers
    POS + "GiveBack": OwnTerminal("terminal_id"),
    POS + "Status": OwnTerminal(),
    "/grpc.health.v1.Health/Check": Anyone(),
    "/grpc.health.v1.Health/Watch": Anyone(),
    "/grpc.health.v1.Health/List": Anyone(),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": OwnTerminal(),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": OwnTerminal(),
}
LOCAL = Principal(Kind.INSECURE, "local")
_OUTCOMES = {
    GiveBackOutcome.REUSED: pos_pb2.GiveBackReply.OUTCOME_REUSED,
    GiveBackOutcome.SKIPPED: pos_pb2.GiveBackReply.OUTCOME_SKIPPED,
}


def terminal_of(named: str) -> str:
    """The terminal a call comes from: its certificate's id, or what a local POS says."""
    caller = current_principal()
    return caller.name if caller.kind is Kind.TERMINAL else named


class PosServicer(pos_pb2_grpc.PosServiceServicer):
    def __init__(self, service: AgentService) -> None:
        self._service = service

    async def NextNumbers(
        self, request: pos_pb2.NextNumbersRequest, context: grpc.aio.ServicerContext
    ) -> pos_pb2.NextNumbersReply:
        # proto3 cannot tell 0 from unset: the contract says 0 means 1.
        handed = await self._service.next_numbers(
            request.count or 1,
            messages.invoice_type(request.invoice_type),
            terminal_of(request.terminal_id),
            request.request_id,
        )
        return pos_pb2.NextNumbersReply(numbers=wire.issued_numbers(handed))

    async def NextNumbersStream(
        self,
        requests: AsyncIterator[pos_pb2.NextNumbersRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pos_pb2.NextNumbersReply]:
        # One request at a time, in order, each admitted by the guard as a call; a refused one
        # ends the stream with its status.
        async for request in requests:
            yield await self.NextNumbers(request, context)

    async def GiveBack(
        self, request: pos_pb2.GiveBackRequest, context: grpc.aio.ServicerContext
    ) -> pos_pb2.GiveBackReply:
        outcome = await self._service.give_back(
            request.invoice_number, terminal_of(request.terminal_id)
        )
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


def identify(branch_ban: str):  # type: ignore[no-untyped-def]
    def from_context(context: grpc.aio.ServicerContext) -> Principal:
        auth = context.auth_context()
        ids = auth.get("peer_spiffe_id")
        if ids:
            try:
                caller = principal.from_spiffe_id(ids[0].decode())
            except DomainError as error:
                raise Unauthenticated(str(error)) from None
            if caller.kind is Kind.TERMINAL and caller.ban == branch_ban:
                return caller
            raise Unauthenticated(f"{caller.actor} is not a POS terminal of branch {branch_ban}")
        if auth.get("transport_security_type") == [b"ssl"]:
            raise Unauthenticated("the POS certificate carries no terminal identity")
        return LOCAL  # only the loopback or Unix socket listener is plaintext

    return from_context


class PosHealth:
    """grpc.health.v1 of the agent: "" while the process serves; the POS service name by
    `AgentService.can_hand_out` (NOT_SERVING: no number of the period and no HQ to refill)."""

    def __init__(self, service: AgentService) -> None:
        self._service = service
        self.board = HealthBoard()

    async def update(self) -> None:
        ok = self._service.can_hand_out()
        if await self.board.show({"": True, SERVICE_NAME: ok}):
            if ok:
                log.info("health: %s SERVING again", SERVICE_NAME)
            else:
                log.warning(
                    "health: %s NOT_SERVING: no number left and HQ unreachable", SERVICE_NAME
                )

    async def run(self) -> None:
        await keep_updated(self.update, HEALTH_EVERY, log)


async def build_server(
    service: AgentService,
    listen: str,
    lan_listen: str | None = None,
    lan_tls: Tls | None = None,
) -> tuple[grpc.aio.Server, str, PosHealth]:
    """The started server, the address it listens on (port 0 becomes the real port) and its
    health, to keep current (`PosHealth.run`)."""
    server = grpc.aio.server(
        interceptors=[Guard(RULES, identify(service.branch_ban))], options=server_options()
    )
    pos_pb2_grpc.add_PosServiceServicer_to_server(PosServicer(service), server)
    health = PosHealth(service)
    health.board.register(server)
    reflection.enable(server, (SERVICE_NAME, HEALTH_SERVICE))
    port = add_port(server, listen, None)
    if lan_listen is not None:
        add_port(server, lan_listen, lan_tls)
    await server.start()
    await health.update()
    bound = listen if listen.startswith("unix:") else f"{listen.rsplit(':', 1)[0]}:{port}"
    return server, bound, health
