"""Who may write: the `Coordinator` port and its single-process implementation.

The etcd implementation (cluster mode) campaigns on a lease and uses its election key's create
revision as the fencing token; the local one simply takes office at start. Either way the token
is written into the database, and every write transaction checks it (store.check_fence).
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from hq_server.store import Store
from runtime.clock import Clock
from runtime.errors import NotLeader

log = logging.getLogger("einv.hq")


class Coordinator(Protocol):
    """Leadership of one HQ: the fencing token while leading, where the leader is otherwise."""

    async def start(self) -> None:
        """Begin campaigning; returns once this replica leads or follows a known leader."""

    async def stop(self) -> None:
        """Resign and release resources."""

    def token(self) -> int:
        """The fencing token of this replica's term; raises NotLeader when it does not lead."""

    def leader_address(self) -> str | None:
        """The address of the replica that leads now, if known."""

    def fenced(self) -> None:
        """A write of this term found another token stored: stop leading (and campaign again,
        where there is an election)."""


@runtime_checkable
class EtcdSession(Protocol):
    """A coordinator on etcd (cluster mode) says whether its etcd session (lease) is alive."""

    def has_session(self) -> bool: ...


class LocalCoordinator:
    """One HQ process owns the database: it takes office at once with the next token."""

    def __init__(self, store: Store, address: str, clock: Clock) -> None:
        self._store = store
        self._address = address
        self._clock = clock
        self._token: int | None = None

    async def start(self) -> None:
        self._token = self._store.take_office(self._address, self._clock.now())

    async def stop(self) -> None:
        self._token = None

    def token(self) -> int:
        if self._token is None:
            raise NotLeader("this HQ has not taken office", leader=None)
        return self._token

    def leader_address(self) -> str | None:
        return self._address if self._token is not None else None

    def fenced(self) -> None:
        # Another process took office on this database; taking it back would make two HQs
        # fence each other in turn, so this one stops writing and says so.
        if self._token is not None:
            log.error(
                "fenced: another HQ process took office on this database; this one writes "
                "nothing more (stop one of them)"
            )
        self._token = None
