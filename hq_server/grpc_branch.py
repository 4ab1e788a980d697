"""BranchService: the thin gRPC shell over the branch use cases.

The guard (runtime.guard, with hq_server.authz) has already checked that the caller is the
branch the request names; `caller_branch` takes the BAN from the certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import grpc
from sqlalchemy import Connection

from allocator import Ban, DomainError, InvalidInput, NumberRange, branch_disabled
from hq_server import branch_ops, convert, enrolment
from hq_server.app import Hq
from hq_server.grant_batch import RangeRequest, request_ranges
from hq_server.queries import branch_config
from protos.einvoice.v1 import branch_pb2, branch_pb2_grpc
from runtime import messages, pki
from runtime.guard import current_principal
from runtime.principal import Kind

MAX_REQUEST_ID = 100
CONFIG_POLL_SECONDS = 5.0
Req = TypeVar("Req")
Rep = TypeVar("Rep")


def caller_branch(named: str) -> Ban:
    """The branch a call acts for: the certificate's BAN (or, with --insecure, the request's)."""
    caller = current_principal()
    if caller.kind is Kind.BRANCH and caller.ban is not None:
        return Ban(caller.ban)
    return convert.ban(named)


def branch_actor(branch: Ban) -> str:
    """The audit log's name for the caller: `branch:<BAN>`, or what --insecure makes of it."""
    caller = current_principal()
    return caller.actor if caller.kind is Kind.BRANCH else f"{caller.actor} for {branch}"


def report_usages(
    conn: Connection, now: datetime, _token: int, reports: list[branch_ops.UsageReport]
) -> list[int | DomainError]:
    """The reports queued together, decided in one savepoint (reports store no token)."""
    return branch_ops.report_usages(conn, now, reports)


async def in_turn(
    unary: Callable[[Req, grpc.aio.ServicerContext], Awaitable[Rep]],
    requests: AsyncIterator[Req],
    context: grpc.aio.ServicerContext,
) -> AsyncIterator[Rep]:
    """A unary call on a long-lived stream: one request at a time, in order, each admitted by
    the guard as a call of its own; a refused one ends the stream with its status."""
    async for request in requests:
        yield await unary(request, context)


class BranchServicer(branch_pb2_grpc.BranchServiceServicer):
    def __init__(self, hq: Hq) -> None:
        self.hq = hq

    async def RequestRange(
        self, request: branch_pb2.RequestRangeRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.Grant:
        if not request.request_id or len(request.request_id) > MAX_REQUEST_ID:
            raise InvalidInput(
                f"request id {request.request_id[:40]!r} must be 1..{MAX_REQUEST_ID} characters"
            )
        branch = caller_branch(request.branch_ban)
        req = RangeRequest(
            request_id=request.request_id,
            branch=branch,
            pool=convert.pool_key(request.year_month, request.invoice_type),
            booklets=request.booklets or 1,
            actor=branch_actor(branch),
        )
        granting = self.hq.write_together(req, request_ranges, self.hq.grant_observer.batched)
        row = await self.hq.grant_observer.observe(granting)
        return convert.grant_pb(row)

    def RequestRangeStream(
        self,
        requests: AsyncIterator[branch_pb2.RequestRangeRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[branch_pb2.Grant]:
        return in_turn(self.RequestRange, requests, context)

    async def ReportUsage(
        self, request: branch_pb2.UsageReport, context: grpc.aio.ServicerContext
    ) -> branch_pb2.UsageAck:
        branch = caller_branch(request.branch_ban)
        agent_time = messages.from_timestamp(
            request.agent_time, request.HasField("agent_time"), "UsageReport.agent_time"
        )
        progress = [
            branch_ops.GrantProgress(
                g.grant_id, g.next_number, [NumberRange(s.begin, s.end) for s in g.skipped], g.final
            )
            for g in request.grants
        ]
        report = branch_ops.UsageReport(branch, agent_time, progress)
        moved = await self.hq.write_together(report, report_usages)
        return branch_pb2.UsageAck(grants_updated=moved)

    def ReportUsageStream(
        self, requests: AsyncIterator[branch_pb2.UsageReport], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.UsageAck]:
        return in_turn(self.ReportUsage, requests, context)

    async def WatchConfig(
        self, request: branch_pb2.WatchConfigRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[branch_pb2.BranchConfig]:
        branch = caller_branch(request.branch_ban)
        secure = current_principal().kind is Kind.BRANCH
        last_version = -1
        with self.hq.hub.subscribe(branch.value) as changed, self.hq.presence.hold(branch.value):
            while True:
                view = await self.hq.read(lambda conn: branch_config(conn, branch))
                if secure and not view.branch.enabled and last_version < 0:
                    raise branch_disabled(branch)
                if view.branch.config_version != last_version:
                    last_version = view.branch.config_version
                    yield convert.config_pb(branch, view)
                if secure and not view.branch.enabled:  # told; from now on it is refused
                    raise branch_disabled(branch)
                # The timeout also catches changes made where no notify reaches (another replica).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), CONFIG_POLL_SECONDS)
                changed.clear()

    async def Enroll(
        self, request: branch_pb2.EnrollRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.BranchCertificate:
        return await self._sign(Kind.ENROLLEE, enrolment.enroll, request.csr_pem)

    async def RenewCertificate(
        self, request: branch_pb2.RenewCertificateRequest, context: grpc.aio.ServicerContext
    ) -> branch_pb2.BranchCertificate:
        return await self._sign(Kind.BRANCH, enrolment.renew, request.csr_pem)

    async def _sign(
        self, kind: Kind, use_case: Any, csr_pem: bytes
    ) -> branch_pb2.BranchCertificate:
        caller = current_principal()
        if caller.kind is not kind:
            needed = "an enrolment credential" if kind is Kind.ENROLLEE else "a branch certificate"
            raise InvalidInput(f"this call needs {needed} (an HQ started with --certs-dir)")
        signer = self.hq.signer
        cert = await self.hq.write(lambda conn, now: use_case(conn, now, caller, csr_pem, signer))
        return self._certificate(cert)

    def _certificate(self, cert: pki.x509.Certificate) -> branch_pb2.BranchCertificate:
        ca = self.hq.signer.authority().cert
        return convert.branch_certificate_pb(cert, ca, current_principal().ban or "")
