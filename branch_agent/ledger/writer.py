"""The ledger's writer: every change goes through one group commit (runtime.group_commit), so
concurrent POS calls share one fsync and a number reaches a POS only once it is durable.

A change is a `Command` applied to the in-memory buffer and the ledger in the same savepoint.
If a commit fails, nothing of the batch happened: the buffer is rebuilt from the ledger before
anything else is applied (tried again with every batch until it works).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from allocator import DomainError
from branch_agent.buffer.state import BufferState
from branch_agent.errors import LedgerUnavailable
from branch_agent.ledger.commands import Command, NextNumbers
from branch_agent.ledger.store import Ledger
from branch_agent.ledger.tx import Tx
from runtime.clock import Clock
from runtime.group_commit import GroupCommit, Limits, Together
from runtime.metrics import NO_METRICS, BatchObserver

log = logging.getLogger(__name__)
# A lone call on a disk that commits faster than this is written on the event loop.
LIMITS = Limits(max_batch=1024, inline_below_seconds=0.001)


class LedgerTransactions:
    """The ledger as group commit's storage; keeps the buffer in step with what committed."""

    def __init__(self, ledger: Ledger, state: BufferState) -> None:
        self._ledger = ledger
        self._state = state
        self._stale = False  # the buffer may be ahead of the ledger

    @contextlib.contextmanager
    def begin(self, key: Hashable) -> Iterator[Tx]:
        if self._stale:
            self._state.reset(self._ledger.load())
            self._stale = False
        with self._ledger.transaction() as tx:
            yield tx

    def savepoint(self, tx: Tx) -> contextlib.AbstractContextManager[object]:
        return tx.savepoint()

    def refusal(self, error: Exception) -> Exception | None:
        return error if isinstance(error, DomainError) else None

    def lost(self, error: Exception) -> Exception:
        log.error("ledger commit failed (%s); the buffer is reloaded from the ledger", error)
        self._stale = True
        with contextlib.suppress(Exception):
            self._state.reset(self._ledger.load())
            self._stale = False
        return LedgerUnavailable(f"the ledger could not commit: {error}")


class Writer:
    def __init__(
        self, ledger: Ledger, state: BufferState, clock: Clock, observer: BatchObserver = NO_METRICS
    ) -> None:
        self._state = state
        self._clock = clock
        self._commit = GroupCommit(
            LedgerTransactions(ledger, state),
            lambda: LedgerUnavailable("the agent is shutting down"),
            LIMITS,
            observer,
        )

    @property
    def commits(self) -> int:
        return self._commit.commits

    @property
    def commands(self) -> int:
        return self._commit.changes

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each batch (the refill looks at the buffer again)."""
        self._commit.after_commit(callback)

    async def stop(self) -> None:
        """Finish what is queued, then refuse new commands."""
        await self._commit.close()

    async def submit(self, command: Command) -> Any:
        """Apply `command` durably and return its result (or raise its domain error)."""
        if isinstance(command, NextNumbers):  # the batch's POS calls share their statements
            return await self._commit.submit(Together(NextNumbers, command, self._hand_out))
        return await self._commit.submit(
            lambda tx: command.apply(self._state, tx, self._clock.now())
        )

    def _hand_out(self, tx: Tx, calls: list[NextNumbers]) -> list[Any]:
        return NextNumbers.apply_all(self._state, tx, self._clock.now(), calls)
