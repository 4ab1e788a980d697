"""The metrics port: what the hot paths tell, and the no-op they tell it to by default.

The hot paths (the group commit of the agent's ledger and of HQ's store, HQ's grants, the POS
use case) call one of these hooks with what they already know, in one line. Without
`--metrics-listen` the hook is `NO_METRICS`, which does nothing, so the domain and the hot paths
import nothing of Prometheus and a server without metrics pays one empty method call. The
Prometheus side is `runtime.metrics.server` (HTTP, TLS) and each process's own `metrics` module
(its registry).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, TypeVar

T = TypeVar("T")

# Latency buckets in seconds, doubling from 100 us (a POS call on a fast disk) to 6.5 s (a
# commit stuck behind a slow disk): the shape of etcd's wal_fsync_duration_seconds.
SECONDS_BUCKETS = tuple(0.0001 * 2**i for i in range(17))
BATCH_BUCKETS = tuple(float(2**i) for i in range(11))  # 1 .. 1024 items per commit


class BatchObserver(Protocol):
    """A group commit: one call per commit, with how many items it carried and its seconds."""

    def committed(self, size: int, seconds: float) -> None: ...


class GrantObserver(Protocol):
    """HQ's grants: each RequestRange (awaited through `observe`: its seconds and outcome),
    and each batch of them decided together in one savepoint."""

    async def observe(self, request: Awaitable[T]) -> T: ...

    def batched(self, size: int) -> None: ...


class NumbersObserver(Protocol):
    """The agent's NextNumbers: numbers handed to a POS, and the call's seconds."""

    def handed_out(self, count: int, seconds: float) -> None: ...


class NoMetrics:
    """Every hook, doing nothing: the default wherever metrics are off."""

    def committed(self, size: int, seconds: float) -> None:
        pass

    async def observe(self, request: Awaitable[T]) -> T:
        return await request

    def batched(self, size: int) -> None:
        pass

    def handed_out(self, count: int, seconds: float) -> None:
        pass


NO_METRICS = NoMetrics()
