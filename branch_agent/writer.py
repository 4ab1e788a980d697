"""Group commit: one task owns every change, so concurrent POS calls share one fsync.

Callers `submit` a command and await its result. The writer drains whatever is queued, applies
the batch in order in a worker thread inside one transaction (a savepoint per command, so one
refused request does not undo the others), commits once, and only then resolves the futures:
a number reaches a POS only after it is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from allocator import DomainError
from branch_agent.commands import Command
from branch_agent.errors import LedgerUnavailable
from branch_agent.ledger import Ledger
from branch_agent.state import BufferState
from runtime.clock import Clock

log = logging.getLogger(__name__)
MAX_BATCH = 1024
INLINE_COMMIT_SECONDS = 0.001  # commits faster than this may block the loop (see _commit)
COMMIT_AVERAGE_WEIGHT = 0.2


@dataclass(slots=True)
class _Queued:
    command: Command
    future: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class Writer:
    def __init__(self, ledger: Ledger, state: BufferState, clock: Clock) -> None:
        self._ledger = ledger
        self._state = state
        self._clock = clock
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._closing = False
        self._stale = False  # the buffer may be ahead of the ledger
        self.commits = 0
        self.commands = 0
        self._commit_seconds = 0.0  # moving average of a commit's time

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each batch (the refill looks at the buffer again)."""
        self._after_commit.append(callback)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ledger-writer")

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        self._closing = True
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def submit(self, command: Command) -> Any:
        """Apply `command` durably and return its result (or raise its domain error)."""
        if self._task is None or self._closing:
            raise LedgerUnavailable("the agent is shutting down")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(command, future))
        # A cancelled caller cancels only its own future; the writer skips done futures, and a
        # number already durable stays issued (a POS retry with its request id gets it back).
        return await future

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            # Let the calls that are ready to run queue up behind this one first: a burst is
            # then one batch and one fsync, not one commit each while the loop is blocked.
            await asyncio.sleep(0)
            batch: list[_Queued] = []
            item: _Queued | None = first
            while item is not None:
                batch.append(item)
                if len(batch) >= MAX_BATCH or self._queue.empty():
                    break
                item = self._queue.get_nowait()
            stopping = item is None
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: Sequence[_Queued]) -> None:
        commands = [q.command for q in batch]
        started = time.perf_counter()
        if len(batch) == 1 and self._commit_seconds < INLINE_COMMIT_SECONDS:
            # A lone call on a fast disk: the thread hop would cost more than the commit's
            # brief block of the loop. On a slow disk the loop must keep taking calls meanwhile,
            # so they queue up into the next batch: commit in the worker thread.
            outcomes = self._write(commands)
        else:
            outcomes = await asyncio.to_thread(self._write, commands)
        took = time.perf_counter() - started
        self._commit_seconds += (took - self._commit_seconds) * COMMIT_AVERAGE_WEIGHT
        for queued, outcome in zip(batch, outcomes, strict=True):
            if queued.future.done():
                continue
            if isinstance(outcome, _Failed):
                queued.future.set_exception(outcome.error)
            else:
                queued.future.set_result(outcome)
        for callback in self._after_commit:
            callback()

    def _write(self, commands: Sequence[Command]) -> list[Any]:
        """In the worker thread: the whole batch in one transaction, one fsync.

        If the commit fails, nothing of the batch happened: the buffer is rebuilt from the
        ledger before anything else is applied (retried with every batch until it works).
        """
        try:
            if self._stale:
                self._state.reset(self._ledger.load())
                self._stale = False
            with self._ledger.transaction() as tx:
                outcomes = [self._apply(command, tx) for command in commands]
        except Exception as error:
            log.exception("ledger commit failed; the buffer is reloaded from the ledger")
            self._stale = True
            with contextlib.suppress(Exception):
                self._state.reset(self._ledger.load())
                self._stale = False
            failed = _Failed(LedgerUnavailable(f"the ledger could not commit: {error}"))
            return [failed] * len(commands)
        self.commits += 1
        self.commands += len(commands)
        return outcomes

    def _apply(self, command: Command, tx: Any) -> Any:
        try:
            with tx.savepoint():
                return command.apply(self._state, tx, self._clock.now())
        except DomainError as error:
            return _Failed(error)
