"""Configuration changes reach every replica's agents: the `ConfigBus` port.

A replica that changes a quota or a range's status wakes its own WatchConfig streams directly
(ConfigHub). In a cluster the agents of the other replicas must hear of it too, within a
second: the writer bumps /einv/<head_ban>/config-version and every replica watches that key
(etcd_config_bus.EtcdConfigBus).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Notify = Callable[[list[str] | None], None]  # ConfigHub.notify: None means every branch


class ConfigBus(Protocol):
    async def start(self, notify: Notify) -> None:
        """Begin calling `notify` for changes made on other replicas."""

    async def stop(self) -> None: ...

    async def publish(self, bans: list[str] | None) -> None:
        """Tell the other replicas that these branches' (None: all) configuration changed."""


class LocalConfigBus:
    """One HQ process: its ConfigHub already heard; there is nobody else to tell."""

    async def start(self, notify: Notify) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, bans: list[str] | None) -> None:
        pass
