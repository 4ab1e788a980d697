"""Token buckets per caller identity (the MOF platform's own API rules ask for 流量管制).

Pure bookkeeping: time comes from the caller (a monotonic clock), so tests can drive it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BucketSize:
    """`burst` calls at once, then `per_second` on average."""

    burst: float
    per_second: float

    def __post_init__(self) -> None:
        if not (self.burst >= 1 and self.per_second > 0):
            raise ValueError(f"a rate limit needs burst >= 1 and rate > 0, not {self}")


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated: float

    def take(self, size: BucketSize, now: float) -> tuple[Bucket, float]:
        """The bucket after one call, and 0, or the seconds to wait when it is empty."""
        tokens = min(size.burst, self.tokens + (now - self.updated) * size.per_second)
        if tokens >= 1:
            return Bucket(tokens - 1, now), 0.0
        return Bucket(tokens, now), (1 - tokens) / size.per_second


class RateLimiter:
    """One bucket per key, the size chosen by the key's class; the least recent keys age out."""

    def __init__(self, size_of: Callable[[Hashable], BucketSize | None], capacity: int) -> None:
        self._size_of = size_of
        self._capacity = capacity
        self._buckets: OrderedDict[Hashable, Bucket] = OrderedDict()

    def take(self, key: Hashable, now: float) -> float:
        """0 when the call may go ahead, else how long the caller should wait (seconds)."""
        size = self._size_of(key)
        if size is None:
            return 0.0
        bucket = self._buckets.pop(key, None) or Bucket(size.burst, now)
        bucket, wait = bucket.take(size, now)
        self._buckets[key] = bucket
        if len(self._buckets) > self._capacity:
            self._buckets.popitem(last=False)  # an idle key starts again with a full bucket
        return wait
