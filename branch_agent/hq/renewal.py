"""Keeps the store's certificate fresh: a new key and certificate at two thirds of its life."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from allocator import DomainError
from branch_agent.hq import identity as ident
from branch_agent.hq.client import HqClient
from branch_agent.tasks import raise_if_cancelling
from runtime import pki
from runtime.backoff import Backoff
from runtime.logs import Repeating

log = logging.getLogger(__name__)
RETRY_MIN, RETRY_MAX = 5.0, 600.0
LONGEST_NAP = 3600.0  # wake at least hourly: a suspended machine's clock may have jumped


@dataclass
class Renewal:
    identity: ident.BranchIdentity
    hq: HqClient
    data_dir: Path
    renewals: int = 0
    _log: Repeating = field(default_factory=lambda: Repeating(log, "certificate renewal"))

    async def run(self) -> None:
        backoff = Backoff(RETRY_MIN, RETRY_MAX)
        while True:
            wait = (self.identity.renew_at - pki.now_utc()).total_seconds()
            if wait > 0:
                await asyncio.sleep(min(wait, LONGEST_NAP))
                continue
            try:
                await self.renew_now()
                backoff.reset()
                self._log.recovered()
            except DomainError as error:
                raise_if_cancelling()
                left = self.identity.not_after - pki.now_utc()
                self._log.failed(error, note=f"{left} left")
                await backoff.sleep()

    async def renew_now(self) -> None:
        fresh = await ident.renew(self.identity, self.hq, self.data_dir)
        await self.hq.use(fresh.tls)
        self.identity = fresh
        self.renewals += 1
        log.info("certificate renewed: valid until %s", fresh.not_after.isoformat())
