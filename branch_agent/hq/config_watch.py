"""Follows HQ's WatchConfig stream and keeps the latest configuration in the ledger."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from allocator import BranchDisabled, DomainError
from branch_agent.hq.client import HqPort
from branch_agent.ledger.commands import MarkDisabled, SetConfig
from branch_agent.ledger.writer import Writer
from branch_agent.model import AgentConfig
from branch_agent.tasks import raise_if_cancelling
from runtime.backoff import Backoff
from runtime.logs import Repeating

log = logging.getLogger(__name__)


@dataclass
class ConfigWatcher:
    branch_ban: str
    hq: HqPort
    writer: Writer
    on_change: Callable[[], None]
    backoff_min: float = 0.2
    backoff_max: float = 10.0
    disabled_retry: float = 30.0
    _log: Repeating = field(default_factory=lambda: Repeating(log, "configuration stream from HQ"))

    async def _apply(self, config: AgentConfig) -> None:
        if await self.writer.submit(SetConfig(config)):
            log.info("configuration version %s from HQ", config.version)
            self.on_change()

    async def run(self) -> None:
        backoff = Backoff(self.backoff_min, self.backoff_max)
        while True:
            try:
                async for config in self.hq.watch_config(self.branch_ban):
                    backoff.reset()
                    self._log.recovered()
                    await self._apply(config)
            except BranchDisabled as error:
                raise_if_cancelling()
                # HQ refuses this branch until an operator enables it: stop refilling now
                # (kept in the ledger across restarts), and ask again now and then.
                if await self.writer.submit(MarkDisabled()):
                    self.on_change()
                self._log.failed(error, note="HQ disabled this branch")
                await asyncio.sleep(self.disabled_retry)
                continue
            except DomainError as error:
                raise_if_cancelling()
                self._log.failed(error)
            except Exception as error:  # a bad message must not end the watch for good
                raise_if_cancelling()
                self._log.failed(error, logging.ERROR, exc_info=True)
            await backoff.sleep()
