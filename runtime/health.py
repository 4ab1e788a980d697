"""grpc.health.v1 for our servers: statuses set from a rule re-read on a short period.

Both HQ (hq_server/health.py) and the agent (branch_agent/pos/service.py) decide what each of
their service names means; this only shows it: a name's status is set when it changes, and the
loop that re-reads the rule never stops on an error (a health that stopped would lie).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

_STATUS = {
    True: health_pb2.HealthCheckResponse.SERVING,
    False: health_pb2.HealthCheckResponse.NOT_SERVING,
}


class HealthBoard:
    """A server's health service: SERVING (True) or NOT_SERVING (False) per name."""

    def __init__(self) -> None:
        self.servicer = health_aio.HealthServicer()
        self.shown: dict[str, bool] = {}

    def register(self, server: grpc.aio.Server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)

    async def show(self, serving: Mapping[str, bool]) -> bool:
        """Set the names whose status changed; whether any had been shown otherwise before."""
        changed = False
        for name, ok in serving.items():
            if self.shown.get(name) is not ok:
                await self.servicer.set(name, _STATUS[ok])
                changed = changed or name in self.shown
                self.shown[name] = ok
        return changed

    async def shutdown(self) -> None:
        """Every name NOT_SERVING, and kept so, before the server stops taking calls."""
        await self.servicer.enter_graceful_shutdown()


async def keep_updated(
    update: Callable[[], Awaitable[object]], every: float, log: logging.Logger
) -> None:
    """Run `update` every `every` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        try:
            await update()
        except Exception:  # the next round tries again; the error is in the log
            log.exception("health: could not read the state it reports")
