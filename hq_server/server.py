"""Builds and runs the HQ gRPC server (grpc.aio), with health checking and reflection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import timedelta

import grpc
from grpc_health.v1.health import SERVICE_NAME as HEALTH_SERVICE

from allocator import DomainError
from hq_server import handover, history
from hq_server.alert_state import AlertState
from hq_server.app import Hq
from hq_server.authz import RULES
from hq_server.grpc_admin import AdminServicer
from hq_server.grpc_branch import BranchServicer
from hq_server.health import ADMIN_SERVICE, BRANCH_SERVICE, ServerHealth
from hq_server.metrics import HqMetrics
from hq_server.web.app import BackOffice, WebListen
from notifier import NotifierService
from protos.einvoice.v1 import admin_pb2_grpc, branch_pb2_grpc
from runtime import principal, reflection
from runtime.errors import Unauthenticated
from runtime.guard import Guard
from runtime.metrics.server import MetricsListen, MetricsServer
from runtime.principal import Kind, Principal
from runtime.ratelimit import BucketSize, RateLimiter
from runtime.tls import add_port, server_options

log = logging.getLogger("einv.hq")
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# At a period start every branch (10,000 planned) asks at once. gRPC core sheds calls that wait
# for the event loop beyond 1,000 (hard limit 3,000) as CANCELLED; let them queue instead.
MAX_PENDING_CALLS = 20_000
RATE_LIMIT_KEYS = 100_000  # buckets kept; 10,000 branches and their admins fit many times


def identify(hq: Hq) -> Callable[[grpc.aio.ServicerContext], Principal]:
    """The caller, from the SPIFFE ID of the client certificate TLS verified."""

    def from_context(context: grpc.aio.ServicerContext) -> Principal:
        if hq.tls is None:
            return principal.INSECURE
        ids = context.auth_context().get("peer_spiffe_id")
        if not ids:
            raise Unauthenticated(
                "the client certificate carries no einv identity: use one made by the HQ's CA "
                "(einv-admin certs admin, or einv-agent enroll)"
            )
        try:
            return principal.from_spiffe_id(ids[0].decode())
        except DomainError as error:
            raise Unauthenticated(str(error)) from None

    return from_context


def rate_limiter(hq: Hq) -> RateLimiter:
    sizes = {
        Kind.BRANCH: hq.limits.branch,
        Kind.ADMIN: hq.limits.admin,
        Kind.ENROLLEE: hq.limits.enrollee,
    }

    def size_of(who: object) -> BucketSize | None:
        return sizes.get(who.kind) if isinstance(who, Principal) else None

    return RateLimiter(size_of, RATE_LIMIT_KEYS)


async def build_server(
    hq: Hq, address: str, health: ServerHealth | None = None
) -> tuple[grpc.aio.Server, int]:
    """The server, not started, with its health statuses as of now (`serve` keeps them
    current through `health`; without one they stay as built)."""
    server = grpc.aio.server(
        interceptors=[Guard(RULES, identify(hq), rate_limiter(hq))],
        options=server_options(
            [
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.server.max_pending_requests", MAX_PENDING_CALLS),
                ("grpc.server.max_pending_requests_hard_limit", MAX_PENDING_CALLS),
            ]
        ),
    )
    branch_pb2_grpc.add_BranchServiceServicer_to_server(BranchServicer(hq), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(hq), server)
    health = health or ServerHealth(hq)
    health.register(server)
    reflection.enable(server, (BRANCH_SERVICE, ADMIN_SERVICE, HEALTH_SERVICE))
    port = add_port(server, address, hq.tls)
    await health.update()
    return server, port


async def serve(
    hq: Hq,
    address: str,
    ready: asyncio.Event | None = None,
    web: WebListen | None = None,
    history_every: timedelta = history.DEFAULT_INTERVAL,
    metrics: MetricsListen | None = None,
) -> None:
    """Take office (or follow), serve until SIGTERM/SIGINT (or cancellation), then stop cleanly.

    With `web`, the back office too (same event loop); with `metrics`, Prometheus /metrics; the
    history sampler always runs.
    """
    tracker = handover.TurnkeyTracker() if hq.reports.turnkey_root is not None else None
    state = AlertState(tracker)  # the notifier's view of HQ, for its mails and for metrics
    exporter = await start_metrics(hq, metrics, state)
    await hq.coordinator.start()
    await hq.presence.start()
    await hq.config_bus.start(hq.hub.notify)
    health = ServerHealth(hq)
    server, port = await build_server(hq, address, health)
    await server.start()
    watcher = asyncio.create_task(health.run())
    host = address.rsplit(":", 1)[0]
    mode = "mutual TLS" if hq.tls is not None else "INSECURE: no TLS, nobody authenticated"
    print(f"HQ {hq.head_ban} serving on {host}:{port} ({mode}; db {hq.store.safe_url})", flush=True)
    office = await start_back_office(hq, web)
    scheduler = asyncio.create_task(hq.run_quota_scheduler())
    sampler = asyncio.create_task(history.run_sampler(hq.write, history_every))
    turnkey = None
    if hq.reports.turnkey_root is not None:
        turnkey = asyncio.create_task(handover.run_turnkey_poll(hq))
    stop = asyncio.Event()
    alerts = None
    if hq.notifier_config is not None:
        notifier = NotifierService(hq.store, hq.coordinator, hq.clock, hq.notifier_config, state)
        alerts = asyncio.create_task(notifier.run(stop))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        stop.set()
        await health.shutdown()
        watcher.cancel()
        scheduler.cancel()
        sampler.cancel()
        if turnkey is not None:
            turnkey.cancel()
        if office is not None:
            await office.stop()
        if exporter is not None:
            await exporter.stop()
        if alerts is not None:
            await alerts
        await server.stop(grace=2)
        await hq.config_bus.stop()
        await hq.presence.stop()
        await hq.coordinator.stop()
        hq.store.close()


async def start_metrics(
    hq: Hq, listen: MetricsListen | None, state: AlertState
) -> MetricsServer | None:
    """The hot paths' hooks, then /metrics; `state` is the notifier's view of HQ."""
    if listen is None:
        return None
    metrics = HqMetrics()
    hq.grant_observer = metrics
    hq.store.observe_commits(metrics)
    exporter = await metrics.serve(hq, listen, state)
    print(f"HQ {hq.head_ban} metrics on {exporter.url}", flush=True)
    return exporter


async def start_back_office(hq: Hq, web: WebListen | None) -> BackOffice | None:
    if web is None:
        return None
    office = BackOffice(hq, web.tls)
    port = await office.start(web.address)
    scheme = "https" if web.tls is not None else "http (INSECURE, loopback only)"
    host = web.address.rsplit(":", 1)[0]
    print(f"HQ back office on {scheme}://{host}:{port}/", flush=True)
    return office
