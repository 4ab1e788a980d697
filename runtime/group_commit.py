"""Group commit: many concurrent changes, one transaction, one fsync.

Callers `submit` a change (a function of the open transaction) and await its result. One drain
task takes what is queued (up to `max_batch`, all with the caller's `key`: the HQ never mixes
two fencing tokens in one transaction), runs the batch in a worker thread inside one
transaction, each change in its own savepoint so that a refused one rolls back alone, commits
once, and only then resolves the futures: a result reaches its caller only once it is durable.

The one primitive of the branch agent's ledger and the HQ store; what a transaction, a
savepoint and a refusal are is the storage's business (`Transactions`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from runtime.metrics import NO_METRICS, BatchObserver

Tx = TypeVar("Tx")
AVERAGE_WEIGHT = 0.2  # of the moving average of a commit's duration


class Transactions(Protocol[Tx]):
    """How a storage runs a batch: its transaction, savepoints and errors."""

    def begin(self, key: Hashable) -> AbstractContextManager[Tx]:
        """Open a transaction for changes of `key`; commit it on a clean exit."""
        ...

    def savepoint(self, tx: Tx) -> AbstractContextManager[object]: ...

    def refusal(self, error: Exception) -> Exception | None:
        """The error one change's caller gets, or None when the whole transaction is lost."""
        ...

    def lost(self, error: Exception) -> Exception:
        """What every caller of a batch whose transaction failed gets (nothing was written)."""
        ...


@dataclass(frozen=True, slots=True)
class Failed:
    error: Exception


class _RolledBack(Exception):
    """A lone run's refusal, raised out of its transaction so that nothing of it commits."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True, slots=True)
class Together(Generic[Tx]):
    """A change decided together with the others of its `kind` queued next to it, in one
    savepoint: `apply_all(tx, items)` reads their shared state once (the HQ's grants at a
    period-start burst) and returns one result or exception per item, in order."""

    kind: Hashable
    item: Any
    apply_all: Callable[[Tx, list[Any]], list[Any]]


Change = Callable[[Tx], Any] | Together[Tx]


@dataclass(slots=True)
class _Queued:
    key: Hashable
    change: Change[Any]
    future: asyncio.Future[Any]


@dataclass(frozen=True, slots=True)
class Limits:
    max_batch: int = 256
    # A lone change on storage that commits faster than this runs on the event loop: the hop to
    # a worker thread would cost more than the commit's brief block. 0: always in the thread.
    inline_below_seconds: float = 0.0


class GroupCommit(Generic[Tx]):
    def __init__(
        self,
        transactions: Transactions[Tx],
        closed: Callable[[], Exception],
        limits: Limits = Limits(),
        observer: BatchObserver = NO_METRICS,
    ) -> None:
        self.observer = observer  # each commit's size and seconds (runtime.metrics)
        self._transactions = transactions
        self._closed = closed
        self._limits = limits
        self._queue: deque[_Queued] = deque()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._after_commit: list[Callable[[], None]] = []
        self._commit_seconds = 0.0
        self.commits = 0
        self.changes = 0

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the event loop after each batch."""
        self._after_commit.append(callback)

    async def submit(self, change: Change[Tx], key: Hashable = None) -> Any:
        """Apply `change` durably, shared with the changes queued meanwhile; its result."""
        if self._closing:
            raise self._closed()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(key, change, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="group-commit")
        # A cancelled caller cancels only its own future: its change, once durable, stays (a
        # retry with the same request id gets it back).
        return await future

    async def close(self) -> None:
        """Refuse new changes; finish those queued."""
        self._closing = True
        if self._task is not None:
            await self._task

    async def _drain(self) -> None:
        # Let the callers that are ready to run queue up first: a burst becomes one batch.
        await asyncio.sleep(0)
        while self._queue:
            batch = self._take()
            outcomes = await self._commit([q.change for q in batch], batch[0].key)
            for queued, outcome in zip(batch, outcomes, strict=True):
                if queued.future.done():
                    continue
                if isinstance(outcome, Failed):
                    queued.future.set_exception(outcome.error)
                else:
                    queued.future.set_result(outcome)
            for callback in self._after_commit:
                callback()

    def _take(self) -> list[_Queued]:
        """The oldest change and those after it with the same key, in order."""
        key = self._queue[0].key
        batch: list[_Queued] = []
        others: list[_Queued] = []
        while self._queue and len(batch) < self._limits.max_batch:
            item = self._queue.popleft()
            (batch if item.key == key else others).append(item)
        self._queue.extendleft(reversed(others))
        return batch

    async def _commit(self, changes: Sequence[Change[Tx]], key: Hashable) -> list[Any]:
        started = time.perf_counter()
        if len(changes) == 1 and self._commit_seconds < self._limits.inline_below_seconds:
            outcomes = self._write(changes, key)
        else:
            outcomes = await asyncio.to_thread(self._write, changes, key)
        took = time.perf_counter() - started
        self._commit_seconds += (took - self._commit_seconds) * AVERAGE_WEIGHT
        self.observer.committed(len(changes), took)
        return outcomes

    def _write(self, changes: Sequence[Change[Tx]], key: Hashable) -> list[Any]:
        """In the worker thread: the whole batch in one transaction."""
        runs = list(_runs(changes))
        try:
            with self._transactions.begin(key) as tx:
                if len(runs) == 1:
                    outcomes = self._apply_alone(tx, runs[0])
                else:
                    outcomes = list(self._apply_each(tx, runs))
        except _RolledBack as refused:  # the one run was refused: nothing was written
            return [Failed(refused.error)] * len(changes)
        except Exception as error:  # the transaction is lost: nothing of the batch happened
            return [Failed(self._transactions.lost(error))] * len(changes)
        self.commits += 1
        self.changes += len(changes)
        return outcomes

    def _apply_alone(self, tx: Tx, group: list[Change[Tx]]) -> list[Any]:
        """A batch of one run needs no savepoint (two statements): the transaction is the
        savepoint, rolled back whole if the run is refused, the same outcome as in one."""
        try:
            results = _apply(tx, group)
        except Exception as error:
            refused = self._transactions.refusal(error)
            if refused is None:
                raise
            raise _RolledBack(refused) from error
        return [self._outcome(r) for r in results]

    def _apply_each(self, tx: Tx, runs: Sequence[list[Change[Tx]]]) -> Iterator[Any]:
        for group in runs:
            try:
                with self._transactions.savepoint(tx):
                    results = _apply(tx, group)
            except Exception as error:
                refused = self._transactions.refusal(error)
                if refused is None:
                    raise
                yield from [Failed(refused)] * len(group)
            else:
                yield from (self._outcome(r) for r in results)

    def _outcome(self, result: Any) -> Any:
        if not isinstance(result, Exception):
            return result
        refused = self._transactions.refusal(result)
        if refused is None:
            raise result
        return Failed(refused)


def _runs(changes: Sequence[Change[Tx]]) -> Iterator[list[Change[Tx]]]:
    """Plain changes one by one; neighbouring `Together` changes of one kind as one group."""
    group: list[Change[Tx]] = []
    for change in changes:
        joins = (
            isinstance(change, Together)
            and group
            and isinstance(group[0], Together)
            and group[0].kind == change.kind
        )
        if group and not joins:
            yield group
            group = []
        group.append(change)
    if group:
        yield group


def _apply(tx: Tx, group: list[Change[Tx]]) -> list[Any]:
    first = group[0]
    if isinstance(first, Together):
        return first.apply_all(tx, [c.item for c in group])  # type: ignore[union-attr]
    return [first(tx)]
