"""The config bus over etcd: bump /einv/<head_ban>/config-version, every replica watches it."""

from __future__ import annotations

import asyncio
import json
import logging

import aetcd

from hq_server.config_bus import Notify
from hq_server.etcd_client import EtcdError, Keys, cancelling

log = logging.getLogger("einv.hq.config")
RETRY_SECONDS = 0.5


class EtcdConfigBus:
    def __init__(self, client: aetcd.Client, keys: Keys, advertise: str) -> None:
        self._client = client
        self._key = keys.config_version
        self._advertise = advertise
        self._task: asyncio.Task[None] | None = None

    async def start(self, notify: Notify) -> None:
        self._task = asyncio.create_task(self._watch(notify))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def publish(self, bans: list[str] | None) -> None:
        body = json.dumps({"from": self._advertise, "bans": bans})
        await self._client.put(self._key, body.encode())

    async def _watch(self, notify: Notify) -> None:
        while True:
            try:
                # A range read has a revision even when the key does not exist yet.
                seen = await self._client.get_prefix(self._key)
                async with cancelling(
                    await self._client.watch(self._key, start_revision=seen.header.revision + 1)
                ) as watch:
                    async for event in watch:
                        self._deliver(event.kv.value, notify)
            except EtcdError as error:
                log.info("config-version watch interrupted (%s); watching again", error)
            await asyncio.sleep(RETRY_SECONDS)
            notify(None)  # changes may have been missed meanwhile: every stream re-reads

    def _deliver(self, value: bytes, notify: Notify) -> None:
        try:
            message = json.loads(value)
            sender, bans = message["from"], message["bans"]
        except (ValueError, TypeError, KeyError):
            sender, bans = None, None  # unreadable: wake every stream rather than none
        if sender != self._advertise:  # the writer woke its own streams already
            notify(bans)
