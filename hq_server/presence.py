"""Which branches are online now: the `Presence` port and its no-op for one process.

The cluster implementation (etcd_presence.EtcdPresence) keeps a key per connected branch in
etcd, so the notifier can ask which branches have an open config stream on any replica.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol


class Presence(Protocol):
    """Marks a branch online at this replica while a WatchConfig stream is open."""

    def hold(self, ban: str) -> AbstractContextManager[None]:
        """For the duration of the with-block; never blocks, never fails the stream."""

    async def online(self) -> dict[str, str] | None:
        """Branches with an open config stream on any replica: BAN -> replica address.

        None where nobody tracks it (one process without etcd).
        """

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class NoPresence:
    """One HQ process: nobody else needs to know, so nothing is recorded."""

    @contextlib.contextmanager
    def hold(self, ban: str) -> Iterator[None]:
        yield

    async def online(self) -> dict[str, str] | None:
        return None

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass
